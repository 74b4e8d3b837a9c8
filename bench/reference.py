#!/usr/bin/env python3
"""Reference implementation of the data contract's figures in DuckDB SQL.

An implementation written from ../shared/spec/data-contract.md alone, independent of
yishi's Rust code, for two jobs: the report benchmark runs "the same definitions on the
same Parquet files" beside yishi, and the figures cross-check yishi's.

    python3 bench/reference.py WAREHOUSE REPORT --year Y [--quarter Q] [--county C]
                               [--out FILE] [--time]

REPORT is one of quarterly, quarterly_by_category, quarterly_by_channel, cadres,
communities, counties. The answer is a JSON array of row objects (nulls as null, floats
at full precision) sorted by the key columns; `--time` prints only the wall time in
seconds of reading the Delta logs and running the query (no JSON).

Tables are read as Delta tables: the live files are found by replaying the log (a
checkpoint, then the JSON commits after it), never by listing the folder, since an upsert
leaves files in the folder that are no longer part of the table. The partition columns
come from the file paths (`county_code` as text, `year` as an integer) and are used only
to prune files; every period is decided from the period date itself. The years in scope
come from the per-file min/max statistics of the date columns in the log (a scan of the
column when a file has none).

The scoring scheme is the contract's default (see SCHEME below).
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.parse

import duckdb

TABLES = ("communities", "cadres", "sessions", "topics", "evaluations", "rectifications")

# The contract's default scoring scheme.
SCHEME = {
    "cadre": {"completion_rate": 30, "on_time_rate": 20, "satisfaction_index": 35, "rectification_rate": 15},
    "community": {
        "completion_rate": 25,
        "on_time_rate": 15,
        "satisfaction_index": 35,
        "rectification_rate": 10,
        "publicity_rate": 10,
        "session_rate": 5,
    },
    "min_topics": 3,
    "excellent_score": 90,
    "excellent_quota": 0.2,
    "competent_score": 70,
    "basically_competent_score": 60,
    "regular_per_quarter": 6,
    "regular_per_year": 24,
}

# Verdicts that count as satisfied (basically_satisfied counts, as the contract says).
SATISFIED = "('satisfied', 'basically_satisfied')"
CLOSED = "('resolved', 'explained')"


class DeltaError(Exception):
    pass


# --------------------------------------------------------------------------------------
# Delta log replay
# --------------------------------------------------------------------------------------


def _local_path(table_dir, path):
    """A file path of an add/remove action (relative and URL-encoded, or an absolute URI)."""
    parsed = urllib.parse.urlparse(path)
    if parsed.scheme == "file":
        return urllib.parse.unquote(parsed.path)
    if parsed.scheme:
        raise DeltaError(f"{table_dir}: file {path!r} is not local; only local warehouses are supported")
    return os.path.join(table_dir, urllib.parse.unquote(path))


def _map_to_dict(value):
    """A Parquet MAP as DuckDB hands it to Python (a dict, or {'key': [...], 'value': [...]})."""
    if value is None:
        return {}
    if isinstance(value, dict) and set(value) == {"key", "value"} and isinstance(value["key"], list):
        return dict(zip(value["key"], value["value"]))
    return dict(value)


def _read_checkpoint(con, log_dir, version, parts):
    """Live adds and the metadata of a classic (single or multi-part) Parquet checkpoint."""
    if parts:
        files = [os.path.join(log_dir, f"{version:020d}.checkpoint.{i:010d}.{parts:010d}.parquet") for i in range(1, parts + 1)]
    else:
        files = [os.path.join(log_dir, f"{version:020d}.checkpoint.parquet")]
    missing = [f for f in files if not os.path.exists(f)]
    if missing:
        raise DeltaError(
            f"{log_dir}: _last_checkpoint names version {version} but {missing[0]} is missing "
            "(V2/UUID checkpoints are not supported by this reader)"
        )
    cols = {r[0] for r in con.execute("DESCRIBE SELECT * FROM read_parquet($f, union_by_name = true)", {"f": files}).fetchall()}
    adds = {}
    metadata = None
    if "add" in cols:
        for (add,) in con.execute("SELECT add FROM read_parquet($f, union_by_name = true) WHERE add IS NOT NULL", {"f": files}).fetchall():
            if add.get("deletionVector"):
                raise DeltaError(f"{log_dir}: file {add['path']} has a deletion vector; not supported")
            adds[add["path"]] = (_map_to_dict(add.get("partitionValues")), add.get("stats"))
    if "metaData" in cols:
        row = con.execute("SELECT metaData FROM read_parquet($f, union_by_name = true) WHERE metaData IS NOT NULL", {"f": files}).fetchone()
        if row:
            md = row[0]
            metadata = {
                "schemaString": md["schemaString"],
                "partitionColumns": list(md["partitionColumns"] or []),
                "configuration": _map_to_dict(md.get("configuration")),
            }
    return adds, metadata


def live_files(con, table_dir):
    """Replay a Delta table's log: ({path: (partitionValues, stats JSON or None)} of the
    live files, metaData).

    Starts from the checkpoint named by `_last_checkpoint` when there is one, then applies
    the JSON commits after it in version order (`add` makes a file live, `remove` drops it).
    Fails clearly on what this reader does not handle (deletion vectors, column mapping,
    V2 checkpoints, a log with gaps)."""
    log_dir = os.path.join(table_dir, "_delta_log")
    if not os.path.isdir(log_dir):
        raise DeltaError(f"{table_dir} is not a Delta table (no _delta_log)")
    commits = {}
    for name in os.listdir(log_dir):
        m = re.fullmatch(r"(\d{20})\.json", name)
        if m:
            commits[int(m.group(1))] = os.path.join(log_dir, name)
    adds, metadata, start = {}, None, 0
    last_cp = os.path.join(log_dir, "_last_checkpoint")
    if os.path.exists(last_cp):
        with open(last_cp, encoding="utf-8") as f:
            cp = json.load(f)
        if "v2Checkpoint" in cp:
            raise DeltaError(f"{log_dir}: V2 checkpoints are not supported by this reader")
        adds, metadata = _read_checkpoint(con, log_dir, int(cp["version"]), cp.get("parts"))
        start = int(cp["version"]) + 1
    elif commits and min(commits) != 0:
        raise DeltaError(f"{log_dir}: the log starts at version {min(commits)} and there is no _last_checkpoint")
    versions = sorted(v for v in commits if v >= start)
    expected = start
    for v in versions:
        if v != expected:
            raise DeltaError(f"{log_dir}: commit {expected:020d}.json is missing")
        expected += 1
        with open(commits[v], encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                action = json.loads(line)
                if "add" in action:
                    a = action["add"]
                    if a.get("deletionVector"):
                        raise DeltaError(f"{log_dir}: file {a['path']} has a deletion vector; not supported")
                    adds[a["path"]] = (a.get("partitionValues") or {}, a.get("stats"))
                elif "remove" in action:
                    adds.pop(action["remove"]["path"], None)
                elif "metaData" in action:
                    md = action["metaData"]
                    metadata = {
                        "schemaString": md["schemaString"],
                        "partitionColumns": md.get("partitionColumns") or [],
                        "configuration": md.get("configuration") or {},
                    }
    if metadata is None:
        raise DeltaError(f"{log_dir}: no metaData action found")
    mode = metadata["configuration"].get("delta.columnMapping.mode", "none")
    if mode != "none":
        raise DeltaError(f"{log_dir}: column mapping mode {mode!r} is not supported")
    return {_local_path(table_dir, p): f for p, f in adds.items()}, metadata


DUCK_TYPES = {
    "string": "VARCHAR",
    "date": "DATE",
    "long": "BIGINT",
    "integer": "INTEGER",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
    "float": "FLOAT",
    "timestamp": "TIMESTAMPTZ",
    "timestamp_ntz": "TIMESTAMP",
}


def register_tables(con, warehouse, county=None):
    """One view per contract table over its live Parquet files, pruned to `county`.
    Returns {table: {path: (partitionValues, stats)}} of the files in scope."""
    con.execute("SET parquet_metadata_cache = true")
    in_scope = {}
    for table in TABLES:
        table_dir = os.path.join(warehouse, table)
        files, metadata = live_files(con, table_dir)
        schema = json.loads(metadata["schemaString"])
        types = {f["name"]: DUCK_TYPES.get(f["type"], "VARCHAR") if isinstance(f["type"], str) else "VARCHAR" for f in schema["fields"]}
        if county is not None:
            files = {p: f for p, f in files.items() if f[0].get("county_code") == county}
        in_scope[table] = files
        if files:
            file_list = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in sorted(files)) + "]"
            hive = ", ".join(f"'{c}': {types[c]}" for c in metadata["partitionColumns"])
            con.execute(
                f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({file_list}, "
                f"hive_partitioning = true, hive_types = {{{hive}}}, union_by_name = true)"
            )
        else:
            cols = ", ".join(f'NULL::{t} AS "{n}"' for n, t in types.items())
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT {cols} LIMIT 0")
    return in_scope


# --------------------------------------------------------------------------------------
# Shared SQL
# --------------------------------------------------------------------------------------


PERIOD_DATES = {"sessions": "held_on", "topics": "raised_on", "evaluations": "evaluated_on", "rectifications": "opened_on"}


def years_in_scope(con, files):
    """(first, last) year found in held_on, raised_on, evaluated_on and opened_on of the
    tables in scope (fine print 10), or None when there is no dated row at all.

    Taken from the min/max statistics of the date column that Delta keeps for every file
    in the log (`files` as register_tables returns them), so no data is scanned; a table
    with a file without those statistics is scanned instead."""
    lows, highs = [], []
    for table, column in PERIOD_DATES.items():
        bounds = []
        for _, stats in files[table].values():
            st = json.loads(stats) if stats else {}
            lo, hi = (st.get("minValues") or {}).get(column), (st.get("maxValues") or {}).get(column)
            if st.get("numRecords") == 0:
                continue
            if lo is None or hi is None:
                bounds = None
                break
            bounds.append((int(lo[:4]), int(hi[:4])))
        if bounds is None:
            lo, hi = con.execute(f"SELECT year(min({column})), year(max({column})) FROM {table}").fetchone()
            bounds = [] if lo is None else [(lo, hi)]
        lows += [b[0] for b in bounds]
        highs += [b[1] for b in bounds]
    return (min(lows), max(highs)) if lows else None


def _ref_sql(county):
    """The communities of the reference table in scope, with their county (first 6 digits)."""
    where = f"WHERE substr(community_code, 1, 6) = '{county}'" if county else ""
    return f"SELECT DISTINCT community_code, substr(community_code, 1, 6) AS county_code FROM communities {where}"


def _rate(num, den):
    return f"CASE WHEN {den} > 0 THEN ({num})::DOUBLE / ({den}) END"


def _community_year_sql(year, county):
    """CTEs ending in `community_year`: the annual community figures and score of `year`."""
    w = SCHEME["community"]
    return f"""
    ref AS ({_ref_sql(county)}),
    s AS (
        SELECT community_code, count(*) AS sessions_held,
               count(*) FILTER (WHERE kind = 'regular') AS regular_sessions
        FROM sessions WHERE year = {year} AND year(held_on) = {year}
        GROUP BY community_code),
    t AS (
        SELECT community_code, count(*) AS topics_raised,
               count(*) FILTER (WHERE status IN {CLOSED}) AS topics_closed,
               count(*) FILTER (WHERE status IN {CLOSED} AND closed_on <= deadline) AS closed_on_time,
               count(*) FILTER (WHERE status IN {CLOSED} AND publicized_on IS NOT NULL) AS closed_publicized
        FROM topics WHERE year = {year} AND year(raised_on) = {year}
        GROUP BY community_code),
    e AS (
        SELECT community_code, count(*) AS evaluations,
               avg((attitude + efficiency + "result" + effect) / 4.0) AS dimension_mean
        FROM evaluations WHERE year = {year} AND year(evaluated_on) = {year}
        GROUP BY community_code),
    r AS (
        SELECT community_code, count(*) AS rectifications,
               count(*) FILTER (WHERE closed_on <= deadline) AS rectified_on_time
        FROM rectifications WHERE year = {year} AND year(opened_on) = {year}
        GROUP BY community_code),
    cy AS (
        SELECT ref.county_code, ref.community_code,
               coalesce(s.sessions_held, 0) AS sessions_held,
               coalesce(s.regular_sessions, 0) AS regular_sessions,
               coalesce(t.topics_raised, 0) AS topics_raised,
               coalesce(t.topics_closed, 0) AS topics_closed,
               coalesce(e.evaluations, 0) AS evaluations,
               coalesce(r.rectifications, 0) AS rectifications,
               {_rate('t.topics_closed', 't.topics_raised')} AS completion_rate,
               {_rate('t.closed_on_time', 't.topics_closed')} AS on_time_rate,
               {_rate('t.closed_publicized', 't.topics_closed')} AS publicity_rate,
               100 * (e.dimension_mean - 1) / 4 AS satisfaction_index,
               coalesce({_rate('r.rectified_on_time', 'r.rectifications')}, 1.0) AS rectification_rate,
               least(1.0, coalesce(s.regular_sessions, 0) / {SCHEME['regular_per_year']}.0) AS session_rate
        FROM ref
        LEFT JOIN s USING (community_code)
        LEFT JOIN t USING (community_code)
        LEFT JOIN e USING (community_code)
        LEFT JOIN r USING (community_code)),
    community_year AS (
        SELECT *,
               {w['completion_rate']} * coalesce(completion_rate, 0)
             + {w['on_time_rate']} * coalesce(on_time_rate, 0)
             + {w['satisfaction_index']} * coalesce(satisfaction_index, 0) / 100
             + {w['rectification_rate']} * rectification_rate
             + {w['publicity_rate']} * coalesce(publicity_rate, 0)
             + {w['session_rate']} * session_rate AS score
        FROM cy)
    """


def _rows(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------

QUARTERLY_FIGURES = [
    "sessions_held", "regular_sessions", "topics_raised", "topics_closed", "completion_rate",
    "resolution_rate", "on_time_rate", "publicity_rate", "evaluations", "satisfaction_rate",
    "attitude_mean", "efficiency_mean", "result_mean", "effect_mean", "satisfaction_index",
    "rectifications", "rectification_rate", "session_rate", "rating_coverage",
    "days_to_close_median", "days_to_close_p90",
]


def quarterly(con, year, quarter, county, scope):
    """Quarterly satisfaction analysis: one row per community of the reference table and
    quarter of `year` (or only `quarter`), empty quarters included (counts 0, rates null,
    rectification_rate 1, session_rate 0), with `<figure>_change` against the previous
    calendar quarter (null when either side is null or that quarter is before the first
    year in scope). rating_coverage counts evaluations of any date; days_to_close_* are
    closed_on − raised_on over the quarter's closed topics (median = quantile_cont 0.5)."""
    first_year = scope[0]
    prev = f"UNION ALL SELECT {year - 1}, 4 WHERE {year - 1} >= {first_year}"
    changes = ",\n".join(
        f"{f} - lag({f}) OVER (PARTITION BY community_code ORDER BY year, quarter) AS {f}_change" for f in QUARTERLY_FIGURES
    )
    qfilter = f"AND quarter = {quarter}" if quarter else ""
    sql = f"""
    WITH ref AS ({_ref_sql(county)}),
    periods AS (SELECT {year} AS py, q::INTEGER AS pq FROM range(1, 5) r(q) {prev}),
    grid AS (SELECT ref.*, periods.* FROM ref CROSS JOIN periods),
    s AS (
        SELECT community_code, year(held_on) AS py, quarter(held_on) AS pq,
               count(*) AS sessions_held,
               count(*) FILTER (WHERE kind = 'regular') AS regular_sessions
        FROM sessions WHERE year BETWEEN {year - 1} AND {year}
        GROUP BY ALL),
    rated AS (SELECT DISTINCT community_code, topic_id FROM evaluations),
    tp AS (
        SELECT tp.*, status IN {CLOSED} AS closed, r.topic_id IS NOT NULL AS has_evaluation
        FROM topics tp LEFT JOIN rated r USING (community_code, topic_id)
        WHERE tp.year BETWEEN {year - 1} AND {year}),
    t AS (
        SELECT community_code, year(raised_on) AS py, quarter(raised_on) AS pq,
               count(*) AS topics_raised,
               count(*) FILTER (WHERE closed) AS topics_closed,
               count(*) FILTER (WHERE status = 'resolved') AS topics_resolved,
               count(*) FILTER (WHERE closed AND closed_on <= deadline) AS closed_on_time,
               count(*) FILTER (WHERE closed AND publicized_on IS NOT NULL) AS closed_publicized,
               count(*) FILTER (WHERE closed AND has_evaluation) AS closed_rated,
               quantile_cont(closed_on - raised_on, 0.5) FILTER (WHERE closed) AS days_to_close_median,
               quantile_cont(closed_on - raised_on, 0.9) FILTER (WHERE closed) AS days_to_close_p90
        FROM tp GROUP BY ALL),
    e AS (
        SELECT community_code, year(evaluated_on) AS py, quarter(evaluated_on) AS pq,
               count(*) AS evaluations,
               count(*) FILTER (WHERE verdict IN {SATISFIED}) AS satisfied,
               avg(attitude) AS attitude_mean, avg(efficiency) AS efficiency_mean,
               avg("result") AS result_mean, avg(effect) AS effect_mean,
               avg((attitude + efficiency + "result" + effect) / 4.0) AS dimension_mean
        FROM evaluations WHERE year BETWEEN {year - 1} AND {year}
        GROUP BY ALL),
    r AS (
        SELECT community_code, year(opened_on) AS py, quarter(opened_on) AS pq,
               count(*) AS rectifications,
               count(*) FILTER (WHERE closed_on <= deadline) AS rectified_on_time
        FROM rectifications WHERE year BETWEEN {year - 1} AND {year}
        GROUP BY ALL),
    q AS (
        SELECT g.county_code, g.community_code, g.py AS year, g.pq AS quarter,
               coalesce(s.sessions_held, 0) AS sessions_held,
               coalesce(s.regular_sessions, 0) AS regular_sessions,
               coalesce(t.topics_raised, 0) AS topics_raised,
               coalesce(t.topics_closed, 0) AS topics_closed,
               {_rate('t.topics_closed', 't.topics_raised')} AS completion_rate,
               {_rate('t.topics_resolved', 't.topics_raised')} AS resolution_rate,
               {_rate('t.closed_on_time', 't.topics_closed')} AS on_time_rate,
               {_rate('t.closed_publicized', 't.topics_closed')} AS publicity_rate,
               coalesce(e.evaluations, 0) AS evaluations,
               {_rate('e.satisfied', 'e.evaluations')} AS satisfaction_rate,
               e.attitude_mean, e.efficiency_mean, e.result_mean, e.effect_mean,
               100 * (e.dimension_mean - 1) / 4 AS satisfaction_index,
               coalesce(r.rectifications, 0) AS rectifications,
               coalesce({_rate('r.rectified_on_time', 'r.rectifications')}, 1.0) AS rectification_rate,
               least(1.0, coalesce(s.regular_sessions, 0) / {SCHEME['regular_per_quarter']}.0) AS session_rate,
               {_rate('t.closed_rated', 't.topics_closed')} AS rating_coverage,
               t.days_to_close_median, t.days_to_close_p90
        FROM grid g
        LEFT JOIN s USING (community_code, py, pq)
        LEFT JOIN t USING (community_code, py, pq)
        LEFT JOIN e USING (community_code, py, pq)
        LEFT JOIN r USING (community_code, py, pq)),
    changed AS (SELECT *, {changes} FROM q)
    SELECT * FROM changed WHERE year = {year} {qfilter}
    ORDER BY county_code, community_code, year, quarter
    """
    return _rows(con, sql)


