//! The warehouse on S3-compatible object storage, through a real S3 server on the loopback:
//! moto's server mode, which `.ci/run` installs from PyPI and starts, passing its endpoint
//! in `YISHI_TEST_S3`. Without it the tests say SKIPPED, or fail when `YISHI_REQUIRE_S3=1`.
//!
//! The same six sample ledgers go into a local warehouse and into `s3://bucket/wh`; every
//! report, the SQL answer, the table list and the batch log must agree, the installation
//! secret must live in the bucket (no local folder), and a re-ingested file must change
//! nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::api::skipped;
use crate::support::{samples, yishi, yishi_bin};

const TABLES: [&str; 6] = ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"];

/// The S3 endpoint to test against, or `None` (SKIPPED) when there is none.
pub(crate) fn endpoint(test: &str) -> Option<String> {
    match std::env::var("YISHI_TEST_S3") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("YISHI_REQUIRE_S3").is_none_or(|v| v != "1"),
                "YISHI_REQUIRE_S3=1 but YISHI_TEST_S3 is not set"
            );
            skipped(&format!("SKIPPED {test}: YISHI_TEST_S3 is not set (no S3 server to test against)"));
            None
        }
    }
}

/// One plain HTTP request to the S3 server (moto takes unsigned requests): the status
/// code and the body.
fn http(endpoint: &str, method: &str, path: &str) -> (u16, Vec<u8>) {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to the S3 server");
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let text = String::from_utf8_lossy(&answer);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|i| answer[i + 4..].to_vec()).unwrap_or_default();
    (status, body)
}

/// A fresh bucket of its own for each test.
pub(crate) fn bucket(endpoint: &str, name: &str) -> String {
    let bucket = format!("yishi-{name}-{}", std::process::id());
    let (status, body) = http(endpoint, "PUT", &format!("/{bucket}"));
    assert_eq!(status, 200, "create bucket {bucket}: {}", String::from_utf8_lossy(&body));
    bucket
}

/// `yishi` against the S3 server, with credentials in the usual `AWS_*` variables.
fn yishi_s3(endpoint: &str, args: &[&str]) -> Output {
    std::process::Command::new(yishi_bin())
        .args(args)
        .env_remove("YISHI_WAREHOUSE")
        .env_remove("YISHI_COUNTY")
        .env_remove("YISHI_COMMUNITY")
        .env_remove("YISHI_SECRET")
        .env("YISHI_USER", "tester")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "yishi-test")
        .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
        .env("AWS_REGION", "us-east-1")
        .output()
        .expect("run yishi")
}

pub(crate) fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A report's rows (the JSON answer without its meta, which names versions and places).
pub(crate) fn rows(json: &str) -> Value {
    let doc: Value = serde_json::from_str(json).expect("report JSON");
    match doc {
        Value::Array(_) => doc,
        Value::Object(map) => map.get("rows").cloned().unwrap_or(Value::Object(map)),
        other => other,
    }
}

