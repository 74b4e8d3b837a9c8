#!/usr/bin/env bash
# Chart benchmark: render time per chart (PNG at the default A4 size and 2×, and SVG) and
# the whole report pack (8 charts × 2 formats + the workbook, reports included) for one
# county of 50 communities, with the release build.
#
#   bash bench/charts.sh                      # 1 county × 50 communities × 2 years, 2025 Q3
#   PER_COUNTY=200 RUNS=3 bash bench/charts.sh
#
# Environment: PER_COUNTY (communities of the county, default 50), YEARS (default 2: the
# trend and heatmap span the previous year), YEAR / QUARTER (default 2025 / 3), RUNS
# (renders per chart and format, the median is shown; default 5), WORK (a folder to reuse;
# the warehouse is reused if WORK/wh exists).
set -euo pipefail
cd "$(dirname "$0")/.."
PER_COUNTY=${PER_COUNTY:-50}
YEARS=${YEARS:-2}
YEAR=${YEAR:-2025}
QUARTER=${QUARTER:-3}
RUNS=${RUNS:-5}
WORK=${WORK:-$(mktemp -d /tmp/yishi-charts.XXXX)}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yishi-target}"

cargo build --release --quiet
YISHI="$CARGO_TARGET_DIR/release/yishi"

if [ ! -d "$WORK/wh/evaluations" ]; then
  echo "bench: generating 1 county × $PER_COUNTY communities × $YEARS years in $WORK"
  "$YISHI" demo generate --out "$WORK/ledger" --counties 1 --communities-per-county "$PER_COUNTY" \
    --years "$YEARS" --last-year "$YEAR" >/dev/null
  "$YISHI" --warehouse "$WORK/wh" init >/dev/null
  for t in communities cadres sessions topics evaluations rectifications; do
    "$YISHI" --warehouse "$WORK/wh" ingest "$t" "$WORK/ledger/$t.csv" >/dev/null
  done
else
  echo "bench: reusing the warehouse $WORK/wh"
fi

COUNTY=$("$YISHI" --warehouse "$WORK/wh" sql "SELECT min(county_code) AS c FROM communities" --format csv | tail -n 1 | tr -d '\r"')
echo "bench: county $COUNTY, $YEAR Q$QUARTER, $(nproc) cores, median of $RUNS renders"
"$YISHI" --warehouse "$WORK/wh" --county "$COUNTY" bench charts --year "$YEAR" --quarter "$QUARTER" \
  --runs "$RUNS" --out "$WORK/pack"

# The pack as a clerk runs it: one process, reports computed, every file written.
start=$(date +%s.%N)
"$YISHI" --warehouse "$WORK/wh" --county "$COUNTY" export pack --year "$YEAR" --quarter "$QUARTER" \
  --out "$WORK/pack-cli" >/dev/null 2>&1
end=$(date +%s.%N)
printf 'cli_export_pack_s\t%.2f\t%s files, %s\n' "$(awk "BEGIN { print $end - $start }")" \
  "$(ls "$WORK/pack-cli" | wc -l)" "$(du -sh "$WORK/pack-cli" | cut -f1)"
