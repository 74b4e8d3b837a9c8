#!/usr/bin/env bash
# Report benchmark: every yishi report (quarterly, its two breakdowns, cadres, communities,
# counties; all communities, one county, and one community for the quarterly) beside
#  - the peer an analyst would pick instead (bench/peer.py): DuckDB over one ZSTD Parquet
#    file per table, written by DuckDB's COPY from the CSV ledger, queried in a warm session;
#  - bench/reference.py, an independent DuckDB SQL implementation of the same contract
#    definitions over the same Delta files, in a fresh process (also the rows' check).
#
#   bash bench/reports.sh                             # 100 counties × 20 communities × 3 years
#   COUNTIES=10 PER_COUNTY=10 YEARS=2 bash bench/reports.sh   # a quick run
#
# Environment: COUNTIES, PER_COUNTY, YEARS (the generated county set), WORK (a folder to
# reuse; a fresh temp dir by default, with the warehouse reused if WORK/wh exists),
# YEAR / QUARTER (default: the last year of the data, quarter 1, so that the quarterly
# change reads the previous year's partition), COUNTY (default: the first county),
# REPEAT (runs per case, the median is shown; default 3), SERVER=0 to leave out the server's
# first answers (`yishi serve --report-cache 0`), CHECK=0 to skip comparing
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
import peer  # noqa: E402

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

community = None
if county:
    c = duckdb.connect()
    ref.register_tables(c, wh, county)
    community = c.execute("SELECT min(community_code) FROM communities").fetchone()[0]
    del c

# (report as reference.py names it, yishi's arguments after `report`)
cases = [
    ("quarterly", ["quarterly", "--year", str(year), "--quarter", str(quarter)]),
    ("quarterly_by_category", ["quarterly", "--year", str(year), "--quarter", str(quarter), "--by", "category"]),
    ("quarterly_by_channel", ["quarterly", "--year", str(year), "--quarter", str(quarter), "--by", "channel"]),
    ("cadres", ["cadres", "--year", str(year)]),
    ("communities", ["communities", "--year", str(year)]),
    ("counties", ["counties", "--year", str(year)]),
]
# (scope label, yishi's scope flags, reference.py's flags, the peer's view filter)
scopes = [("all", [], [], {}), (county, ["--county", county], ["--county", county], {"county": county})]
ONE_COMMUNITY = {"quarterly"}  # the issue's third quarterly scope

ledger = os.path.join(work, "ledger")
peer_dir = os.path.join(work, "peer")
have_peer = os.path.isdir(ledger)
if have_peer:
    copies = peer.write_parquet(ledger, wh, peer_dir)
    if copies:
        print("peer: CSV → ZSTD Parquet by DuckDB COPY: " + ", ".join(f"{t} {s:.2f} s" for t, s in copies.items()))
else:
    print(f"NOTE: no {ledger} (a reused warehouse without its CSV ledger): the Parquet peer is left out.")


def median(values):
    values = sorted(values)
    n = len(values)
    return None if n == 0 else (values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2)


def time_peer(name, args, filters):
    """The peer's median query time over `repeat` runs in one warm session (one run first,
    untimed, so file metadata and the OS cache are warm), and its rows."""
    con = peer.connect(peer_dir, **filters)
    span = peer.years(con)
    quarter_arg = quarter if name.startswith("quarterly") else None
    code = filters.get("county")
    report = ref.REPORTS[name]
    rows = report(con, year, quarter_arg, code, span)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        report(con, year, quarter_arg, code, span)
        times.append(time.perf_counter() - t)
    con.close()
    return median(times), rows


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


