//! Hostile ledger files through the CLI: refused with a clear Chinese error, the process
//! alive to say so, the warehouse untouched.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{samples, yishi};

/// Two cells, at A1 and XFD1048576, in a 1.6 KB workbook: calamine's dense range of it
/// would be 512 GiB, and the process aborted ("memory allocation failed").
fn sparse_dimension() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hardening/sparse-dimension.xlsx")
}

fn run(root: &Path, args: &[&str]) -> Output {
    let mut all = vec!["--warehouse", root.to_str().expect("utf8")];
    all.extend_from_slice(args);
    yishi(&all)
}

/// (rows, version) of `table` from `yishi tables --json`.
fn table_state(root: &Path, table: &str) -> (u64, u64) {
    let out = run(root, &["tables", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tables: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let entry = tables.as_array().expect("array").iter().find(|e| e["table"] == table).expect("table");
    (entry["rows"].as_u64().expect("rows"), entry["version"].as_u64().expect("version"))
}

#[test]
fn a_workbook_with_a_cell_at_xfd1048576_is_refused_and_the_table_is_unchanged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh");
    let out = run(&root, &["init"]);
    assert!(out.status.success(), "init: {}", String::from_utf8_lossy(&out.stderr));
    let communities = samples().join("xlsx/communities.xlsx");
    let county = ["--county", "141021", "ingest", "communities"];
    let out = run(&root, &[&county[..], &[communities.to_str().expect("utf8")]].concat());
    assert!(out.status.success(), "samples: {}", String::from_utf8_lossy(&out.stderr));
    let before = table_state(&root, "communities");
    assert!(before.0 > 0);

    let fixture = sparse_dimension();
    assert!(std::fs::metadata(&fixture).expect("fixture").len() < 2048);
    let out = run(&root, &[&county[..], &[fixture.to_str().expect("utf8")]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "中工作表“Sheet1”的单元格 XFD1048576 超出了台账允许的范围（最多 256 列，即 A 到 IV 列；最多 1048576 行）(sheet_out_of_range)"
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("abort") && !stderr.contains("memory allocation"),
        "{stderr}"
    );
    assert_eq!(table_state(&root, "communities"), before);
}
