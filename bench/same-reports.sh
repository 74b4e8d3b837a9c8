#!/usr/bin/env bash
# Do two yishi binaries give byte-identical report JSON? Runs quarterly (one quarter, a
# whole year, the first year), both breakdowns, cadres, communities and counties for
# platform, county and community scope against one warehouse, and lists every case whose
# JSON or exit status differs. Used after every change meant to make reports faster.
#
#   bash bench/same-reports.sh WAREHOUSE OLD_BINARY NEW_BINARY [COUNTY] [COMMUNITY] [YEAR]
#
# COUNTY, COMMUNITY default to 140121 and 140121100003 (the bench set's first county);
# YEAR to 2025 (the bench set's last year). NEW_WAREHOUSE, if set, is the warehouse the new
# binary reads (one it wrote itself from the same ledger, when a change touches how rows are
# stored).
set -uo pipefail
wh=$1 old=$2 new=$3 county=${4:-140121} community=${5:-140121100003} year=${6:-2025}
new_wh=${NEW_WAREHOUSE:-$wh}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
first=$((year - 2)) previous=$((year - 1))
cases=("quarterly --year $year --quarter 1" "quarterly --year $previous" "quarterly --year $first --quarter 1"
  "quarterly --year $year --quarter 2 --by category" "quarterly --year $year --quarter 2 --by channel"
  "cadres --year $previous" "communities --year $year" "counties --year $year")
failed=0 n=0
for scope in "" "--county $county" "--community $community"; do
  for args in "${cases[@]}"; do
    # shellcheck disable=SC2086
    "$old" --warehouse "$wh" $scope report $args --format json --out "$out/old.json" >/dev/null 2>&1
    a=$?
    # shellcheck disable=SC2086
    "$new" --warehouse "$new_wh" $scope report $args --format json --out "$out/new.json" >/dev/null 2>&1
    b=$?
    n=$((n + 1))
    if [ "$a" != "$b" ] || ! cmp -s "$out/old.json" "$out/new.json"; then
      echo "differs: ${scope:-platform} $args (exit $a / $b)"
      failed=$((failed + 1))
    fi
    rm -f "$out/old.json" "$out/new.json"
  done
done
echo "$n cases, $failed differ"
[ "$failed" = 0 ]
