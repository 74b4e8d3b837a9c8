#!/usr/bin/env bash
# Report benchmark: yishi's reports beside bench/reference.py, an independent DuckDB SQL
# implementation of the same contract definitions, over the same Delta/Parquet files.
#
#   bash bench/reports.sh                             # 100 counties × 20 communities × 3 years
#   COUNTIES=10 PER_COUNTY=10 YEARS=2 bash bench/reports.sh   # a quick run
#
# Environment: COUNTIES, PER_COUNTY, YEARS (the generated county set), WORK (a folder to
# reuse; a fresh temp dir by default, with the warehouse reused if WORK/wh exists),
# YEAR / QUARTER (default: the last year of the data, quarter 1, so that the quarterly
# change reads the previous year's partition), COUNTY (default: the first county),
# REPEAT (runs per case, the best is shown; default 3), CHECK=0 to skip comparing
# yishi's rows with the reference's, YISHI=path to time that binary instead of building.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNTIES=${COUNTIES:-100}
PER_COUNTY=${PER_COUNTY:-20}
YEARS=${YEARS:-3}
REPEAT=${REPEAT:-3}
CHECK=${CHECK:-1}
WORK=${WORK:-$(mktemp -d /tmp/yishi-reports.XXXX)}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yishi-target}"

python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb
if [ -z "${YISHI:-}" ]; then
  cargo build --release --quiet
  YISHI="$CARGO_TARGET_DIR/release/yishi"
fi

if [ ! -d "$WORK/wh/evaluations" ]; then
  echo "bench: generating $COUNTIES counties × $PER_COUNTY communities × $YEARS years in $WORK"
  "$YISHI" demo generate --out "$WORK/ledger" --counties "$COUNTIES" --communities-per-county "$PER_COUNTY" --years "$YEARS" >/dev/null
  "$YISHI" --warehouse "$WORK/wh" init >/dev/null
  for t in communities cadres sessions topics evaluations rectifications; do
    "$YISHI" --warehouse "$WORK/wh" ingest "$t" "$WORK/ledger/$t.csv" >/dev/null
  done
else
  echo "bench: reusing the warehouse $WORK/wh"
fi

python3 - "$YISHI" "$WORK" "$REPEAT" "$CHECK" "${YEAR:-}" "${QUARTER:-1}" "${COUNTY:-}" <<'PY'
import json, os, subprocess, sys, time

import duckdb

yishi, work, repeat, check = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
year, quarter, county = sys.argv[5], int(sys.argv[6]), sys.argv[7]
wh = os.path.join(work, "wh")
here = os.getcwd()
reference = os.path.join(here, "bench", "reference.py")
sys.path.insert(0, os.path.join(here, "bench"))
sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
import reference as ref  # noqa: E402

con = duckdb.connect()
files = ref.register_tables(con, wh)
first, last = ref.years_in_scope(con, files)
year = int(year) if year else last
county = county or con.execute("SELECT min(substr(community_code, 1, 6)) FROM communities").fetchone()[0]
communities = con.execute("SELECT count(*) FROM communities").fetchone()[0]
sizes = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("topics", "evaluations")}
del con
print(f"warehouse: {communities:,} communities, {sizes['topics']:,} topics, {sizes['evaluations']:,} evaluations, "
      f"years {first}–{last}; report year {year}, quarter {quarter}, one county = {county}")


