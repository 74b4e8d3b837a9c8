//! Reports and SQL on an Apache Ballista cluster (`--engine ballista://…`, cargo feature
//! `ballista`): a standalone cluster — `yishi cluster scheduler` and two `yishi cluster
//! executor` processes on loopback ports — over the S3 server of `object_storage`
//! (`YISHI_TEST_S3`; SKIPPED without it unless `YISHI_REQUIRE_S3=1`).
//!
//! The same warehouse in the same bucket is asked twice, by the local engine (the
//! existing path) and by the cluster: every report kind and a SQL query, in platform,
//! county and community scope, must print the same bytes, and a community account's SQL
//! must reach no other community's rows. `yishi serve --engine ballista://…` answers a
//! county account's report requests as the local server does.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::object_storage::{authorized_get, bucket, endpoint, ok, rows};
use crate::support::{samples, yishi_bin};

const TABLES: [&str; 6] = ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"];
const COUNTY: &str = "141021";
const COMMUNITY: &str = "141021100001";

/// `yishi` with the S3 server's endpoint and credentials, no inherited scope or engine.
fn command(endpoint: &str) -> Command {
    let mut command = Command::new(yishi_bin());
    command
        .env_remove("YISHI_WAREHOUSE")
        .env_remove("YISHI_COUNTY")
        .env_remove("YISHI_COMMUNITY")
        .env_remove("YISHI_ENGINE")
        .env_remove("YISHI_SECRET")
        .env("YISHI_USER", "tester")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "yishi-test")
        .env("AWS_SECRET_ACCESS_KEY", "yishi-test-secret")
        .env("AWS_REGION", "us-east-1");
    command
}

fn run(endpoint: &str, args: &[&str]) -> Output {
    command(endpoint).args(args).output().expect("run yishi")
}

/// `run`, stopped (and failed) after three minutes: a query the cluster never answers
/// fails the test instead of hanging it.
fn run_bounded(endpoint: &str, args: &[&str]) -> Output {
    let mut child =
        command(endpoint).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run yishi");
    // Drain the pipes meanwhile, so a large answer cannot block the child.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buffer);
        buffer
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buffer);
        buffer
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for yishi") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("yishi {args:?} on the cluster gave no answer in 180 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() }
}

/// The cluster's processes, stopped (by their own handles) when the test ends.
struct Cluster {
    children: Vec<(String, Child)>,
    logs: std::path::PathBuf,
}

impl Cluster {
    fn spawn(&mut self, endpoint: &str, name: &str, args: &[&str]) {
        let log = std::fs::File::create(self.logs.join(format!("{name}.log"))).expect("log file");
        let child = command(endpoint)
            .args(args)
            .env("YISHI_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a cluster process");
        self.children.push((name.to_string(), child));
    }