def _quarterly_breakdown(con, year, quarter, county, group):
    """Shared SQL of the category and channel breakdowns (see the two reports)."""
    qfilter = f"AND k.quarter = {quarter}" if quarter else ""
    sql = f"""
    WITH ref AS ({_ref_sql(county)}),
    topic_group AS (SELECT community_code, topic_id, {group} AS grp FROM topics),
    t AS (
        SELECT community_code, quarter(raised_on) AS quarter, {group} AS grp,
               count(*) AS topics_raised,
               count(*) FILTER (WHERE status IN {CLOSED}) AS topics_closed,
               count(*) FILTER (WHERE status = 'resolved') AS topics_resolved,
               count(*) FILTER (WHERE status IN {CLOSED} AND closed_on <= deadline) AS closed_on_time,
               count(*) FILTER (WHERE status IN {CLOSED} AND publicized_on IS NOT NULL) AS closed_publicized
        FROM topics WHERE year = {year} AND year(raised_on) = {year}
        GROUP BY ALL),
    e AS (
        SELECT ev.community_code, quarter(ev.evaluated_on) AS quarter, tg.grp,
               count(*) AS evaluations,
               count(*) FILTER (WHERE verdict IN {SATISFIED}) AS satisfied,
               avg(attitude) AS attitude_mean, avg(efficiency) AS efficiency_mean,
               avg("result") AS result_mean, avg(effect) AS effect_mean,
               avg((attitude + efficiency + "result" + effect) / 4.0) AS dimension_mean
        FROM evaluations ev JOIN topic_group tg USING (community_code, topic_id)
        WHERE ev.year = {year} AND year(ev.evaluated_on) = {year}
        GROUP BY ALL),
    r AS (
        SELECT rc.community_code, quarter(rc.opened_on) AS quarter, tg.grp,
               count(*) AS rectifications,
               count(*) FILTER (WHERE closed_on <= deadline) AS rectified_on_time
        FROM rectifications rc JOIN topic_group tg USING (community_code, topic_id)
        WHERE rc.year = {year} AND year(rc.opened_on) = {year}
        GROUP BY ALL),
    keys AS (
        SELECT community_code, quarter, grp FROM t UNION
        SELECT community_code, quarter, grp FROM e UNION
        SELECT community_code, quarter, grp FROM r)
    SELECT ref.county_code, k.community_code, {year} AS year, k.quarter::INTEGER AS quarter, k.grp AS {group},
           coalesce(t.topics_raised, 0) AS topics_raised,
           coalesce(t.topics_closed, 0) AS topics_closed,
           {_rate('t.topics_closed', 't.topics_raised')} AS completion_rate,
           {_rate('t.topics_resolved', 't.topics_raised')} AS resolution_rate,
           {_rate('t.closed_on_time', 't.topics_closed')} AS on_time_rate,
           {_rate('t.closed_publicized', 't.topics_closed')} AS publicity_rate,
           coalesce(e.evaluations, 0) AS evaluations,
           {_rate('e.satisfied', 'e.evaluations')} AS satisfaction_rate,
           e.attitude_mean, e.efficiency_mean, e.result_mean, e.effect_mean,
           100 * (e.dimension_mean - 1) / 4 AS satisfaction_index,
           coalesce(r.rectifications, 0) AS rectifications,
           coalesce({_rate('r.rectified_on_time', 'r.rectifications')}, 1.0) AS rectification_rate
    FROM keys k
    JOIN ref USING (community_code)
    LEFT JOIN t USING (community_code, quarter, grp)
    LEFT JOIN e USING (community_code, quarter, grp)
    LEFT JOIN r USING (community_code, quarter, grp)
    WHERE true {qfilter}
    ORDER BY county_code, community_code, year, quarter, {group}
    """
    return _rows(con, sql)


