//! `yishi ingest TABLE --from URL --query SQL`: a community's own database as the source of
//! a batch, against a real SQLite file and the PostgreSQL server `.ci/run` starts. The rows
//! must land exactly as the same rows from a CSV file do, an unchanged query must change
//! nothing, a bad row must refuse the batch as in a file, the connection must be read-only,
//! and the batch log must name the source and query without the password.

use std::path::Path;

use serde_json::Value;

use crate::api::skipped;
use crate::support::{runtime, samples, yishi};

fn ok(out: &std::process::Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A warehouse with the canonical communities and cadres ingested from their CSV files.
fn warehouse(dir: &Path, name: &str) -> String {
    let root = dir.join(name).to_str().expect("utf-8").to_string();
    ok(&yishi(&["--warehouse", &root, "init"]), "init");
    for table in ["communities", "cadres"] {
        let file = samples().join(format!("canonical/{table}.csv"));
        ok(&yishi(&["--warehouse", &root, "ingest", table, file.to_str().expect("utf-8")]), table);
    }
    root
}

/// The rows of a table as `yishi sql` answers them, sorted.
fn table_rows(root: &str, table: &str, order: &str) -> Value {
    let sql = format!("SELECT * FROM {table} ORDER BY {order}");
    serde_json::from_str(&ok(&yishi(&["--warehouse", root, "sql", &sql, "--format", "json"]), "sql")).expect("json")
}

fn version(root: &str, table: &str) -> u64 {
    let tables: Value =
        serde_json::from_str(&ok(&yishi(&["--warehouse", root, "tables", "--json"]), "tables")).expect("json");
    let t = tables.as_array().into_iter().flatten().find(|t| t["table"] == table).expect("table");
    t["version"].as_u64().expect("version")
}

/// The canonical sessions file's header and rows.
fn sessions_csv() -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(samples().join("canonical/sessions.csv")).expect("sessions.csv");
    let header = reader.headers().expect("header").iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    (header, rows)
}

