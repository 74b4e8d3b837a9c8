//! `yishi ingest TABLE --from URL --query SQL`: a community's own database as the source of
//! a batch, against a real SQLite file and the PostgreSQL server `.ci/run` starts. The rows
//! must land exactly as the same rows from a CSV file do, an unchanged query must change
//! nothing, a bad row must refuse the batch as in a file, the connection must be read-only,
//! and the batch log must name the source and query without the password.

use std::path::Path;

use serde_json::Value;

use crate::api::skipped;
use crate::support::{runtime, samples, yishi, yishi_in};

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

/// A community's SQLite file with the canonical sessions as `meetings` under its own
/// column names (shequ, id, day, …), typed columns and a NULL for no units.
fn sqlite_meetings(db: &Path) {
    runtime().block_on(async {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db).create_if_missing(true);
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
    sqlite_meetings(&db);
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
    let out = yishi_in(dir.path(), &["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", bad]);
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
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", "oracle://h/db", "--query", "SELECT 1"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不支持的数据库地址"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A mapping file (`--mapping 列名.toml`, `[columns]`: the database's column → ours) names
/// the database's columns instead of `AS` in the query; `--dry-run` previews the answer
/// as a file's preview and writes nothing. Hand-worked: the 48 canonical sessions are all
/// new before the ingest; after it the same query is the same answer (already ingested),
/// and one session's attendees changed in the database (141021100001's S20250130: 16 → 17) is the one
/// updated row, old → new.
#[test]
fn a_mapping_file_names_a_databases_columns_and_a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let from_file = warehouse(dir.path(), "file");
    let sessions = samples().join("canonical/sessions.csv");
    ok(&yishi(&["--warehouse", &from_file, "ingest", "sessions", sessions.to_str().expect("utf-8")]), "file");
    let root = warehouse(dir.path(), "db");
    let db = dir.path().join("community.db");
    sqlite_meetings(&db);
    let url = format!("sqlite://{}", db.display());
    let query = "SELECT * FROM meetings";
    // Targets as Chinese headers, English names and with the marks offices add.
    let mapping = dir.path().join("列名.toml");
    std::fs::write(
        &mapping,
        "[columns]\nshequ = \"社区代码\"\nID = \"session_id\"\nday = \"*会议日期\"\nresidents = \"居民代表人数\"\nparty = \"party_reps\"\n",
    )
    .expect("mapping");
    let m = mapping.to_str().expect("utf-8");
    let args = |extra: &[&'static str]| {
        let mut a = vec!["--warehouse", &root, "ingest", "会议", "--from", &url, "--query", query, "--mapping", m];
        a.extend_from_slice(extra);
        a
    };

    // Without the mapping the database's names are not ours: the answer is refused.
    let out = yishi(&["--warehouse", &root, "ingest", "会议", "--from", &url, "--query", query]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("缺少"), "{}", String::from_utf8_lossy(&out.stderr));

    // The dry run: 48 new, nothing written.
    let before = version(&root, "sessions");
    let preview = ok(&yishi(&args(&["--dry-run", "--json"])), "dry run");
    let preview: Value = serde_json::from_str(&preview).expect("json");
    assert_eq!(preview[0]["preview"]["rows_new"], 48, "{preview}");
    assert_eq!(preview[0]["preview"]["rows_rejected"], 0, "{preview}");
    assert!(preview[0]["source"].as_str().is_some_and(|s| s.starts_with("sqlite://")), "{preview}");
    assert_eq!(version(&root, "sessions"), before, "a dry run writes nothing");
    let batches: Value =
        serde_json::from_str(&ok(&yishi(&["--warehouse", &root, "batches", "--json"]), "batches")).expect("json");
    assert!(!batches.to_string().contains("SELECT * FROM meetings"), "a dry run records no batch: {batches}");

    // The ingest with the mapping: the file's rows exactly.
    let out = ok(&yishi(&args(&[])), "mapped ingest");
    assert!(out.contains("已写入"), "{out}");
    assert_eq!(
        table_rows(&root, "sessions", "community_code, session_id"),
        table_rows(&from_file, "sessions", "community_code, session_id"),
        "the mapped columns land as the file's"
    );
    let after = version(&root, "sessions");
    let text = ok(&yishi(&args(&["--dry-run"])), "dry run again");
    assert!(text.contains("预览（未写入）") && text.contains("已导入过"), "{text}");

    // One value changed in the database: one row updated, field by field.
    runtime().block_on(async {
        use sqlx::Connection;
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&db);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.expect("sqlite");
        sqlx::query("UPDATE meetings SET attendees = 17 WHERE shequ = '141021100001' AND id = 'S20250130'")
            .execute(&mut conn)
            .await
            .expect("upd");
        conn.close().await.expect("close");
    });
    let preview: Value = serde_json::from_str(&ok(&yishi(&args(&["--dry-run", "--json"])), "dry run 3")).expect("json");
    let p = &preview[0]["preview"];
    assert_eq!(
        (p["rows_new"].as_u64(), p["rows_updated"].as_u64(), p["rows_unchanged"].as_u64()),
        (Some(0), Some(1), Some(47)),
        "{p}"
    );
    let change = p["changes"][0].to_string();
    assert_eq!(p["changes"][0]["community_code"], "141021100001", "{change}");
    assert_eq!(p["changes"][0]["key"], "S20250130", "{change}");
    let field = &p["changes"][0]["fields"][0];
    assert_eq!(
        (&field["column"], &field["old"], &field["new"]),
        (&"attendees".into(), &"16".into(), &"17".into()),
        "{change}"
    );
    assert_eq!(version(&root, "sessions"), after, "still nothing written");

    // A target that is no column of the table, and a source the answer lacks: refused,
    // saying which and where, before anything is read.
    std::fs::write(&mapping, "[columns]\nshequ = \"社区代码\"\nday = \"举办日\"\n").expect("mapping");
    let out = yishi(&args(&[]));
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("列名.toml") && said.contains("“day”") && said.contains("“举办日”不是说事议事会表的列"),
        "{said}"
    );
    assert!(said.contains("会议日期(held_on)"), "the usable columns are listed: {said}");
    std::fs::write(&mapping, "[columns]\nshequ = \"社区代码\"\nriqi = \"held_on\"\n").expect("mapping");
    let said = String::from_utf8_lossy(&yishi(&args(&[])).stderr).into_owned();
    assert!(said.contains("“riqi”不是查询结果的列") && said.contains("shequ、id、day"), "{said}");
    std::fs::write(&mapping, "shequ = \"社区代码\"\n").expect("mapping");
    let said = String::from_utf8_lossy(&yishi(&args(&[])).stderr).into_owned();
    assert!(said.contains("映射文件") && said.contains("有误"), "{said}");
    assert_eq!(version(&root, "sessions"), after, "nothing written by a refused mapping");
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
    // The database's own names through a mapping file: the same answer once renamed, so
    // the dry run and the ingest both find it already ingested.
    let v = version(&from_db, "sessions");
    let mapping = dir.path().join("列名.toml");
    std::fs::write(&mapping, "[columns]\nshequ = \"community_code\"\nhao = \"session_id\"\nriqi = \"held_on\"\n")
        .expect("mapping");
    let renamed = "SELECT community_code AS shequ, session_id AS hao, held_on AS riqi, kind, form, attendees, \
                   resident_reps, party_reps, units FROM huiyi";
    let m = mapping.to_str().expect("utf-8");
    let base = ["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", renamed, "--mapping", m];
    let preview = ok(&yishi(&[&base[..], &["--dry-run"]].concat()), "pg dry run");
    assert!(preview.contains("预览（未写入）") && preview.contains("已导入过"), "{preview}");
    let again = ok(&yishi(&base), "pg mapped");
    assert!(again.contains("未做任何更改"), "{again}");
    assert_eq!(version(&from_db, "sessions"), v, "an unchanged answer writes no version");
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