# The server's first answers: `yishi serve --report-cache 0` computes every report (no
# cache), in a warm process (tables' snapshots read once, as a long-running server does),
# over HTTP on the loopback with one kept-alive connection — the like of the peer's warm
# session. SERVER=0 leaves it out.
server = None
if have_report and os.environ.get("SERVER", "1") != "0":
    import http.client, socket, urllib.parse
    sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
    env = dict(os.environ, YISHI_PASSWORD="bench-password-1")
    subprocess.run([yishi, "--warehouse", wh, "user", "add", "bench-reports", "--platform"], env=env,
                   capture_output=True)
    server = subprocess.Popen([yishi, "--warehouse", wh, "serve", "--listen", f"127.0.0.1:{port}",
                               "--report-cache", "0", "--request-timeout", "600"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = None
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", "/healthz"); conn.getresponse().read()
            break
        except OSError:
            conn = None
            time.sleep(0.1)
    body = urllib.parse.urlencode({"username": "bench-reports", "password": "bench-password-1"})
    conn.request("POST", "/login", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse(); answer.read()
    cookie = (answer.getheader("Set-Cookie") or "").split(";")[0]


def time_server(args, extra):
    """Median time of the server's answer (computed, not cached) over `repeat` requests,
    after one untimed request (the process's first read of the tables' snapshots)."""
    kind = args[0]
    query = {"year": str(year), "format": "json"}
    if "--quarter" in args:
        query["quarter"] = str(quarter)
    if "--by" in args:
        query["by"] = args[args.index("--by") + 1]
    if extra:
        query[extra[0].lstrip("-")] = extra[1]
    url = f"/api/v1/reports/{kind}?" + urllib.parse.urlencode(query)
    times = []
    for i in range(repeat + 1):
        t = time.perf_counter()
        conn.request("GET", url, headers={"Cookie": cookie})
        answer = conn.getresponse(); answer.read()
        if answer.status != 200:
            return None
        if i:
            times.append(time.perf_counter() - t)
    return median(times)


results = []
for name, args in cases:
    runs = list(scopes)
    if name in ONE_COMMUNITY and community:
        runs.append((community, ["--community", community], None, {"community": community}))
    for scope, extra, ref_extra, filters in runs:
        y_cmd = [yishi, "--warehouse", wh] + extra + ["report"] + args + ["--format", "json", "--out", "/dev/null"]
        y_med = y_rss = None
        note = ""
        if have_report:
            times = []
            for _ in range(repeat):
                rc, el, rss, err = run_rss(y_cmd)
                if rc != 0:
                    note = f"yishi failed ({rc}): {err.strip().splitlines()[-1] if err.strip() else ''}"
                    times = []
                    break
                times.append(el)
                y_rss = rss if y_rss is None else max(y_rss, rss)
            y_med = median(times)
        p_med = p_rows = None
        if have_peer:
            p_med, p_rows = time_peer(name, args, filters)
        r_med = None
        ref_rows = None
        if ref_extra is not None:
            flags = args[1:args.index("--by")] if "--by" in args else args[1:]
            d_cmd = [sys.executable, reference, wh, name] + flags + ref_extra
            times = []
            for _ in range(repeat):
                rc, out, err, el = run(d_cmd + ["--time"])
                if rc != 0:
                    sys.exit(f"reference.py failed: {err.decode(errors='replace')}")
                times.append(float(out.decode().strip()))
            r_med = median(times)
            rc, out, err, _ = run(d_cmd)
            ref_rows = json.loads(out)
        if check and have_report and y_med is not None:
            out_file = os.path.join(work, f"yishi-{name}-{scope}.json")
            subprocess.run(y_cmd[:-1] + [out_file], check=True, capture_output=True)
            try:
                with open(out_file, encoding="utf-8") as f:
                    doc, _ = json.JSONDecoder().raw_decode(f.read().lstrip())  # text after it is ignored
                mine = rows_of(doc)
                expected = ref_rows if ref_rows is not None else p_rows
                problems = compare(expected, mine) if expected is not None else ["nothing to compare with"]
                if p_rows is not None and ref_rows is not None:
                    problems += [f"peer: {p}" for p in compare(ref_rows, p_rows)]
            except (ValueError, OSError) as e:
                problems = [str(e)]
            note = "rows agree" if not problems else f"{len(problems)} differences, e.g. {problems[0]}"
        s_med = time_server(args, extra) if server else None
        results.append((name, scope, y_med, y_rss, p_med, r_med, s_med, note))

if server:
    server.terminate()
    server.wait()

def cell(v, fmt, width):
    return format(v, fmt) if v is not None else "—".rjust(width)


print()
print(f"{'report':<22} {'scope':<12} {'yishi s':>8} {'peer s':>8} {'÷ peer':>7} {'server s':>9} {'÷ peer':>7} "
      f"{'ref s':>8} {'÷ ref':>6} {'yishi RSS MiB':>14}  check")
for name, scope, y, rss, p, r, srv, note in results:
    by_peer = y / p if y is not None and p else None
    srv_by_peer = srv / p if srv is not None and p else None
    by_ref = y / r if y is not None and r else None
    print(f"{name:<22} {scope:<12} {cell(y, '8.3f', 8)} {cell(p, '8.3f', 8)} {cell(by_peer, '7.2f', 7)} "
          f"{cell(srv, '9.4f', 9)} {cell(srv_by_peer, '7.2f', 7)} "
          f"{cell(r, '8.3f', 8)} {cell(by_ref, '6.2f', 6)} {cell(rss, '14,.0f', 14)}  {note}")
print(f"\nMedians of {repeat} runs. yishi s: the whole `yishi report` process (start-up, Delta log, query, JSON). "
      f"peer s: DuckDB over one ZSTD Parquet file per table (COPY from the CSV ledger), the query alone in a warm "
      f"session (one untimed run first). server s: `yishi serve --report-cache 0`, each answer computed in a warm "
      f"process, over one kept-alive HTTP connection (one untimed request first). ref s: reference.py's own timing of Delta log replay + query in a fresh "
      f"process. ÷ peer = yishi s / peer s (issue 20's target: at most 0.5). duckdb {duckdb.__version__}, "
      f"{os.cpu_count()} CPUs.")
PY
