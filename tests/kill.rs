//! Killing `yishi ingest` at any moment leaves each table at its previous version or the
//! new one, never between: a real child process is killed at several points of a batch.
//! A file cut short while read and a disk that fills up end the same way, with a message.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::support::{files_under, yishi, yishi_bin};

/// Row count and version of a table as `yishi tables --json` reports them.
fn state(root: &str, table: &str) -> (u64, u64) {
    let out = yishi(&["--warehouse", root, "tables", "--json"]);
    assert!(out.status.success(), "tables after a kill: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let t = v.as_array().expect("array").iter().find(|e| e["table"] == table).expect("table");
    (t["rows"].as_u64().expect("rows"), t["version"].as_u64().expect("version"))
}

/// A generated county of twelve communities in `dir`, its first four tables ingested into
/// the warehouse `dir/wh` (returned as a path string); evaluations are next.
fn before_evaluations(dir: &Path) -> (String, ingest::generator::GeneratedSummary) {
    let config =
        ingest::generator::GeneratorConfig { counties: 1, communities_per_county: 12, years: 1, ..Default::default() };
    let summary = ingest::generator::generate(&config, &dir.join("ledger")).expect("generate");
    let root = dir.join("wh").to_str().expect("utf8").to_string();
    assert!(yishi(&["--warehouse", &root, "init"]).status.success());
    for (table, file) in ingest::Table::ALL.iter().zip(&summary.files).take(4) {
        let out = yishi(&["--warehouse", &root, "ingest", table.name(), file.to_str().expect("utf8")]);
        assert!(out.status.success(), "{table}: {}", String::from_utf8_lossy(&out.stderr));
    }
    (root, summary)
}

#[test]
fn killed_ingest_leaves_old_or_new_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, summary) = before_evaluations(dir.path());
    let root = root.as_str();
    // First the evaluations of half the communities, so later batches are merges that
    // rewrite files, not only appends.
    let full = std::fs::read_to_string(&summary.files[4]).expect("evaluations");
    let mut lines = full.lines();
    let header = lines.next().expect("header");
    let first_half: Vec<&str> = lines.filter(|l| l[..12] <= *summary.community_codes[5]).collect();
    let half = dir.path().join("half.csv");
    std::fs::write(&half, format!("{header}\n{}\n", first_half.join("\n"))).expect("write");
    assert!(yishi(&["--warehouse", root, "ingest", "evaluations", half.to_str().expect("utf8")]).status.success());
    let old = state(root, "evaluations");
    assert_eq!(old.0, first_half.len() as u64);
    let new_rows = summary.rows[&ingest::Table::Evaluations] as u64;
    let snapshot = dir.path().join("wh-half");
    copy_tree(std::path::Path::new(root), &snapshot);

    // How long a whole batch takes, then kills spread over that time.
    let started = Instant::now();
    let whole = yishi(&["--warehouse", root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")]);
    let took = started.elapsed();
    assert!(whole.status.success());
    assert_eq!(state(root, "evaluations").0, new_rows);

    let mut seen_old = 0;
    let mut seen_new = 0;
    for step in 1..=8u32 {
        // Each round starts from the half state again: a fresh copy of the warehouse.
        let round = dir.path().join(format!("round{step}"));
        copy_tree(&snapshot, &round);
        let round_root = round.to_str().expect("utf8");
        let before = state(round_root, "evaluations");
        let mut child = Command::new(yishi_bin())
            .args(["--warehouse", round_root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(took.mul_f64(f64::from(step) / 8.0));
        let _ = child.kill();
        let _ = child.wait();
        let after = state(round_root, "evaluations");
        if after == before {
            seen_old += 1;
        } else {
            assert_eq!(after, (new_rows, before.1 + 1), "kill at {step}/8 left a table between versions");
            seen_new += 1;
        }
        // Wherever the kill landed — before the batch's commit, or after it and before the
        // quarter cells' — the reports give the events' figures.
        for by in [None, Some("category")] {
            assert_eq!(
                quarterly(round_root, by, true),
                quarterly(round_root, by, false),
                "kill at {step}/8, by {by:?}"
            );
        }
        // The warehouse still takes the batch afterwards.
        let out =
            yishi(&["--warehouse", round_root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(state(round_root, "evaluations").0, new_rows);
    }
    assert!(seen_old > 0, "no kill landed before the commit (took {took:?})");
    eprintln!("kills: {seen_old} before commit, {seen_new} after");
}

/// The ledger file is mapped while it is read: cutting it short mid-ingest must end in a
/// clear message and exit status 2, with nothing committed, not in a bare "Bus error".
#[test]
fn a_file_cut_short_mid_ingest_is_reported_and_nothing_is_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, summary) = before_evaluations(dir.path());
    let before = state(&root, "evaluations");
    let copy = dir.path().join("copy.csv");
    std::fs::copy(&summary.files[4], &copy).expect("copy");
    let mut child = Command::new(yishi_bin())
        .args(["--warehouse", &root, "ingest", "evaluations", copy.to_str().expect("utf8")])
        .env("YISHI_LOG", "warehouse=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    // The file has been opened and hashed once the keys are loaded; its rows are next.
    while !seen.contains("references loaded") {
        assert!(stderr.read_line(&mut seen).expect("stderr") > 0, "no log of the keys loaded: {seen}");
    }
    std::fs::OpenOptions::new().write(true).open(&copy).and_then(|f| f.set_len(0)).expect("truncate");
    std::io::Read::read_to_string(&mut stderr, &mut seen).expect("stderr");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(2), "{seen}");
    assert!(seen.contains("正在导入的文件在读取时被截断或改写（SIGBUS），本文件的导入已中止、未提交"), "{seen}");
    assert_eq!(state(&root, "evaluations"), before);
    // The warehouse takes the whole file afterwards.
    let out = yishi(&["--warehouse", &root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state(&root, "evaluations"), (summary.rows[&ingest::Table::Evaluations] as u64, before.1 + 1));
}

/// A disk that fills up while the files are written (here: a file size limit on the child
/// process, so no root is needed to make a small disk): a clear error, exit status 2, no
/// backtrace, the table at its previous version and no file of the batch left behind.
#[test]
fn a_full_disk_mid_ingest_is_reported_and_leaves_nothing_behind() {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, summary) = before_evaluations(dir.path());
    let before = state(&root, "evaluations");
    let mut command = Command::new(yishi_bin());
    command.args(["--warehouse", &root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")]);
    // SAFETY: between fork and exec only async-signal-safe calls (signal, setrlimit). With
    // SIGXFSZ ignored, a write past the limit fails with EFBIG as a full disk fails with
    // ENOSPC: an I/O error on the Parquet file being written.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: 64 << 10, rlim_max: 64 << 10 };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = command.output().expect("run yishi");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("错误：") && err.contains("Delta 表 evaluations 操作失败"), "{err}");
    assert!(!err.contains("panicked") && !err.contains("stack backtrace"), "{err}");
    assert_eq!(state(&root, "evaluations"), before);
    let table = Path::new(&root).join("evaluations");
    let left: Vec<_> = files_under(&table).into_iter().filter(|p| !p.starts_with(table.join("_delta_log"))).collect();
    assert!(left.is_empty(), "files of the failed batch left behind: {left:?}");
    // With room again the same file goes in whole.
    let out = yishi(&["--warehouse", &root, "ingest", "evaluations", summary.files[4].to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(state(&root, "evaluations"), (summary.rows[&ingest::Table::Evaluations] as u64, before.1 + 1));
}

/// `yishi report quarterly --year 2025 [--by …] --format json` of the warehouse at `root`,
/// counted from the events (`YISHI_AGGREGATES=off`) or as the warehouse chooses.
fn quarterly(root: &str, by: Option<&str>, events: bool) -> String {
    let mut command = Command::new(yishi_bin());
    command.args(["--warehouse", root, "report", "quarterly", "--year", "2025", "--format", "json"]);
    if let Some(by) = by {
        command.args(["--by", by]);
    }
    command.env_remove("YISHI_COUNTY").env_remove("YISHI_COMMUNITY").env("YISHI_USER", "tester");
    command.env(warehouse::AGGREGATES_ENV, if events { "off" } else { "on" });
    let out = command.output().expect("run yishi");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