#[test]
fn a_warehouse_on_s3_answers_like_a_local_one() {
    let Some(endpoint) = endpoint("a_warehouse_on_s3_answers_like_a_local_one") else { return };
    let bucket = bucket(&endpoint, "same");
    let remote = format!("s3://{bucket}/wh");
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("wh");
    let local = local.to_str().expect("utf-8");
    let canonical = samples().join("canonical");

    ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "init"]), "init on S3");
    ok(&yishi(&["--warehouse", local, "init"]), "init locally");
    // The secret lives in the bucket, written once: a second init keeps it.
    // (Read through the bucket listing: moto answers an unsigned GET of an object 403.)
    let listed = || {
        let (status, body) = http(&endpoint, "GET", &format!("/{bucket}?list-type=2&prefix=wh/_yishi/"));
        assert_eq!(status, 200, "list the bucket");
        String::from_utf8_lossy(&body).into_owned()
    };
    let secret = listed();
    assert!(secret.contains("<Key>wh/_yishi/secret.key</Key>"), "the secret is an object in the bucket: {secret}");
    assert!(secret.contains("<Size>64</Size>"), "32 bytes, hex: {secret}");
    ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "init"]), "init again");
    let etag =
        |listing: &str| listing.split("<ETag>").nth(1).and_then(|t| t.split("</ETag>").next()).map(str::to_string);
    assert_eq!(etag(&listed()), etag(&secret), "kept, not written again");

    for table in TABLES {
        let file = canonical.join(format!("{table}.csv"));
        let file = file.to_str().expect("utf-8");
        let out = ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", table, file]), table);
        assert!(out.contains("已写入"), "{table}: {out}");
        ok(&yishi(&["--warehouse", local, "ingest", table, file]), table);
    }
    // The same file again changes nothing.
    let topics = canonical.join("topics.csv");
    let again = ok(
        &yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", "topics", topics.to_str().expect("utf-8")]),
        "again",
    );
    assert!(again.contains("未变") || again.contains("已导入过"), "{again}");

    for args in [
        &["report", "quarterly", "--year", "2025", "--format", "json"][..],
        &["report", "quarterly", "--year", "2025", "--by", "category", "--format", "json"],
        &["report", "cadres", "--year", "2025", "--format", "json"],
        &["report", "communities", "--year", "2025", "--format", "json"],
        &["report", "counties", "--year", "2025", "--format", "json"],
    ] {
        let there = ok(&yishi_s3(&endpoint, &[&["--warehouse", &remote][..], args].concat()), &args.join(" "));
        let here = ok(&yishi(&[&["--warehouse", local][..], args].concat()), &args.join(" "));
        let (there, here) = (rows(&there), rows(&here));
        assert!(here.as_array().is_some_and(|r| !r.is_empty()), "{args:?}: the local answer has rows");
        assert_eq!(there, here, "{args:?}: S3 and local agree");
    }
    let sql = ["sql", "SELECT count(*) AS n, count(DISTINCT respondent) AS r FROM evaluations", "--format", "json"];
    let there = ok(&yishi_s3(&endpoint, &[&["--warehouse", &remote][..], &sql].concat()), "sql");
    let here = ok(&yishi(&[&["--warehouse", local][..], &sql].concat()), "sql");
    assert_eq!(rows(&there), rows(&here), "SQL over S3");

    let tables = ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "tables", "--json"]), "tables");
    let tables: Value = serde_json::from_str(&tables).expect("tables JSON");
    assert_eq!(tables.as_array().map(Vec::len), Some(6), "{tables}");
    assert!(tables.as_array().into_iter().flatten().all(|t| t["rows"].as_u64().is_some_and(|n| n > 0)), "{tables}");
    let batches = ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "batches", "--json"]), "batches");
    let batches: Value = serde_json::from_str(&batches).expect("batches JSON");
    let committed = batches.as_array().into_iter().flatten().filter(|b| b["outcome"] == "committed").count();
    assert_eq!(committed, 6, "one commit per table: {batches}");

    // A chart and the report pack: the same files as from the local warehouse.
    for (wh, name) in [(remote.as_str(), "s3"), (local, "local")] {
        let out = dir.path().join(format!("pack-{name}"));
        let args = ["--warehouse", wh, "--county", "141021", "export", "pack", "--year", "2025", "--quarter", "3"];
        ok(&yishi_s3(&endpoint, &[&args[..], &["--out", out.to_str().expect("utf-8")]].concat()), "export pack");
        let chart = dir.path().join(format!("cadres-{name}.svg"));
        let args = ["--warehouse", wh, "--county", "141021", "chart", "cadre_scores", "--year", "2025", "--out"];
        ok(&yishi_s3(&endpoint, &[&args[..], &[chart.to_str().expect("utf-8")]].concat()), "chart");
    }
    let names = |name: &str| {
        let mut files: Vec<String> = std::fs::read_dir(dir.path().join(format!("pack-{name}")))
            .expect("pack")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files
    };
    assert_eq!(names("s3"), names("local"), "the pack from S3");
    assert!(names("s3").iter().any(|f| f.ends_with("_满意度分析_曲沃县.xlsx")), "{:?}", names("s3"));

    // The server over the bucket (its catalog named: there is no warehouse folder for it).
    let catalog = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    let token = ok(
        &yishi_s3(&endpoint, &["--warehouse", &remote, "token", "create", "--catalog", &catalog, "--county", "141021"]),
        "token",
    );
    let token = token.trim_end().lines().last().expect("token line").to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let listen = format!("127.0.0.1:{port}");
    let mut server = std::process::Command::new(yishi_bin())
        .args(["--warehouse", &remote, "serve", "--catalog", &catalog, "--listen", &listen])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "yishi-test")
        .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
        .env("AWS_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start yishi serve");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "yishi serve on S3 did not start");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let served = authorized_get(&listen, "/api/v1/reports/cadres?year=2025", &token);
    let _ = server.kill();
    let _ = server.wait();
    let here = ok(
        &yishi(&["--warehouse", local, "--county", "141021", "report", "cadres", "--year", "2025", "--format", "json"]),
        "local",
    );
    assert_eq!(rows(&served), rows(&here), "the server over S3 answers like the local CLI");
    assert!(!Path::new(&remote).exists(), "nothing written to a local folder named like the URL");
}

