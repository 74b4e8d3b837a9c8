"""The peer a county analyst would pick instead of yishi: DuckDB over the same ledger as
one ZSTD Parquet file per table, written by DuckDB's own `COPY` from the generated CSV,
queried in a warm session with the same SQL as `reference.py`.

    from peer import write_parquet, connect, years
    write_parquet(ledger_dir, warehouse_dir, peer_dir)      # once
    con = connect(peer_dir, county="141021")                # a session per scope
    rows = reference.REPORTS["quarterly"](con, 2025, 1, "141021", years(con))

The Parquet files hold the CSV's columns with the contract's types (codes as text, dates
as dates; read from the Delta table's schema, as an analyst would declare them) and
nothing yishi adds: no partitions, no pseudonyms. The views add what `reference.py`'s SQL
reads from Delta's partition paths: `county_code` (the first six digits of the community
code) and `year` (the year of the table's period date). A county or community scope is a
`WHERE` on the view, as an analyst would filter.
"""

import json
import os
import time

import duckdb

import reference as ref

# The Delta schema's types as DuckDB types (reference.py's own table).
DUCK_TYPES = ref.DUCK_TYPES


def _schema(warehouse, table, csv_path):
    """(name, DuckDB type) of the CSV's columns, typed by the Delta table's schema (codes
    as text, dates as dates), in the CSV's order."""
    con = duckdb.connect()
    _, metadata = ref.live_files(con, os.path.join(warehouse, table))
    con.close()
    types = {
        f["name"]: DUCK_TYPES.get(f["type"], "VARCHAR") if isinstance(f["type"], str) else "VARCHAR"
        for f in json.loads(metadata["schemaString"])["fields"]
    }
    with open(csv_path, encoding="utf-8-sig") as f:
        header = f.readline().strip().split(",")
    return [(name, types.get(name, "VARCHAR")) for name in header]


def write_parquet(ledger, warehouse, out):
    """`COPY` each table's CSV to `out/<table>.parquet` (ZSTD), unless already there.
    Returns {table: seconds} of the copies made."""
    os.makedirs(out, exist_ok=True)
    times = {}
    for table in ref.TABLES:
        target = os.path.join(out, f"{table}.parquet")
        if os.path.exists(target):
            continue
        csv_path = os.path.join(ledger, f"{table}.csv")
        columns = _schema(warehouse, table, csv_path)
        types = ", ".join(f"'{n}': '{t}'" for n, t in columns)
        csv = csv_path.replace("'", "''")
        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv}', header = true, columns = {{{types}}})) "
            f"TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
        )
        times[table] = time.perf_counter() - started
        con.close()
    return times


def connect(out, county=None, community=None):
    """A session with one view per table over its Parquet file, filtered to the scope."""
    con = duckdb.connect()
    for table in ref.TABLES:
        path = os.path.join(out, f"{table}.parquet").replace("'", "''")
        names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()]
        extra = []
        if "county_code" not in names:
            extra.append("substr(community_code, 1, 6) AS county_code")
        if table in ref.PERIOD_DATES:
            extra.append(f"year({ref.PERIOD_DATES[table]})::INTEGER AS year")
        where = ""
        if community is not None:
            where = f"WHERE community_code = '{community}'"
        elif county is not None:
            where = f"WHERE substr(community_code, 1, 6) = '{county}'"
        added = "".join(", " + e for e in extra)
        con.execute(f"CREATE VIEW {table} AS SELECT *{added} FROM read_parquet('{path}') {where}")
    return con


def years(con):
    """(first, last) year of the period dates in the session's scope, or None."""
    lows, highs = [], []
    for table, column in ref.PERIOD_DATES.items():
        lo, hi = con.execute(f"SELECT year(min({column})), year(max({column})) FROM {table}").fetchone()
        if lo is not None:
            lows.append(lo)
            highs.append(hi)
    return (min(lows), max(highs)) if lows else None
