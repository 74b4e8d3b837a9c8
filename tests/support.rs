//! Shared helpers of the end-to-end tests.

use std::path::{Path, PathBuf};

/// The shared sample ledgers.
pub(crate) fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// The `yishi` binary built for these tests.
pub(crate) fn yishi_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_yishi"))
}

/// A multi-thread runtime for async library calls in tests.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Runs the `yishi` binary with `args` and no inherited scope variables.
pub(crate) fn yishi(args: &[&str]) -> std::process::Output {
    yishi_in(Path::new("."), args)
}

/// Runs the `yishi` binary in folder `dir` (where files it writes by default, such as a
/// rejects file, land) with `args` and no inherited scope variables.
pub(crate) fn yishi_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(yishi_bin())
        .current_dir(dir)
        .args(args)
        .env_remove("YISHI_WAREHOUSE")
        .env_remove("YISHI_COUNTY")
        .env_remove("YISHI_COMMUNITY")
        .env("YISHI_USER", "tester")
        .output()
        .expect("run yishi")
}

/// `yishi export pack --year 2025 --quarter 3` of `county` into `out`; the file names
/// written, sorted.
pub(crate) fn export_pack_2025_q3(root: &str, county: &str, out: &Path) -> Vec<String> {
    let out_text = out.to_str().expect("utf-8 path");
    let args = ["--warehouse", root, "--county", county, "export", "pack", "--year", "2025", "--quarter", "3"];
    let run = yishi(&[&args[..], &["--out", out_text]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let mut files: Vec<String> = std::fs::read_dir(out)
        .expect("pack dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

/// A one-county demo warehouse (`yishi demo generate`, then `yishi ingest` of each table)
/// with `communities` communities, in `dir`; its root and county code.
pub(crate) fn demo_warehouse(dir: &Path, communities: usize) -> (String, String) {
    let ledger = dir.join("ledger");
    let root = dir.join("wh");
    let (ledger_s, root_s) = (ledger.to_str().expect("utf-8"), root.to_str().expect("utf-8").to_string());
    let per_county = communities.to_string();
    let out =
        yishi(&["demo", "generate", "--out", ledger_s, "--counties", "1", "--communities-per-county", &per_county]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = yishi(&["init", "--warehouse", &root_s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for table in ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"] {
        let file = ledger.join(format!("{table}.csv"));
        let out = yishi(&["--warehouse", &root_s, "ingest", table, file.to_str().expect("utf-8")]);
        assert!(out.status.success(), "{table}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let communities = std::fs::read_to_string(ledger.join("communities.csv")).expect("communities.csv");
    let county = communities.lines().nth(1).and_then(|l| l.split(',').nth(2)).expect("a county code").to_string();
    (root_s, county)
}

/// Every file under `dir` (none if it does not exist), in path order.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for path in std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.path()) {
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// A warehouse at `root` holding the hand-made ledger of `tests/fixtures/analyses`
/// (county 甲县 141026 with communities …001–…003, county 乙县 141021 with …001).
pub(crate) async fn fixture_warehouse(root: &str) -> warehouse::Warehouse {
    let wh = warehouse::Warehouse::init(root).await.expect("init");
    for table in ingest::Table::ALL {
        ingest_fixture(&wh, table, &format!("{}.csv", table.name())).await;
    }
    wh
}

/// Ingests `tests/fixtures/analyses/<file>` into `table` as the platform; it must commit.
pub(crate) async fn ingest_fixture(wh: &warehouse::Warehouse, table: ingest::Table, file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses").join(file);
    let options = warehouse::IngestOptions {
        scope: &ingest::Scope::Platform,
        user: "fixture",
        partial: false,
        sheet: None,
        header_row: None,
        max_file_bytes: 10 << 20,
        progress: None,
    };
    let report = wh.ingest_file(table, &path, &options).await.expect("ingest");
    assert_eq!(report.outcome, warehouse::IngestOutcome::Committed, "{file}");
}

/// How long LibreOffice may take to convert one file.
pub(crate) const CONVERT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// `soffice --convert-to pdf` with a profile of its own (parallel runs would share the
/// default one and fail), killed after `CONVERT_TIMEOUT`.
pub(crate) fn convert_to_pdf(file: &Path, dir: &Path) -> PathBuf {
    let profile = dir.join("lo-profile");
    let outdir = dir.join("pdf");
    let mut child = std::process::Command::new("soffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--norestore", "--convert-to", "pdf", "--outdir"])
        .arg(&outdir)
        .arg(file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start soffice");
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for soffice") {
            assert!(status.success(), "soffice failed: {status}");
            break;
        }
        if started.elapsed() > CONVERT_TIMEOUT {
            let _ = child.kill();
            panic!("soffice did not finish converting {} in {CONVERT_TIMEOUT:?}", file.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let pdf = outdir.join(file.with_extension("pdf").file_name().expect("file name"));
    assert!(pdf.is_file(), "LibreOffice wrote no PDF for {} (could it load the file?)", file.display());
    pdf
}

/// A tool's standard output (poppler's pdftotext, pdfinfo …); it must succeed.
pub(crate) fn run_text(tool: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}