#[test]
fn a_sqlite_query_is_ingested_like_the_same_rows_from_a_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_file = warehouse(dir.path(), "file");
    let sessions = samples().join("canonical/sessions.csv");
    ok(&yishi(&["--warehouse", &from_file, "ingest", "sessions", sessions.to_str().expect("utf-8")]), "file");
    let from_db = warehouse(dir.path(), "db");

    // The community's own table: other column names, typed columns, a NULL for no units.
    let db = dir.path().join("community.db");
    runtime().block_on(async {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db).create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.expect("sqlite");
        sqlx::query(
            "CREATE TABLE meetings (shequ TEXT, id TEXT, day TEXT, kind TEXT, form TEXT, attendees INTEGER, \
             residents INTEGER, party INTEGER, units TEXT)",
        )
        .execute(&mut conn)
        .await
        .expect("create");
        let (_, rows) = sessions_csv();
        for r in rows {
            let units = if r[8].is_empty() { None } else { Some(r[8].clone()) };
            sqlx::query("INSERT INTO meetings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(&r[0])
                .bind(&r[1])
                .bind(&r[2])
                .bind(&r[3])
                .bind(&r[4])
                .bind(r[5].parse::<i64>().ok())
                .bind(r[6].parse::<i64>().ok())
                .bind(r[7].parse::<i64>().ok())
                .bind(units)
                .execute(&mut conn)
                .await
                .expect("insert");
        }
        conn.close().await.expect("close");
    });
    let url = format!("sqlite://{}", db.display());
    let query = "SELECT shequ AS 社区代码, id AS session_id, day AS held_on, kind, form, attendees, \
                 residents AS resident_reps, party AS party_reps, units FROM meetings";
    let first = ok(&yishi(&["--warehouse", &from_db, "ingest", "会议", "--from", &url, "--query", query]), "from db");
    assert!(first.contains("已写入") && first.contains("来源：sqlite://"), "{first}");
    assert_eq!(
        table_rows(&from_db, "sessions", "community_code, session_id"),
        table_rows(&from_file, "sessions", "community_code, session_id"),
        "the same rows as from the CSV file"
    );

    // The same query again changes nothing.
    let v = version(&from_db, "sessions");
    ok(&yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", query]), "again");
    assert_eq!(version(&from_db, "sessions"), v, "an unchanged answer writes no version");

    // The batch log names the source and the query.
    let batches: Value =
        serde_json::from_str(&ok(&yishi(&["--warehouse", &from_db, "batches", "--json"]), "batches")).expect("json");
    let last = batches.as_array().and_then(|b| b.iter().rev().find(|b| b["table"] == "sessions")).expect("batch");
    let name = last["file_name"].as_str().expect("file_name");
    assert!(name.starts_with("sqlite://") && name.contains("SELECT shequ AS 社区代码"), "{last}");

    // A bad row refuses the batch whole, as in a file; nothing is written.
    let bad = "SELECT shequ AS community_code, id || '-x' AS session_id, 'not a date' AS held_on, kind, form, \
               attendees, residents AS resident_reps, party AS party_reps, units FROM meetings";
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", bad]);
    assert!(!out.status.success(), "bad dates refuse the batch");
    assert_eq!(version(&from_db, "sessions"), v, "nothing written");

    // Read only: a statement that writes fails and the community's data stays.
    let out =
        yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", "DELETE FROM meetings"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("查询出错"), "{}", String::from_utf8_lossy(&out.stderr));
    let again =
        ok(&yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", query]), "still there");
    assert!(!again.contains("错误"), "{again}");

    // Neither a file nor a source: a usage error in Chinese.
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url]);
    assert!(!out.status.success());
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", "mysql://h/db", "--query", "SELECT 1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不支持的数据库地址"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_postgresql_query_reads_dates_and_numbers_as_a_file_would() {
    let Ok(admin) = std::env::var("YISHI_TEST_POSTGRES") else {
        skipped("SKIPPED a_postgresql_query_reads_dates_and_numbers_as_a_file_would: YISHI_TEST_POSTGRES is not set");
        return;
    };
    let required = std::env::var("YISHI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("tempdir");
    let name = format!("yishi_source_{}", std::process::id());
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => panic!("YISHI_TEST_POSTGRES should end with /database"),
    };
    let reached = runtime().block_on(async {
        use sqlx::Connection;
        let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await else { return false };
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create db");
        let mut db = sqlx::PgConnection::connect(&url).await.expect("connect to the new database");
        sqlx::query(
            "CREATE TABLE huiyi (community_code TEXT, session_id TEXT, held_on DATE, kind TEXT, form TEXT, \
             attendees INTEGER, resident_reps SMALLINT, party_reps BIGINT, units TEXT)",
        )
        .execute(&mut db)
        .await
        .expect("create table");
        let (_, rows) = sessions_csv();
        for r in rows {
            let units = if r[8].is_empty() { None } else { Some(r[8].clone()) };
            sqlx::query("INSERT INTO huiyi VALUES ($1, $2, CAST($3 AS DATE), $4, $5, $6, $7, $8, $9)")
                .bind(&r[0])
                .bind(&r[1])
                .bind(&r[2])
                .bind(&r[3])
                .bind(&r[4])
                .bind(r[5].parse::<i32>().ok())
                .bind(r[6].parse::<i16>().ok())
                .bind(r[7].parse::<i64>().ok())
                .bind(units)
                .execute(&mut db)
                .await
                .expect("insert");
        }
        db.close().await.expect("close");
        true
    });
    if !reached {
        assert!(!required, "PostgreSQL at YISHI_TEST_POSTGRES cannot be reached");
        skipped("SKIPPED a_postgresql_query_reads_dates_and_numbers_as_a_file_would: PostgreSQL cannot be reached");
        return;
    }
    let from_file = warehouse(dir.path(), "file");
    let sessions = samples().join("canonical/sessions.csv");
    ok(&yishi(&["--warehouse", &from_file, "ingest", "sessions", sessions.to_str().expect("utf-8")]), "file");
    let from_db = warehouse(dir.path(), "db");
    let query = "SELECT * FROM huiyi";
    let out = ok(&yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", query]), "pg");
    assert!(out.contains("已写入"), "{out}");
    assert!(!out.contains("yishi-ci"), "the password is never shown: {out}");
    assert_eq!(
        table_rows(&from_db, "sessions", "community_code, session_id"),
        table_rows(&from_file, "sessions", "community_code, session_id"),
        "DATE, SMALLINT, INTEGER and BIGINT columns read as the file's text"
    );
    // Read only: a write in the query is refused by the server.
    let write = "INSERT INTO huiyi (session_id) VALUES ('x') RETURNING *";
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", write]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"), "{}", String::from_utf8_lossy(&out.stderr));
    runtime().block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&admin).await.expect("admin");
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)"))).execute(&mut conn).await;
    });
}