/// `--from mysql://…` against the MariaDB server `.ci/run` starts (`YISHI_TEST_MYSQL`, an
/// address ending in `/`; `YISHI_REQUIRE_MYSQL=1` makes an unreachable server a failure):
/// the community's own column names through a mapping file, DATE and integer columns read
/// as the file's text through the text protocol, a dry run first (48 new, nothing
/// written), then the same rows as from the CSV file, and a write refused by the
/// read-only session with the table left as it was.
#[test]
fn a_mysql_query_reads_like_a_file_in_a_read_only_session() {
    let Ok(admin) = std::env::var("YISHI_TEST_MYSQL") else {
        skipped("SKIPPED a_mysql_query_reads_like_a_file_in_a_read_only_session: YISHI_TEST_MYSQL is not set");
        return;
    };
    let required = std::env::var("YISHI_REQUIRE_MYSQL").is_ok_and(|v| v == "1");
    let dir = tempfile::tempdir().expect("tempdir");
    let name = format!("yishi_source_{}", std::process::id());
    let url = format!("{}/{name}", admin.trim_end_matches('/'));
    let count = |url: String| {
        runtime().block_on(async move {
            use sqlx::Connection;
            let mut db = sqlx::MySqlConnection::connect(&url).await.expect("connect");
            let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM huiyi").fetch_one(&mut db).await.expect("count");
            n.0
        })
    };
    let reached = runtime().block_on(async {
        use sqlx::Connection;
        let Ok(mut conn) = sqlx::MySqlConnection::connect(&admin).await else { return false };
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}")))
            .execute(&mut conn)
            .await
            .expect("drop db");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name} CHARACTER SET utf8mb4")))
            .execute(&mut conn)
            .await
            .expect("create db");
        let mut db = sqlx::MySqlConnection::connect(&url).await.expect("connect to the new database");
        sqlx::query(
            "CREATE TABLE huiyi (shequ VARCHAR(12), bianhao VARCHAR(64), riqi DATE, kind VARCHAR(20), \
             form VARCHAR(20), attendees INT, resident_reps SMALLINT, party_reps BIGINT, units VARCHAR(200) NULL) \
             DEFAULT CHARSET = utf8mb4",
        )
        .execute(&mut db)
        .await
        .expect("create table");
        let (_, rows) = sessions_csv();
        for r in rows {
            let units = if r[8].is_empty() { None } else { Some(r[8].clone()) };
            sqlx::query("INSERT INTO huiyi VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
        assert!(!required, "MySQL/MariaDB at YISHI_TEST_MYSQL cannot be reached");
        skipped("SKIPPED a_mysql_query_reads_like_a_file_in_a_read_only_session: MySQL/MariaDB cannot be reached");
        return;
    }
    let from_file = warehouse(dir.path(), "file");
    let sessions = samples().join("canonical/sessions.csv");
    ok(&yishi(&["--warehouse", &from_file, "ingest", "sessions", sessions.to_str().expect("utf-8")]), "file");
    let from_db = warehouse(dir.path(), "db");
    let mapping = dir.path().join("列名.toml");
    std::fs::write(&mapping, "[columns]\nshequ = \"社区代码\"\nbianhao = \"会议编号\"\nriqi = \"会议日期\"\n")
        .expect("mapping");
    let m = mapping.to_str().expect("utf-8");
    let base =
        ["--warehouse", &from_db, "ingest", "会议", "--from", &url, "--query", "SELECT * FROM huiyi", "--mapping", m];

    let before = version(&from_db, "sessions");
    let preview: Value =
        serde_json::from_str(&ok(&yishi(&[&base[..], &["--dry-run", "--json"]].concat()), "dry run")).expect("json");
    assert_eq!(preview[0]["preview"]["rows_new"], 48, "{preview}");
    assert_eq!(preview[0]["preview"]["rows_rejected"], 0, "{preview}");
    assert_eq!(version(&from_db, "sessions"), before, "a dry run writes nothing");

    let out = ok(&yishi(&base), "mysql");
    assert!(out.contains("已写入") && out.contains("来源：mysql://yishi:***@"), "{out}");
    assert!(!out.contains("yishi-ci"), "the password is never shown: {out}");
    assert_eq!(
        table_rows(&from_db, "sessions", "community_code, session_id"),
        table_rows(&from_file, "sessions", "community_code, session_id"),
        "DATE, SMALLINT, INT and BIGINT columns read as the file's text"
    );

    // Read only: a write in the query is refused by the server; the table keeps its rows.
    let write = "INSERT INTO huiyi (bianhao) VALUES ('x')";
    let out = yishi(&["--warehouse", &from_db, "ingest", "sessions", "--from", &url, "--query", write]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("查询出错") && said.contains("READ ONLY"), "{said}");
    assert_eq!(count(url.clone()), 48, "the community's table is unchanged");
    runtime().block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::MySqlConnection::connect(&admin).await.expect("admin");
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name}"))).execute(&mut conn).await;
    });
}