def quarterly_by_category(con, year, quarter, county, scope):
    """Quarterly breakdown by topic category: per community × quarter × category, only
    categories with at least one topic raised, evaluation or rectification in the quarter
    (evaluations and rectifications take the category of their topic, whatever its date).
    Topic, evaluation and rectification figures only; no change columns."""
    return _quarterly_breakdown(con, year, quarter, county, "category")


def quarterly_by_channel(con, year, quarter, county, scope):
    """Quarterly breakdown by source channel; as quarterly_by_category with `channel`."""
    return _quarterly_breakdown(con, year, quarter, county, "channel")


def cadres(con, year, quarter, county, scope):
    """Cadre assessment of `year`: one row per cadre of the cadres table. Topics are those
    it leads raised in the year; evaluations and rectifications those dated in the year
    (evaluated_on, opened_on) of topics it leads, whatever the topic's year. Rated with at
    least min_topics topics; unrated cadres have a score but no rank and grade not_rated.
    Ranks are competition ranks of the score rounded to 9 decimals among rated cadres of the
    community / county; excellent needs score ≥ 90 and fewer than
    max(1, floor(quota × rated cadres of the county)) rated cadres strictly above."""
    w = SCHEME["cadre"]
    where = f"WHERE substr(community_code, 1, 6) = '{county}'" if county else ""
    sql = f"""
    WITH people AS (
        SELECT DISTINCT community_code, cadre_id, substr(community_code, 1, 6) AS county_code
        FROM cadres {where}),
    lead AS (SELECT community_code, topic_id, lead_cadre_id AS cadre_id FROM topics),
    t AS (
        SELECT community_code, lead_cadre_id AS cadre_id, count(*) AS topics,
               count(*) FILTER (WHERE status IN {CLOSED}) AS topics_closed,
               count(*) FILTER (WHERE status IN {CLOSED} AND closed_on <= deadline) AS closed_on_time
        FROM topics WHERE year = {year} AND year(raised_on) = {year}
        GROUP BY ALL),
    e AS (
        SELECT ev.community_code, l.cadre_id, count(*) AS evaluations,
               count(*) FILTER (WHERE verdict IN {SATISFIED}) AS satisfied,
               avg((attitude + efficiency + "result" + effect) / 4.0) AS dimension_mean
        FROM evaluations ev JOIN lead l USING (community_code, topic_id)
        WHERE ev.year = {year} AND year(ev.evaluated_on) = {year}
        GROUP BY ALL),
    r AS (
        SELECT rc.community_code, l.cadre_id, count(*) AS rectifications,
               count(*) FILTER (WHERE closed_on <= deadline) AS rectified_on_time
        FROM rectifications rc JOIN lead l USING (community_code, topic_id)
        WHERE rc.year = {year} AND year(rc.opened_on) = {year}
        GROUP BY ALL),
    figures AS (
        SELECT p.county_code, p.community_code, p.cadre_id, {year} AS year,
               coalesce(t.topics, 0) AS topics,
               coalesce(t.topics_closed, 0) AS topics_closed,
               {_rate('t.topics_closed', 't.topics')} AS completion_rate,
               {_rate('t.closed_on_time', 't.topics_closed')} AS on_time_rate,
               coalesce(e.evaluations, 0) AS evaluations,
               {_rate('e.satisfied', 'e.evaluations')} AS satisfaction_rate,
               100 * (e.dimension_mean - 1) / 4 AS satisfaction_index,
               coalesce(r.rectifications, 0) AS rectifications,
               coalesce({_rate('r.rectified_on_time', 'r.rectifications')}, 1.0) AS rectification_rate
        FROM people p
        LEFT JOIN t USING (community_code, cadre_id)
        LEFT JOIN e USING (community_code, cadre_id)
        LEFT JOIN r USING (community_code, cadre_id)),
    scored AS (
        SELECT *,
               {w['completion_rate']} * coalesce(completion_rate, 0)
             + {w['on_time_rate']} * coalesce(on_time_rate, 0)
             + {w['satisfaction_index']} * coalesce(satisfaction_index, 0) / 100
             + {w['rectification_rate']} * rectification_rate AS score,
               topics >= {SCHEME['min_topics']} AS rated
        FROM figures),
    ranked AS (
        SELECT *,
               CASE WHEN rated THEN rank() OVER (PARTITION BY community_code, rated ORDER BY round(score, 9) DESC) END AS rank_in_community,
               CASE WHEN rated THEN rank() OVER (PARTITION BY county_code, rated ORDER BY round(score, 9) DESC) END AS rank_in_county,
               greatest(1, floor(round({SCHEME['excellent_quota']} * sum(rated::INTEGER) OVER (PARTITION BY county_code), 9))) AS seats
        FROM scored)
    SELECT county_code, community_code, cadre_id, year, topics, topics_closed, completion_rate,
           on_time_rate, evaluations, satisfaction_rate, satisfaction_index, rectifications,
           rectification_rate, score, rank_in_community, rank_in_county,
           CASE WHEN NOT rated THEN 'not_rated'
                WHEN round(score, 9) >= {SCHEME['excellent_score']} AND rank_in_county <= seats THEN 'excellent'
                WHEN round(score, 9) >= {SCHEME['competent_score']} THEN 'competent'
                WHEN round(score, 9) >= {SCHEME['basically_competent_score']} THEN 'basically_competent'
                ELSE 'incompetent' END AS grade
    FROM ranked
    ORDER BY county_code, community_code, cadre_id
    """
    return _rows(con, sql)