/// 12345 work orders as Open311 JSON and XML (`tests/fixtures/sources`): three requests,
/// closed, open and `acknowledged` (no mapping: a row error). Hand-worked from the files
/// and `映射.toml`: GD…0101 已办结 raised 03-01, closed 03-05, deadline 03-01 + 15 days =
/// 03-16, 基础设施, 联办单位 城管局, titled by its description; GD…0202 办理中, deadline its
/// expected_datetime 03-09, 邻里纠纷, titled by its service name (no description); every
/// topic 热线电话, 部门联办, lead cadre C01.
#[test]
fn open311_work_orders_become_topics_with_their_status_mapped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path(), "wh");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources");
    let json = sources.join("12345工单.json");
    let mapping = sources.join("映射.toml");
    let rejects = dir.path().join("rejects.csv");
    let run = |file: &Path, partial: bool| {
        let mut args =
            vec!["--warehouse", &root, "ingest", "议题", file.to_str().expect("utf-8"), "--format", "open311"];
        args.extend(["--mapping", mapping.to_str().expect("utf-8"), "--json"]);
        args.extend(["--rejects-out", rejects.to_str().expect("utf-8")]);
        if partial {
            args.push("--partial");
        }
        yishi(&args)
    };
    // Strict: the unknown status refuses the file whole, naming the row and the value.
    let strict = run(&json, false);
    assert_eq!(strict.status.code(), Some(1), "{}", String::from_utf8_lossy(&strict.stderr));
    let answer: Value = serde_json::from_slice(&strict.stdout).expect("json");
    let errors = answer[0]["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert!(errors[0].to_string().contains("acknowledged") && errors[0]["row"] == 4, "{}", errors[0]);
    // Partial: the two mappable orders go in.
    let partial = run(&json, true);
    assert_eq!(partial.status.code(), Some(1), "rows were rejected");
    let sql = "SELECT topic_id, status, CAST(raised_on AS VARCHAR) AS raised, CAST(deadline AS VARCHAR) AS due, \
               CAST(closed_on AS VARCHAR) AS closed, category, channel, handling_mode, lead_cadre_id, title, units \
               FROM topics ORDER BY topic_id";
    let rows: Value = serde_json::from_str(&ok(&yishi(&["--warehouse", &root, "sql", sql, "--format", "json"]), "sql"))
        .expect("json");
    let rows = rows.as_array().cloned().unwrap_or_else(|| rows["rows"].as_array().cloned().expect("rows"));
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or("").to_string();
    let got: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            [
                "topic_id",
                "status",
                "raised",
                "due",
                "closed",
                "category",
                "channel",
                "handling_mode",
                "lead_cadre_id",
                "title",
            ]
            .iter()
            .map(|k| text(r, k))
            .collect()
        })
        .collect();
    let expected = [
        [
            "GD2025030101",
            "resolved",
            "2025-03-01",
            "2025-03-16",
            "2025-03-05",
            "infrastructure",
            "hotline",
            "joint",
            "C01",
            "小区东门路灯不亮",
        ],
        [
            "GD2025030202",
            "in_progress",
            "2025-03-02",
            "2025-03-09",
            "",
            "disputes",
            "hotline",
            "joint",
            "C01",
            "噪音扰民",
        ],
    ];
    assert_eq!(got, expected.map(|r| r.map(str::to_string)).to_vec(), "{rows:?}");
    assert!(rows[0]["units"].to_string().contains("城管局"), "{}", rows[0]);
    // The same orders as XML are the same rows: nothing changes.
    let topics_version = version(&root, "topics");
    let xml = run(&sources.join("12345工单.xml"), true);
    assert_eq!(xml.status.code(), Some(1), "{}", String::from_utf8_lossy(&xml.stderr));
    assert_eq!(version(&root, "topics"), topics_version, "the XML export holds the same orders");
    // Without a mapping file: a clear error.
    let out = yishi(&["--warehouse", &root, "ingest", "议题", json.to_str().expect("utf-8"), "--format", "open311"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mapping"), "{}", String::from_utf8_lossy(&out.stderr));
}
