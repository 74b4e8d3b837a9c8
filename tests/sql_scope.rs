//! Ad-hoc SQL in a tenant scope: the same query sees only the scope's rows, and every
//! statement that is not a read-only query is refused.

use std::sync::OnceLock;

use crate::support::{samples, yishi};

/// A warehouse with the two canonical sample communities, built once for these tests.
fn warehouse() -> &'static str {
    static ROOT: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &ROOT
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let root = dir.path().join("wh").to_str().expect("utf8").to_string();
            assert!(yishi(&["--warehouse", &root, "init"]).status.success());
            for table in ingest::Table::ALL {
                let file = samples().join(format!("canonical/{}.csv", table.name()));
                let out = yishi(&["--warehouse", &root, "ingest", table.name(), file.to_str().expect("utf8")]);
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            }
            (dir, root)
        })
        .1
}

fn sql_json(scope: &[&str], query: &str) -> serde_json::Value {
    let mut args = vec!["--warehouse", warehouse()];
    args.extend_from_slice(scope);
    args.extend(["sql", query, "--format", "json"]);
    let out = yishi(&args);
    assert!(out.status.success(), "{query}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn the_same_query_sees_only_the_scope() {
    let q = "SELECT community_code, count(*) AS n FROM evaluations GROUP BY community_code ORDER BY community_code";
    let all = sql_json(&[], q);
    assert_eq!(all.as_array().map(Vec::len), Some(2), "platform sees both communities");
    let mine = sql_json(&["--community", "141021100001"], q);
    // manifest.json: the first community has 527 evaluations.
    assert_eq!(mine, serde_json::json!([{"community_code": "141021100001", "n": 527}]));
    // A query that names the other community explicitly still finds nothing.
    let other = sql_json(
        &["--community", "141021100001"],
        "SELECT count(*) AS n FROM topics WHERE community_code = '141021100002'",
    );
    assert_eq!(other, serde_json::json!([{"n": 0}]));
    let joined = sql_json(
        &["--community", "141021100001"],
        "SELECT count(DISTINCT t.community_code) AS n FROM topics t JOIN evaluations e ON e.topic_id = t.topic_id",
    );
    assert_eq!(joined, serde_json::json!([{"n": 1}]));
    let county = sql_json(&["--county", "141022"], "SELECT count(*) AS n FROM communities");
    assert_eq!(county, serde_json::json!([{"n": 0}]));
}

#[test]
fn only_read_only_queries_run() {
    for (query, expected) in [
        ("DELETE FROM topics", "不允许写入数据（DML）"),
        ("INSERT INTO topics SELECT * FROM topics", "不允许写入数据（DML）"),
        ("DROP TABLE topics", "不允许修改表结构（DDL）"),
        ("CREATE TABLE x AS SELECT 1", "不允许修改表结构（DDL）"),
        ("CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'", "不允许创建外部表"),
        ("COPY topics TO '/tmp/leak.csv'", "不允许COPY TO 写文件"),
        ("SET datafusion.execution.batch_size = 1", "不允许非查询语句"),
        ("SELECT 1; DROP TABLE topics", "一次只能执行一条查询语句"),
    ] {
        let out = yishi(&["--warehouse", warehouse(), "--community", "141021100001", "sql", query]);
        assert_eq!(out.status.code(), Some(2), "{query}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected) && err.contains("(sql_refused)"), "{query}: {err}");
    }
    // Files cannot be read by naming them.
    let out = yishi(&["--warehouse", warehouse(), "sql", "SELECT * FROM '/etc/passwd'"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("root:"));
}