/// A 12345 hotline's own JSON export (`12345工单导出.json`: `{"data": [...]}` with 工单编号,
/// 诉求内容, 受理时间, 工单状态 …) through `--format workorders` and `工单映射.toml`.
/// Hand-worked: 12345-2025-0401 已办结 → 已办结, raised 2025/04/01 08:15 → 2025-04-01, closed
/// 2025-04-08, no 办理时限 so deadline 04-01 + 10 days = 04-11, 消防安全 → 治安消防, 承办单位
/// 消防救援大队; 12345-2025-0402 办理中 → 办理中, deadline its 办理时限 2025-04-05, 噪音 not
/// mapped → 其他; every topic 上级反馈, 部门联办, C01. 已退回 (row 4) is not in
/// `[statuses]` and neither is 待议 (row 5), though 待议 is one of our own statuses: both are
/// row errors. The caller's name and number are in no column of the topics.
#[test]
fn a_hotline_work_order_export_is_mapped_field_by_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = warehouse(dir.path(), "wh");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sources");
    let export = sources.join("12345工单导出.json");
    let mapping = sources.join("工单映射.toml");
    let rejects = dir.path().join("rejects.csv");
    let run = |mapping: &Path, extra: &[&str]| {
        let mut args =
            vec!["--warehouse", &root, "ingest", "议题", export.to_str().expect("utf-8"), "--format", "workorders"];
        args.extend(["--mapping", mapping.to_str().expect("utf-8"), "--json"]);
        args.extend(["--rejects-out", rejects.to_str().expect("utf-8")]);
        args.extend_from_slice(extra);
        yishi(&args)
    };
    // The dry run: 2 new, 2 rejected, nothing written.
    let before = version(&root, "topics");
    let preview = run(&mapping, &["--dry-run"]);
    assert_eq!(preview.status.code(), Some(1), "{}", String::from_utf8_lossy(&preview.stderr));
    let preview: Value = serde_json::from_slice(&preview.stdout).expect("json");
    assert_eq!(
        (preview[0]["preview"]["rows_new"].as_u64(), preview[0]["preview"]["rows_rejected"].as_u64()),
        (Some(2), Some(2)),
        "{preview}"
    );
    assert_eq!(version(&root, "topics"), before, "a dry run writes nothing");
    // Strict: the unmapped statuses refuse the file, each named with its row.
    let strict = run(&mapping, &[]);
    assert_eq!(strict.status.code(), Some(1), "{}", String::from_utf8_lossy(&strict.stderr));
    let answer: Value = serde_json::from_slice(&strict.stdout).expect("json");
    let errors = answer[0]["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{answer}");
    assert_eq!((errors[0]["row"].as_u64(), errors[1]["row"].as_u64()), (Some(4), Some(5)), "{answer}");
    assert!(errors[0].to_string().contains("已退回") && errors[0].to_string().contains("[statuses]"), "{}", errors[0]);
    assert!(errors[1].to_string().contains("待议") && errors[1].to_string().contains("unknown_enum"), "{}", errors[1]);
    assert_eq!(version(&root, "topics"), before, "strict: nothing written");
    // Partial: the open and the closed order go in.
    let partial = run(&mapping, &["--partial"]);
    assert_eq!(partial.status.code(), Some(1), "rows were rejected");
    let sql = "SELECT topic_id, status, CAST(raised_on AS VARCHAR) AS raised, CAST(deadline AS VARCHAR) AS due, \
               CAST(closed_on AS VARCHAR) AS closed, category, channel, handling_mode, lead_cadre_id, title, units \
               FROM topics ORDER BY topic_id";
    let rows: Value = serde_json::from_str(&ok(&yishi(&["--warehouse", &root, "sql", sql, "--format", "json"]), "sql"))
        .expect("json");
    let rows = rows.as_array().cloned().unwrap_or_else(|| rows["rows"].as_array().cloned().expect("rows"));
    let keys = [
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
        "units",
    ];
    let got: Vec<Vec<String>> =
        rows.iter().map(|r| keys.iter().map(|k| r[k].as_str().unwrap_or("").to_string()).collect()).collect();
    let expected = [
        [
            "12345-2025-0401",
            "resolved",
            "2025-04-01",
            "2025-04-11",
            "2025-04-08",
            "safety",
            "referral",
            "joint",
            "C01",
            "楼道堆放杂物，存在消防隐患",
            "消防救援大队",
        ],
        [
            "12345-2025-0402",
            "in_progress",
            "2025-04-02",
            "2025-04-05",
            "",
            "other",
            "referral",
            "joint",
            "C01",
            "小区广场舞噪音扰民",
            "",
        ],
    ];
    assert_eq!(got, expected.map(|r| r.map(str::to_string)).to_vec(), "{rows:?}");
    let all = ok(&yishi(&["--warehouse", &root, "sql", "SELECT * FROM topics", "--format", "json"]), "all");
    assert!(!all.contains("王某某") && !all.contains("138****0000"), "no caller in the topics: {all}");

    // A mapping that misses a required field, names an unknown one, or maps a status to
    // something else than open/closed: refused, naming the file and the entry.
    let bad = dir.path().join("坏映射.toml");
    for (text, said) in [
        (
            "community_code = \"141021100001\"\nlead_cadre_id = \"C01\"\n[fields]\nstatus = \"工单状态\"\n",
            "service_request_id",
        ),
        (
            "community_code = \"141021100001\"\nlead_cadre_id = \"C01\"\n[fields]\n\"来电人\" = \"来电人\"\n",
            "“来电人”不是可映射的工单字段",
        ),
        (
            "community_code = \"141021100001\"\nlead_cadre_id = \"C01\"\n[statuses]\n\"已退回\" = \"rejected\"\n",
            "只能是 open（办理中）或 closed（已办结）",
        ),
    ] {
        std::fs::write(&bad, text).expect("mapping");
        let out = run(&bad, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("坏映射.toml") && stderr.contains(said), "{said}: {stderr}");
    }
}
