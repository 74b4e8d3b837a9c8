-- Each county's scoring schemes, versioned (1, 2, … per county), and the frozen
-- year-end assessments. Dates as ISO text (YYYY-MM-DD, which sorts as dates), times as
-- epoch milliseconds (UTC).

CREATE TABLE schemes (
    county_code TEXT NOT NULL,
    version BIGINT NOT NULL,
    name TEXT NOT NULL,
    toml TEXT NOT NULL,
    hash TEXT NOT NULL,
    in_force_from TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, version)
);

CREATE TABLE freezes (
    county_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    scheme_version BIGINT,
    versions TEXT NOT NULL,
    frozen_by TEXT NOT NULL,
    frozen_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, year)
);