def communities(con, year, quarter, county, scope):
    """Community assessment of `year`: one row per community of the reference table (active
    or not), with the annual figures, session_rate = min(1, regular sessions / 24), the
    score (null components count 0), competition ranks of the score rounded to 9 decimals
    within the county and over all communities in scope, and the county's mean score."""
    sql = f"""
    WITH {_community_year_sql(year, county)}
    SELECT county_code, community_code, {year} AS year, sessions_held, topics_raised,
           evaluations, rectifications, completion_rate, on_time_rate, publicity_rate,
           satisfaction_index, rectification_rate, session_rate, score,
           rank() OVER (PARTITION BY county_code ORDER BY round(score, 9) DESC) AS rank_in_county,
           rank() OVER (ORDER BY round(score, 9) DESC) AS rank_overall,
           avg(score) OVER (PARTITION BY county_code) AS county_avg_score
    FROM community_year
    ORDER BY county_code, community_code
    """
    return _rows(con, sql)


def counties(con, year, quarter, county, scope):
    """County summary of `year`: communities of the reference table, sessions held, topics
    raised and closed (summed over its communities), completion_rate = closed ÷ raised over
    the county (null with no topic), and the mean community score."""
    sql = f"""
    WITH {_community_year_sql(year, county)}
    SELECT county_code, {year} AS year, count(*) AS communities,
           sum(sessions_held)::BIGINT AS sessions_held,
           sum(topics_raised)::BIGINT AS topics_raised,
           sum(topics_closed)::BIGINT AS topics_closed,
           {_rate('sum(topics_closed)', 'sum(topics_raised)')} AS completion_rate,
           avg(score) AS avg_score
    FROM community_year
    GROUP BY county_code
    ORDER BY county_code
    """
    return _rows(con, sql)