/// `GET path` from the server at `listen` with a bearer token: the body (status 200).
/// HTTP/1.0, so the answer comes whole, not in chunks.
pub(crate) fn authorized_get(listen: &str, path: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(listen).expect("connect to yishi serve");
    let request = format!("GET {path} HTTP/1.0\r\nHost: {listen}\r\nAuthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    assert!(text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

#[test]
fn a_refused_batch_is_recorded_in_the_bucket() {
    let Some(endpoint) = endpoint("a_refused_batch_is_recorded_in_the_bucket") else { return };
    let bucket = bucket(&endpoint, "refused");
    let remote = format!("s3://{bucket}/wh");
    ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "init"]), "init");
    let good = samples().join("canonical/communities.csv");
    ok(
        &yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", "communities", good.to_str().expect("utf-8")]),
        "communities",
    );
    // Strict mode (the default) refuses a file with bad rows whole.
    let bad = samples().join("bad/cadres.csv");
    let out = yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", "cadres", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success(), "bad rows refuse the file");
    let batches = ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "batches", "--json"]), "batches");
    let batches: Value = serde_json::from_str(&batches).expect("batches JSON");
    let refused: Vec<&Value> = batches.as_array().into_iter().flatten().filter(|b| b["outcome"] == "refused").collect();
    assert_eq!(refused.len(), 1, "{batches}");
    assert_eq!(refused[0]["table"], "cadres");
    let tables = ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "tables", "--json"]), "tables");
    let tables: Value = serde_json::from_str(&tables).expect("tables JSON");
    let cadres = tables.as_array().into_iter().flatten().find(|t| t["table"] == "cadres").expect("cadres");
    assert_eq!(cadres["rows"], 0, "nothing of the refused file was written: {cadres}");

    // The endpoint and region as flags instead of AWS_ENDPOINT_URL / AWS_REGION.
    let out = std::process::Command::new(yishi_bin())
        .args(["--warehouse", &remote, "--s3-endpoint", &endpoint, "--s3-region", "us-east-1", "tables", "--json"])
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT")
        .env_remove("AWS_REGION")
        .env("AWS_ACCESS_KEY_ID", "yishi-test")
        .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
        .output()
        .expect("run yishi");
    let by_flags: Value = serde_json::from_str(&ok(&out, "tables with --s3-endpoint")).expect("tables JSON");
    assert_eq!(by_flags, tables, "the same tables through the flags");
}

