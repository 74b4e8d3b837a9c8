#!/usr/bin/env bash
# Ingest benchmark: yishi's full ingest of an evaluations CSV (decode, validate every rule,
# pseudonymise respondents, write ZSTD Parquet in a Delta commit) beside DuckDB's plain
# CSV → ZSTD Parquet conversion of the same file, in the same run.
#
#   bash bench/ingest.sh                    # 2,000 communities × 3 years
#   COUNTIES=10 PER_COUNTY=10 bash bench/ingest.sh   # a quick run
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTIES=${COUNTIES:-100}
PER_COUNTY=${PER_COUNTY:-20}
YEARS=${YEARS:-3}
WORK=${WORK:-$(mktemp -d /tmp/yishi-bench.XXXX)}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yishi-target}"

python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb
if [ -z "${YISHI:-}" ]; then
  cargo build --release --quiet
  YISHI="$CARGO_TARGET_DIR/release/yishi"
fi

echo "bench: $COUNTIES counties × $PER_COUNTY communities × $YEARS years in $WORK"
"$YISHI" demo generate --out "$WORK/ledger" --counties "$COUNTIES" --communities-per-county "$PER_COUNTY" --years "$YEARS" >/dev/null
"$YISHI" --warehouse "$WORK/wh" init >/dev/null
for t in communities cadres sessions topics; do
  "$YISHI" --warehouse "$WORK/wh" ingest "$t" "$WORK/ledger/$t.csv" >/dev/null
done

python3 - "$YISHI" "$WORK" <<'PY'
import os, resource, subprocess, sys, time
import duckdb

yishi, work = sys.argv[1], sys.argv[2]
csv = os.path.join(work, "ledger", "evaluations.csv")
rows = sum(1 for _ in open(csv, encoding="utf-8")) - 1
size = os.path.getsize(csv)

def cpu(who):
    u = resource.getrusage(who)
    return u.ru_utime + u.ru_stime

# CPU seconds (user + system) beside wall time: on a machine busy with other work the
# wall times of both stretch, their CPU seconds much less. Before each timed step the
# dirty pages of the steps before (the generated ledger, the warehouse: ~1 GB) are
# written out, or the kernel's writeback takes the cores in the middle of it.
os.sync()
t, c = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
subprocess.run([yishi, "--warehouse", os.path.join(work, "wh"), "ingest", "evaluations", csv], check=True, stdout=subprocess.DEVNULL)
yishi_s, yishi_cpu = time.perf_counter() - t, cpu(resource.RUSAGE_CHILDREN) - c
peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

con = duckdb.connect()
out = os.path.join(work, "duckdb-evaluations.parquet")
os.sync()
t, c = time.perf_counter(), cpu(resource.RUSAGE_SELF)
con.execute(f"COPY (SELECT * FROM read_csv('{csv}', header = true)) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
duck_s, duck_cpu = time.perf_counter() - t, cpu(resource.RUSAGE_SELF) - c

print(f"evaluations.csv: {rows:,} rows, {size / 2**20:.0f} MiB, load average {os.getloadavg()[0]:.1f}")
print(f"yishi ingest   : {yishi_s:7.2f} s  {rows / yishi_s:12,.0f} rows/s  {yishi_cpu:6.2f} CPU s  peak RSS {peak_mib:,.0f} MiB")
print(f"duckdb to zstd : {duck_s:7.2f} s  {rows / duck_s:12,.0f} rows/s  {duck_cpu:6.2f} CPU s  (duckdb {duckdb.__version__})")
print(f"ratio yishi/duckdb: time {yishi_s / duck_s:.2f}, CPU {yishi_cpu / duck_cpu:.2f}")
PY