REPORTS = {
    "quarterly": quarterly,
    "quarterly_by_category": quarterly_by_category,
    "quarterly_by_channel": quarterly_by_channel,
    "cadres": cadres,
    "communities": communities,
    "counties": counties,
}


def run(warehouse, report, year, quarter=None, county=None):
    """Open the warehouse (Delta log replay, views pruned to `county`) and run `report`.
    Returns [] when `year` is outside the years in scope."""
    con = duckdb.connect()
    files = register_tables(con, warehouse, county)
    scope = years_in_scope(con, files)
    if scope is None or not scope[0] <= year <= scope[1]:
        return []
    return REPORTS[report](con, year, quarter, county, scope)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("warehouse")
    ap.add_argument("report", choices=sorted(REPORTS))
    ap.add_argument("--year", type=int, required=True)
    ap.add_argument("--quarter", type=int, choices=[1, 2, 3, 4])
    ap.add_argument("--county", help="6-digit county code")
    ap.add_argument("--out", help="write the JSON here instead of stdout")
    ap.add_argument("--time", action="store_true", help="print only the wall time (s) of the query")
    args = ap.parse_args(argv)
    if args.county is not None and not re.fullmatch(r"\d{6}", args.county):
        ap.error("--county must be a 6-digit code")
    if args.quarter and not args.report.startswith("quarterly"):
        ap.error("--quarter applies to the quarterly reports only")
    try:
        started = time.perf_counter()
        rows = run(args.warehouse, args.report, args.year, args.quarter, args.county)
        elapsed = time.perf_counter() - started
    except DeltaError as e:
        print(f"reference.py: {e}", file=sys.stderr)
        return 2
    if args.time:
        print(f"{elapsed:.6f}")
        return 0
    text = json.dumps(rows, ensure_ascii=False, allow_nan=False)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
