#!/usr/bin/env bash
# Scale-out benchmark (issue 21): a generated ledger in a warehouse on an S3 server (moto,
# objects in memory) on this machine; every report kind, platform scope, on the local engine
# and on a Ballista cluster of one and of two executors on this machine; the time per
# million evaluations per executor; the warehouse's file and Delta log sizes.
#
#   bash bench/scale-out.sh                                   # 1000 counties × 20 × 3 years = 20,000 communities
#   COUNTIES=100 PER_COUNTY=20 YEARS=3 bash bench/scale-out.sh   # 2,000 communities
#
# Environment: COUNTIES, PER_COUNTY, YEARS (the generated ledger), YEAR / QUARTER / MONTH
# (default: the last year of the data, quarter 1, month 3), REPEAT (runs per case, the
# median is shown; default 1), EXECUTOR_CORES (--cores of each executor; default 1, so two
# executors use the machine's two cores), EXECUTORS (the cluster sizes to time, default
# "1 2"), ONLY (an extended regular expression: only the report requests it matches), WORK (a folder for the ledger, logs and shuffle
# files; a fresh temp dir by default), MOTO (the moto_server program; default
# /opt/yishi-moto/bin/moto_server), YISHI=path to time that binary instead of building
# `cargo build --release --features ballista` into $CARGO_TARGET_DIR.
#
# Seconds are whole-process wall times of `yishi report … --format csv` (start-up, reading
# the Delta logs from S3, planning, computing, printing). "s/M/exec" = seconds × executors ÷
# millions of evaluations dated in the report year: the executor time a million evaluations
# cost (the local engine counts as one machine). Each cluster answer is compared with the
# local one byte for byte ("same").
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTIES=${COUNTIES:-1000}
PER_COUNTY=${PER_COUNTY:-20}
YEARS=${YEARS:-3}
QUARTER=${QUARTER:-1}
MONTH=${MONTH:-3}
REPEAT=${REPEAT:-1}
EXECUTOR_CORES=${EXECUTOR_CORES:-1}
MOTO=${MOTO:-/opt/yishi-moto/bin/moto_server}
WORK=${WORK:-$(mktemp -d /tmp/yishi-scale-out.XXXX)}
mkdir -p "$WORK"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yishi-target}"
if [ -z "${YISHI:-}" ]; then
  cargo build --release --quiet --locked --features ballista
  YISHI="$CARGO_TARGET_DIR/release/yishi"
fi
"$YISHI" cluster --help >/dev/null 2>&1 || { echo "bench: $YISHI has no Ballista (build with --features ballista)" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # port, what, pid
  for _ in $(seq 1 600); do
    if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "bench: $2 stopped (see $WORK/*.log)" >&2; exit 1; }
    sleep 0.1
  done
  echo "bench: $2 did not listen on $1" >&2; exit 1
}

# Every process this script starts, stopped by its own id when it ends.
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The S3 server and a bucket.
S3_PORT=$(free_port)
"$MOTO" -H 127.0.0.1 -p "$S3_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
PIDS+=("$MOTO_PID")
wait_port "$S3_PORT" "moto" "$MOTO_PID"
export AWS_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret \
  AWS_REGION=us-east-1 YISHI_USER=bench
unset YISHI_WAREHOUSE YISHI_COUNTY YISHI_COMMUNITY YISHI_ENGINE
curl -sf -X PUT "$AWS_ENDPOINT_URL/bench" >/dev/null
WH=s3://bench/wh

echo "bench: $COUNTIES counties × $PER_COUNTY communities × $YEARS years → $WH (moto on :$S3_PORT), work $WORK"
if [ ! -f "$WORK/ledger/evaluations.csv" ]; then
  "$YISHI" demo generate --out "$WORK/ledger" --counties "$COUNTIES" --communities-per-county "$PER_COUNTY" \
    --years "$YEARS" >/dev/null
fi
"$YISHI" --warehouse "$WH" init >/dev/null
START=$(date +%s.%N)
for t in communities cadres sessions topics evaluations rectifications; do
  "$YISHI" --warehouse "$WH" ingest "$t" "$WORK/ledger/$t.csv" >/dev/null