def run(cmd):
    """Exit code, stdout, stderr and wall time (s) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    return p.returncode, out, err, time.perf_counter() - t


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_rss(cmd):
    """Wall time (s), peak RSS (MiB) and exit code of one child. The peak comes from GNU
    time's %M when there is one: wait4's ru_maxrss of a child also counts the pages it
    shared with this Python process between fork and exec (hundreds of MiB once DuckDB
    has run here), which swamped a one-county report's own few hundred."""
    rss_file = os.path.join(work, "maxrss.txt")
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + cmd
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")  # until the child closes it (exits)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    rss = usage.ru_maxrss / 1024
    if GNU_TIME:
        try:
            with open(rss_file, encoding="utf-8") as f:
                rss = int(f.read().strip().splitlines()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
    return p.returncode, elapsed, rss, err


have_report = subprocess.run([yishi, "report", "--help"], capture_output=True).returncode == 0
if not have_report:
    print("NOTE: this yishi has no `report` command yet; timing the reference only.")

cases = [
    ("quarterly", ["--year", str(year), "--quarter", str(quarter)]),
    ("cadres", ["--year", str(year)]),
    ("communities", ["--year", str(year)]),
]


def rows_of(doc):
    """The row list of a yishi JSON answer: an array of rows, or the first array of
    objects inside a wrapping object (which may carry the scheme and data version)."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for v in doc.values():
            if isinstance(v, list) and (not v or isinstance(v[0], dict)):
                return v
    raise ValueError("no rows in yishi's JSON")


def compare(mine, theirs):
    """Differences between reference rows and yishi rows (same keys, floats to 1e-9)."""
    problems = []
    if len(mine) != len(theirs):
        return [f"{len(theirs)} rows from yishi, {len(mine)} from the reference"]
    for a, b in zip(mine, theirs):
        for k, v in a.items():
            if k not in b:
                problems.append(f"yishi has no `{k}`")
                continue
            w = b[k]
            same = (v is None and w is None) or (
                v is not None and w is not None and (
                    v == w if isinstance(v, str) or isinstance(w, str)
                    else abs(float(v) - float(w)) <= 1e-9 * max(1.0, abs(float(v)))))
            if not same:
                key = "/".join(str(a.get(c)) for c in ("community_code", "cadre_id", "quarter") if c in a)
                problems.append(f"{key} {k}: yishi {w!r}, reference {v!r}")
        if len(problems) > 20:
            break
    return problems


results = []
for name, args in cases:
    for scope, extra in (("all", []), (county, ["--county", county])):
        y_cmd = [yishi, "--warehouse", wh] + extra + ["report", name] + args + ["--format", "json", "--out", "/dev/null"]
        d_cmd = [sys.executable, reference, wh, name] + args + extra
        y_best = y_rss = None
        note = ""
        if have_report:
            for _ in range(repeat):
                rc, el, rss, err = run_rss(y_cmd)
                if rc != 0:
                    note = f"yishi failed ({rc}): {err.strip().splitlines()[-1] if err.strip() else ''}"
                    y_best = None
                    break
                y_best = el if y_best is None else min(y_best, el)
                y_rss = rss if y_rss is None else max(y_rss, rss)
        d_best = d_proc = None
        for _ in range(repeat):
            rc, out, err, el = run(d_cmd + ["--time"])
            if rc != 0:
                sys.exit(f"reference.py failed: {err.decode(errors='replace')}")
            q = float(out.decode().strip())
            d_best = q if d_best is None else min(d_best, q)
            d_proc = el if d_proc is None else min(d_proc, el)
        if check and have_report and y_best is not None:
            out_file = os.path.join(work, f"yishi-{name}-{scope}.json")
            subprocess.run(y_cmd[:-1] + [out_file], check=True, capture_output=True)
            rc, out, err, _ = run(d_cmd)
            try:
                with open(out_file, encoding="utf-8") as f:
                    doc, _ = json.JSONDecoder().raw_decode(f.read().lstrip())  # text after it is ignored
                problems = compare(json.loads(out), rows_of(doc))
            except (ValueError, OSError) as e:
                problems = [str(e)]
            note = "rows agree" if not problems else f"{len(problems)} differences, e.g. {problems[0]}"
        results.append((name, scope, y_best, y_rss, d_best, d_proc, note))

print()
print(f"{'report':<12} {'scope':<7} {'yishi s':>8} {'duckdb s':>9} {'ratio':>6} {'yishi RSS MiB':>14} {'ref proc s':>10}  check")
for name, scope, y, rss, d, dp, note in results:
    ys = f"{y:8.3f}" if y is not None else f"{'—':>8}"
    ratio = f"{y / d:6.2f}" if y is not None and d else f"{'—':>6}"
    rs = f"{rss:14,.0f}" if rss is not None else f"{'—':>14}"
    print(f"{name:<12} {scope:<7} {ys} {d:9.3f} {ratio} {rs} {dp:10.3f}  {note}")
print(f"\nyishi s: the whole `yishi report` process, best of {repeat}; duckdb s: reference.py's own timing of "
      f"Delta log replay + query (`--time`), best of {repeat}; ref proc s: the whole reference.py process "
      f"(Python start-up and duckdb import included); ratio = yishi s / duckdb s; duckdb {duckdb.__version__}, "
      f"{os.cpu_count()} CPUs.")
PY
