-- The communities whose public 晒 page (/public/<社区代码>) is on: a row means on. Who
-- turned it on and when (epoch milliseconds, UTC); whether cadres appear by name
-- (show_names = 1) or by role only (0).

CREATE TABLE public_pages (
    community_code TEXT PRIMARY KEY,
    show_names BIGINT NOT NULL,
    enabled_by TEXT NOT NULL,
    enabled_at BIGINT NOT NULL
);