#[test]
fn a_bad_object_store_url_is_a_clear_error() {
    let out = yishi(&["--warehouse", "s3:///wh", "tables"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("存储桶"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = yishi(&["--warehouse", "ftp://host/wh", "tables"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不支持的存储类型"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Row count and version of a table on S3 as `yishi tables --json` reports them.
fn s3_state(endpoint: &str, remote: &str, table: &str) -> (u64, u64) {
    let out = ok(&yishi_s3(endpoint, &["--warehouse", remote, "tables", "--json"]), "tables");
    let v: Value = serde_json::from_str(&out).expect("tables JSON");
    let t = v.as_array().into_iter().flatten().find(|e| e["table"] == table).expect("table");
    (t["rows"].as_u64().expect("rows"), t["version"].as_u64().expect("version"))
}

/// A generated county of twelve communities in `dir/ledger`; a warehouse at `remote` with
/// its first four tables ingested (evaluations are next).
fn county_before_evaluations(endpoint: &str, remote: &str, dir: &Path) -> ingest::generator::GeneratedSummary {
    let config =
        ingest::generator::GeneratorConfig { counties: 1, communities_per_county: 12, years: 1, ..Default::default() };
    let summary = ingest::generator::generate(&config, &dir.join("ledger")).expect("generate");
    ok(&yishi_s3(endpoint, &["--warehouse", remote, "init"]), "init");
    for (table, file) in ingest::Table::ALL.iter().zip(&summary.files).take(4) {
        ok(
            &yishi_s3(endpoint, &["--warehouse", remote, "ingest", table.name(), file.to_str().expect("utf8")]),
            table.name(),
        );
    }
    summary
}

/// The evaluations file cut in two by community: the rows of the first six communities
/// and of the other six, each with the header.
fn halves(dir: &Path, summary: &ingest::generator::GeneratedSummary) -> [(std::path::PathBuf, u64); 2] {
    let full = std::fs::read_to_string(&summary.files[4]).expect("evaluations");
    let mut lines = full.lines();
    let header = lines.next().expect("header");
    let (first, second): (Vec<&str>, Vec<&str>) = lines.partition(|l| l[..12] <= *summary.community_codes[5]);
    [("first", first), ("second", second)].map(|(name, rows)| {
        let path = dir.join(format!("{name}.csv"));
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).expect("write");
        (path, rows.len() as u64)
    })
}

/// Killing `yishi ingest` against S3 at points spread over a batch leaves the table at its
/// previous version or the new one (Delta's commit is one conditional PUT of the next log
/// entry), and the warehouse takes the batch afterwards. Each round has a prefix of its
/// own, prepared to the same state.
#[test]
fn a_killed_ingest_on_s3_leaves_the_old_or_the_new_version() {
    let Some(endpoint) = endpoint("a_killed_ingest_on_s3_leaves_the_old_or_the_new_version") else { return };
    let bucket = bucket(&endpoint, "kill");
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut seen_old, mut seen_new, mut took) = (0, 0, std::time::Duration::ZERO);
    for round in 0..=4u32 {
        let remote = format!("s3://{bucket}/round{round}");
        let summary = county_before_evaluations(&endpoint, &remote, dir.path());
        let file = summary.files[4].to_str().expect("utf8").to_string();
        let new_rows = summary.rows[&ingest::Table::Evaluations] as u64;
        let before = s3_state(&endpoint, &remote, "evaluations");
        if round == 0 {
            // How long a whole batch takes; the kills are spread over that time. The quarter
            // cells are off here: their rebuild runs after the commit and would push every
            // kill past it (the cells after a kill are tested locally in `kill::`).
            let started = std::time::Instant::now();
            let whole = std::process::Command::new(yishi_bin())
                .args(["--warehouse", &remote, "ingest", "evaluations", &file])
                .env("AWS_ENDPOINT_URL", &endpoint)
                .env("AWS_ACCESS_KEY_ID", "yishi-test")
                .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
                .env("AWS_REGION", "us-east-1")
                .env("YISHI_USER", "tester")
                .env(warehouse::AGGREGATES_ENV, "off")
                .output()
                .expect("run yishi");
            ok(&whole, "whole batch");
            took = started.elapsed();
            assert_eq!(s3_state(&endpoint, &remote, "evaluations"), (new_rows, before.1 + 1));
            continue;
        }
        let mut child = std::process::Command::new(yishi_bin())
            .args(["--warehouse", &remote, "ingest", "evaluations", &file])
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "yishi-test")
            .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
            .env("AWS_REGION", "us-east-1")
            .env("YISHI_USER", "tester")
            .env(warehouse::AGGREGATES_ENV, "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(took.mul_f64(f64::from(round) / 5.0));
        let _ = child.kill();
        let _ = child.wait();
        let after = s3_state(&endpoint, &remote, "evaluations");
        if after == before {
            seen_old += 1;
        } else {
            assert_eq!(after, (new_rows, before.1 + 1), "a kill at {round}/5 left the table between versions");
            seen_new += 1;
        }
        ok(&yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", "evaluations", &file]), "after the kill");
        assert_eq!(s3_state(&endpoint, &remote, "evaluations").0, new_rows);
    }
    assert!(seen_old > 0, "no kill landed before the commit (a batch took {took:?})");
    eprintln!("kills on S3: {seen_old} before the commit, {seen_new} after");
}

/// Two ingests of one table at once, each of half the communities: each either commits
/// or is refused whole with the conflict message (never a lost or torn write), the table's
/// rows are exactly those of the batches that committed, and a refused half goes in when
/// sent again.
#[test]
fn two_concurrent_ingests_of_one_table_on_s3_both_land_or_one_is_refused_whole() {
    let Some(endpoint) = endpoint("two_concurrent_ingests_of_one_table_on_s3_both_land_or_one_is_refused_whole") else {
        return;
    };
    let bucket = bucket(&endpoint, "race");
    let remote = format!("s3://{bucket}/wh");
    let dir = tempfile::tempdir().expect("tempdir");
    let summary = county_before_evaluations(&endpoint, &remote, dir.path());
    let parts = halves(dir.path(), &summary);
    let before = s3_state(&endpoint, &remote, "evaluations");
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = parts
            .iter()
            .map(|(path, _)| {
                let (endpoint, remote) = (&endpoint, &remote);
                s.spawn(move || {
                    yishi_s3(endpoint, &["--warehouse", remote, "ingest", "evaluations", path.to_str().expect("utf8")])
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().expect("thread")).collect()
    });
    let mut rows = before.0;
    let mut commits = 0;
    for ((path, n), out) in parts.iter().zip(&outputs) {
        if out.status.success() {
            rows += n;
            commits += 1;
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("同时有其他写入"), "{}: refused for another reason: {err}", path.display());
        }
    }
    assert!(commits >= 1, "at least one of two writers commits");
    assert_eq!(s3_state(&endpoint, &remote, "evaluations"), (rows, before.1 + commits));
    for ((path, _), out) in parts.iter().zip(&outputs) {
        if !out.status.success() {
            ok(
                &yishi_s3(&endpoint, &["--warehouse", &remote, "ingest", "evaluations", path.to_str().expect("utf8")]),
                "again",
            );
        }
    }
    let total = parts.iter().map(|(_, n)| n).sum::<u64>();
    assert_eq!(s3_state(&endpoint, &remote, "evaluations").0, before.0 + total);
    eprintln!("concurrent ingests on S3: {commits} of 2 committed at once");
}