    /// What the processes logged, for a failure's message.
    fn logs(&self) -> String {
        let mut text = String::new();
        for (name, _) in &self.children {
            let log = std::fs::read_to_string(self.logs.join(format!("{name}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            text.push_str(&format!("--- {name} (last lines)\n"));
            for line in tail.into_iter().rev() {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }

    fn wait_for_port(&mut self, port: u16, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let stopped = self
                .children
                .iter_mut()
                .find_map(|(name, child)| child.try_wait().ok().flatten().map(|status| format!("{name} ({status})")));
            if let Some(stopped) = stopped {
                panic!("{stopped} stopped before {what} listened:\n{}", self.logs());
            }
            assert!(Instant::now() < deadline, "{what} did not listen on {port}:\n{}", self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// Every report kind, as `yishi report` is asked for it (CSV: the bytes are compared).
const REPORTS: [&[&str]; 13] = [
    &["quarterly", "--year", "2025", "--quarter", "3"],
    &["quarterly", "--year", "2025", "--quarter", "3", "--by", "category"],
    &["quarterly", "--year", "2025", "--quarter", "3", "--by", "channel"],
    &["cadres", "--year", "2025"],
    &["communities", "--year", "2025"],
    &["counties", "--year", "2025"],
    &["meetings", "--year", "2025", "--quarter", "3"],
    &["handling", "--year", "2025", "--quarter", "3"],
    &["units", "--year", "2025", "--quarter", "3"],
    &["publicity", "--year", "2025", "--quarter", "3"],
    &["overdue", "--year", "2025", "--quarter", "3"],
    &["monthly", "--year", "2025", "--month", "9"],
    &["hot_topics", "--year", "2025", "--quarter", "3"],
];

#[test]
fn a_ballista_cluster_answers_every_report_and_query_like_the_local_engine() {
    let test = "a_ballista_cluster_answers_every_report_and_query_like_the_local_engine";
    let Some(endpoint) = endpoint(test) else { return };
    let bucket = bucket(&endpoint, "cluster");
    let remote = format!("s3://{bucket}/wh");
    let dir = tempfile::tempdir().expect("tempdir");
    let canonical = samples().join("canonical");
    ok(&run(&endpoint, &["--warehouse", &remote, "init"]), "init on S3");
    for table in TABLES {
        let file = canonical.join(format!("{table}.csv"));
        ok(&run(&endpoint, &["--warehouse", &remote, "ingest", table, file.to_str().expect("utf-8")]), table);
    }

    // The cluster: a scheduler and two executors, each a process of its own.
    let mut cluster = Cluster { children: Vec::new(), logs: dir.path().to_path_buf() };
    let scheduler_port = free_port();
    let scheduler = format!("127.0.0.1:{scheduler_port}");
    cluster.spawn(&endpoint, "scheduler", &["cluster", "scheduler", "--bind", &scheduler]);
    cluster.wait_for_port(scheduler_port, "the scheduler");
    let mut grpc_ports = Vec::new();
    for n in 1..=2 {
        let (flight, grpc) = (free_port().to_string(), free_port());
        let work = dir.path().join(format!("executor-{n}"));
        std::fs::create_dir_all(&work).expect("work dir");
        let grpc_text = grpc.to_string();
        let args = [
            "cluster",
            "executor",
            "--scheduler",
            &scheduler,
            "--flight-port",
            &flight,
            "--grpc-port",
            &grpc_text,
            "--cores",
            "1",
            "--work-dir",
            work.to_str().expect("utf-8"),
        ];
        cluster.spawn(&endpoint, &format!("executor-{n}"), &args);
        grpc_ports.push(grpc);
    }
    for (n, port) in grpc_ports.into_iter().enumerate() {
        cluster.wait_for_port(port, &format!("executor {}", n + 1));
    }
    let engine = format!("ballista://{scheduler}");

    // Asks both engines; the same status and the same bytes, or the cluster's logs.
    let both = |args: &[&str]| -> (Output, Output) {
        let local = run(&endpoint, &[&["--warehouse", &remote][..], args].concat());
        let there = run_bounded(&endpoint, &[&["--warehouse", &remote, "--engine", &engine][..], args].concat());
        assert_eq!(
            (local.status.code(), String::from_utf8_lossy(&local.stdout)),
            (there.status.code(), String::from_utf8_lossy(&there.stdout)),
            "{args:?}: local (left) and Ballista (right) differ; Ballista said: {}\n{}",
            String::from_utf8_lossy(&there.stderr),
            cluster.logs()
        );
        (local, there)
    };

    let scopes: [&[&str]; 3] = [&[], &["--county", COUNTY], &["--community", COMMUNITY]];
    let mut answered = 0;
    for scope in scopes {
        for report in REPORTS {
            let args = [&["report"][..], report, &["--format", "csv"], scope].concat();
            let (local, _) = both(&args);
            assert!(local.status.success(), "{args:?}: {}", String::from_utf8_lossy(&local.stderr));
            answered += 1;
        }
        // A query over a join, grouped per community: the same rows on both engines.
        let sql = "SELECT t.community_code, count(*) AS evaluations, count(DISTINCT e.respondent) AS respondents \
                   FROM evaluations e JOIN topics t ON e.community_code = t.community_code AND e.topic_id = t.topic_id \
                   GROUP BY t.community_code ORDER BY t.community_code";
        let (local, _) = both(&[&["sql", sql, "--format", "csv"][..], scope].concat());
        let text = ok(&local, "sql");
        assert!(text.lines().count() > 1, "{scope:?}: the query found rows:\n{text}");
        if scope.len() == 2 && scope[0] == "--community" {
            let communities: Vec<&str> = text.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
            assert_eq!(communities, [COMMUNITY], "a community's query sees its own rows only");
        }
    }
    assert_eq!(answered, 39, "report runs equal on both engines");

    // A community account on the cluster reaches no other community's rows, whatever the SQL.
    let scope = ["--engine", &engine, "--community", COMMUNITY];
    for sql in [
        format!("SELECT count(*) AS n FROM topics WHERE community_code <> '{COMMUNITY}'"),
        format!("SELECT count(*) AS n FROM evaluations WHERE community_code <> '{COMMUNITY}'"),
        "SELECT count(DISTINCT community_code) AS n FROM communities".to_string(),
    ] {
        let out = run_bounded(
            &endpoint,
            &[&["--warehouse", &remote][..], &scope, &["sql", &sql, "--format", "csv"]].concat(),
        );
        let text = ok(&out, &sql);
        let n = text.lines().nth(1).unwrap_or_default().trim();
        let expected = if sql.contains("DISTINCT") { "1" } else { "0" };
        assert_eq!(n, expected, "{sql}: {text}\n{}", cluster.logs());
    }
    // Refusals are the same on the cluster.
    for sql in ["DROP TABLE topics", "SELECT * FROM 's3://x/y.parquet'"] {
        let (_, there) = both(&[&["sql", sql][..], &["--community", COMMUNITY]].concat());
        assert!(!there.status.success(), "{sql} refused on the cluster");
    }

    // The server with `--engine`: a county account's reports over HTTP, as the local
    // server gives them (both servers over the same bucket and account catalog).
    let catalog = format!("sqlite://{}?mode=rwc", dir.path().join("catalog.db").display());
    let token = ok(
        &run(&endpoint, &["--warehouse", &remote, "token", "create", "--catalog", &catalog, "--county", COUNTY]),
        "token",
    );
    let token = token.trim_end().lines().last().expect("token line").to_string();
    let mut listens = Vec::new();
    for (name, engine) in [("serve-local", None), ("serve-ballista", Some(engine.as_str()))] {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["--warehouse", &remote, "serve", "--catalog", &catalog, "--listen", &listen];
        if let Some(engine) = engine {
            args.extend(["--engine", engine]);
        }
        cluster.spawn(&endpoint, name, &args);
        cluster.wait_for_port(port, name);
        listens.push(listen);
    }
    for path in ["/api/v1/reports/communities?year=2025", "/api/v1/reports/quarterly?year=2025&quarter=3"] {
        let local = rows(&authorized_get(&listens[0], path, &token));
        let there = rows(&authorized_get(&listens[1], path, &token));
        assert!(local.as_array().is_some_and(|r| !r.is_empty()), "{path}: rows from the local server: {local}");
        assert_eq!(local, there, "{path}: the server on Ballista answers like the local one\n{}", cluster.logs());
    }
    assert!(Path::new(dir.path()).exists());
}