done
INGEST_S=$(python3 -c "print(f'{$(date +%s.%N) - $START:.1f}')")

count() { "$YISHI" --warehouse "$WH" sql "$1" --format csv | tail -1 | tr -d '\r'; }
YEAR_DATA=$(count "SELECT max(year) AS y FROM evaluations")
EVALS_TOTAL=$(count "SELECT count(*) AS n FROM evaluations")
YEAR=${YEAR:-$YEAR_DATA}
EVALS=$(count "SELECT count(*) AS n FROM evaluations WHERE year = $YEAR")
COMMUNITIES=$(count "SELECT count(*) AS n FROM communities")
TOPICS=$(count "SELECT count(*) AS n FROM topics")
echo "bench: ingested in ${INGEST_S} s: $COMMUNITIES communities, $TOPICS topics, $EVALS_TOTAL evaluations ($EVALS in $YEAR)"

# Files and Delta logs in the bucket (moto's own Python has boto3).
"$(dirname "$MOTO")/python3" - "$AWS_ENDPOINT_URL" <<'PY' | tee "$WORK/sizes.txt"
import collections, sys
import boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="bench", aws_secret_access_key="bench-secret")
data = collections.defaultdict(lambda: [0, 0])
log = collections.defaultdict(lambda: [0, 0])
checkpoints = collections.defaultdict(lambda: [0, 0])
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="wh/"):
    for o in page.get("Contents", []):
        parts = o["Key"].split("/")
        table = parts[1] if len(parts) > 2 else "(root)"
        kind = checkpoints if "checkpoint" in o["Key"] else log if "_delta_log" in o["Key"] else data
        kind[table][0] += 1
        kind[table][1] += o["Size"]
print("table | data files | data MiB | mean file KiB | log files | log KiB | checkpoint files | checkpoint KiB")
for t in sorted(set(data) | set(log)):
    n, b = data[t]
    print(f"{t} | {n} | {b / 2**20:.1f} | {b / max(n, 1) / 1024:.0f} | {log[t][0]} | {log[t][1] / 1024:.0f} | "
          f"{checkpoints[t][0]} | {checkpoints[t][1] / 1024:.0f}")
PY

KINDS=(
  "quarterly --year $YEAR --quarter $QUARTER"
  "quarterly --year $YEAR --quarter $QUARTER --by category"
  "quarterly --year $YEAR --quarter $QUARTER --by channel"
  "cadres --year $YEAR"
  "communities --year $YEAR"
  "counties --year $YEAR"
  "meetings --year $YEAR --quarter $QUARTER"
  "handling --year $YEAR --quarter $QUARTER"
  "units --year $YEAR --quarter $QUARTER"
  "publicity --year $YEAR --quarter $QUARTER"
  "overdue --year $YEAR --quarter $QUARTER"
  "monthly --year $YEAR --month $MONTH"
  "hot_topics --year $YEAR --quarter $QUARTER"
)
if [ -n "${ONLY:-}" ]; then
  mapfile -t KINDS < <(printf '%s\n' "${KINDS[@]}" | grep -E -- "$ONLY")
fi

# time_report ENGINE_ARGS... -- REPORT_ARGS... → prints "seconds" (median of REPEAT) and
# leaves the answer in $WORK/answer.csv (exit status 0) or the error in $WORK/answer.err.
time_report() {
  local engine=() args=() times=()
  while [ "$1" != "--" ]; do engine+=("$1"); shift; done
  shift
  args=("$@")
  for _ in $(seq 1 "$REPEAT"); do
    local t0 t1
    t0=$(date +%s.%N)
    if ! "$YISHI" --warehouse "$WH" "${engine[@]}" report "${args[@]}" --format csv >"$WORK/answer.csv" 2>"$WORK/answer.err"; then
      echo "failed"
      return 0
    fi
    t1=$(date +%s.%N)
    times+=("$(python3 -c "print($t1 - $t0)")")
  done
  python3 -c "import statistics, sys; print(f'{statistics.median(map(float, sys.argv[1:])):.2f}')" "${times[@]}"
}

