//! `yishi ingest --dry-run`: what a file would do (新增、更新 with the changed fields、不变、
//! 不合格), with nothing written — no Delta commit, no batch record, no rejects file, no
//! file in the warehouse — and counts equal to those of the real ingest that follows.

use std::path::Path;

use crate::support::{files_under, yishi_in};

fn run(dir: &Path, wh: &str, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--warehouse", wh];
    all.extend_from_slice(args);
    yishi_in(dir, &all)
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    })
}

fn write(dir: &Path, name: &str, rows: &[&str]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("社区代码,干部编号,姓名,职务,是否党员\n{}\n", rows.join("\n"))).expect("write");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_dry_run_writes_nothing_and_counts_what_the_real_ingest_then_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let wh_dir = work.join("wh");
    let wh = wh_dir.to_str().expect("path");
    assert!(run(work, wh, &["init"]).status.success());
    let first = write(
        work,
        "cadres-1.csv",
        &["141021100001,C01,张三,书记,是", "141021100001,C02,李四,委员,否", "141021100002,C01,王五,主任,是"],
    );
    assert!(run(work, wh, &["ingest", "cadres", &first]).status.success());

    // A month later: C01 became 主任 (one change), C02 as before, C03 new, a bad role.
    let later = write(
        work,
        "cadres-2.csv",
        &[
            "141021100001,C01,张三,主任,是",
            "141021100001,C02,李四,委员,否",
            "141021100001,C03,赵六,网格员,否",
            "141021100001,C04,钱七,队长,否",
        ],
    );
    let tables_before = json(&run(work, wh, &["tables", "--json"]));
    let batches_before = json(&run(work, wh, &["batches", "--json"]));
    let files_before = files_under(&wh_dir);

    let out = run(work, wh, &["ingest", "干部", &later, "--partial", "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "rows would be rejected: {stdout}");
    assert!(stdout.contains("预览（未写入）：新增 1、更新 1、不变 1、不合格 1"), "{stdout}");
    assert!(stdout.contains("141021100001 / C01：职务 书记 → 主任"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("队长"), "the bad row is listed");

    let preview = json(&run(work, wh, &["ingest", "cadres", &later, "--partial", "--dry-run", "--json"]));
    let p = &preview[0]["preview"];
    assert_eq!((p["rows_new"].as_u64(), p["rows_updated"].as_u64()), (Some(1), Some(1)), "{p}");
    assert_eq!((p["rows_unchanged"].as_u64(), p["rows_rejected"].as_u64()), (Some(1), Some(1)), "{p}");
    assert_eq!(p["would_commit"], true);
    assert_eq!(p["changes"][0]["key"], "C01");
    assert_eq!(
        p["changes"][0]["fields"],
        serde_json::json!([{"column": "role", "header": "职务", "old": "书记", "new": "主任"}])
    );

    // Strict (no --partial): the bad row would stop the batch, and the preview says so.
    let out = run(work, wh, &["ingest", "cadres", &later, "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("按整批检查不会写入"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Nothing written by the three dry runs.
    assert_eq!(json(&run(work, wh, &["tables", "--json"])), tables_before);
    assert_eq!(json(&run(work, wh, &["batches", "--json"])), batches_before);
    assert_eq!(files_under(&wh_dir), files_before);
    assert!(!work.join("cadres-2.rejects.csv").exists(), "no rejects file from a dry run");

    // The real ingest does what the preview said.
    let real = json(&run(work, wh, &["ingest", "cadres", &later, "--partial", "--json"]));
    let b = &real[0]["batch"];
    assert_eq!((b["rows_inserted"].as_u64(), b["rows_updated"].as_u64()), (Some(1), Some(1)), "{b}");
    assert_eq!((b["rows_unchanged"].as_u64(), b["rows_rejected"].as_u64()), (Some(1), Some(1)), "{b}");
    let batches = json(&run(work, wh, &["batches", "--json"]));
    // The batch log says the same: the MERGE's counts come from the commit's metrics.
    let last = batches.as_array().expect("array").iter().find(|r| r["file_name"] == "cadres-2.csv").expect("batch");
    assert_eq!((last["rows_accepted"].as_u64(), last["rows_rejected"].as_u64()), (Some(3), Some(1)), "{last}");
    assert_eq!((last["rows_inserted"].as_u64(), last["rows_updated"].as_u64()), (Some(1), Some(1)), "{last}");
    assert_eq!(last["rows_unchanged"].as_u64(), Some(1), "{last}");
    let table = String::from_utf8_lossy(&run(work, wh, &["batches"]).stdout).into_owned();
    let line = table.lines().find(|l| l.contains("cadres-2.csv")).expect("the batch's line");
    let cells: Vec<&str> = line.split('┆').map(str::trim).collect();
    // 时间 用户 范围 表 文件 SHA-256 接受 新增 更新 不变 拒绝 结果 版本
    assert_eq!(cells[3], "社区干部", "{line}");
    assert_eq!(cells[6..11], ["3", "1", "1", "1", "1"], "{line}");

    // After it, the same rows again change nothing.
    let again = write(work, "cadres-3.csv", &["141021100001,C01,张三,主任,是", "141021100001,C03,赵六,网格员,否"]);
    let out = run(work, wh, &["ingest", "cadres", &again, "--dry-run"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("新增 0、更新 0、不变 2、不合格 0"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