declare -A LOCAL_S SAME1 SAME2 B1 B2
echo "bench: local engine"
for i in "${!KINDS[@]}"; do
  read -ra args <<<"${KINDS[$i]}"
  LOCAL_S[$i]=$(time_report -- "${args[@]}")
  cp "$WORK/answer.csv" "$WORK/local-$i.csv"
  echo "  ${KINDS[$i]}: ${LOCAL_S[$i]} s"
done

# The cluster: a scheduler, then one executor, then a second one.
SCHED_PORT=$(free_port)
YISHI_LOG=${CLUSTER_LOG:-warn} "$YISHI" cluster scheduler --bind "127.0.0.1:$SCHED_PORT" >/dev/null 2>"$WORK/scheduler.log" &
PIDS+=("$!")
wait_port "$SCHED_PORT" "the scheduler" "$!"
ENGINE="ballista://127.0.0.1:$SCHED_PORT"
start_executor() { # n
  local flight grpc
  flight=$(free_port)
  grpc=$(free_port)
  mkdir -p "$WORK/executor-$1"
  YISHI_LOG=${CLUSTER_LOG:-warn} "$YISHI" cluster executor --scheduler "127.0.0.1:$SCHED_PORT" --flight-port "$flight" \
    --grpc-port "$grpc" --cores "$EXECUTOR_CORES" --work-dir "$WORK/executor-$1" >/dev/null 2>"$WORK/executor-$1.log" &
  PIDS+=("$!")
  wait_port "$grpc" "executor $1" "$!"
  sleep 3 # registered with the scheduler (its first heartbeat)
}

started=0
for n in ${EXECUTORS:-1 2}; do
  while [ "$started" -lt "$n" ]; do
    started=$((started + 1))
    start_executor "$started"
  done
  echo "bench: Ballista, $n executor(s) of $EXECUTOR_CORES core(s)"
  for i in "${!KINDS[@]}"; do
    read -ra args <<<"${KINDS[$i]}"
    s=$(time_report --engine "$ENGINE" -- "${args[@]}")
    same=no
    if [ "$s" != failed ] && cmp -s "$WORK/answer.csv" "$WORK/local-$i.csv"; then same=yes; fi
    if [ "$s" = failed ]; then same="failed: $(tail -c 200 "$WORK/answer.err" | tr '\n' ' ')"; fi
    if [ "$n" = 1 ]; then B1[$i]=$s; SAME1[$i]=$same; else B2[$i]=$s; SAME2[$i]=$same; fi
    echo "  ${KINDS[$i]}: $s s (same as local: $same)"
  done
done

echo
echo "$COUNTIES counties × $PER_COUNTY communities × $YEARS years: $COMMUNITIES communities, $EVALS_TOTAL evaluations" \
  "($EVALS in $YEAR); platform scope; executors of $EXECUTOR_CORES core(s); $(nproc) CPUs; median of $REPEAT"
echo
echo "| report | local s | Ballista 1 exec s | Ballista 2 exec s | local s/M | 1 exec s/M/exec | 2 exec s/M/exec | same as local (1, 2) |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
per_m() { # seconds executors
  python3 -c "import sys
try: print(f'{float(sys.argv[1]) * int(sys.argv[2]) / ($EVALS / 1e6):.2f}')
except ValueError: print('—')" "$1" "$2"
}
for i in "${!KINDS[@]}"; do
  echo "| ${KINDS[$i]} | ${LOCAL_S[$i]} | ${B1[$i]:-—} | ${B2[$i]:-—} | $(per_m "${LOCAL_S[$i]}" 1) |" \
    "$(per_m "${B1[$i]:-—}" 1) | $(per_m "${B2[$i]:-—}" 2) | ${SAME1[$i]:-—}, ${SAME2[$i]:-—} |"
done
echo
echo "ingest into S3: ${INGEST_S} s; sizes: $WORK/sizes.txt; logs: $WORK"
