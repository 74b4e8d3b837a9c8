//! The written reports on schedule (`api::schedule`, `yishi serve --schedule-counties`),
//! driven by a test clock over the fixture ledger (甲县 141026: 2024 Q4, 2025 Q1–Q2; 乙县
//! 141021: 2025 Q1 only, so 2024 is outside its years): each due document written once,
//! a correction writing a new file beside the old one, the year-end document after the
//! fourth quarter, every run in the audit log, a period without data audited once; the
//! quarter's report pack as one zip under the same rules.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::documents::DocumentFormat;
use api::schedule::{Clock, NaiveDate, Runs, Schedule, due_quarter};
use ingest::{Scope, Table};

use crate::schemes::server;
use crate::support::{files_under, fixture_warehouse, ingest_fixture, runtime};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

#[test]
fn the_due_quarter_is_the_last_one_ended_days_after_ago() {
    // The day after 2025-06-30 is the first day Q2 is due (days_after 1).
    assert_eq!(due_quarter(day("2025-07-01"), 1), (2025, 2));
    assert_eq!(due_quarter(day("2025-06-30"), 1), (2025, 1));
    assert_eq!(due_quarter(day("2026-01-01"), 1), (2025, 4));
    assert_eq!(due_quarter(day("2025-12-31"), 1), (2025, 3));
    // Ten days after: 2025-04-10 − 10 = 03-31, Q1's last day; a day earlier it is 2024 Q4.
    assert_eq!(due_quarter(day("2025-04-10"), 10), (2025, 1));
    assert_eq!(due_quarter(day("2025-04-09"), 10), (2024, 4));
}

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<Mutex<NaiveDate>>);

impl Clock for TestClock {
    fn today(&self) -> NaiveDate {
        *self.0.lock().expect("clock")
    }
}

fn names(dir: &Path) -> Vec<String> {
    files_under(dir).iter().filter_map(|p| p.file_name()?.to_str().map(str::to_string)).collect()
}

fn docx_title(path: &Path) -> String {
    crate::documents::docx_text(path).chars().take(40).collect()
}

/// 2025-01-02 (2024 Q4 due, and with a fourth quarter the year-end document of 2024):
/// 甲县's two documents; 乙县 has no 2024 (its ledger starts in 2025): no file, two 404
/// runs. Again the same day: nothing (and after a restart nothing either: the files are
/// there). 2025-07-01 (2025 Q2 due): both counties' Q2 (乙县's 2025 has every quarter).
/// After a correction of the topics table: both again under the new versions, the old
/// files kept. Then the server's loop on a test clock at 2025-10-01 (2025 Q3 due) writes
/// 甲县's Q3 once over several ticks.
#[test]
fn scheduled_documents_are_written_once_per_data_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    let out = dir.path().join("out");
    runtime().block_on(async {
        let wh = fixture_warehouse(&root).await;
        let (state, _, _) = server(&root, &catalog).await;
        let schedule = Schedule {
            counties: vec!["141026".into(), "141021".into()],
            days_after: 1,
            out_dir: out.clone(),
            formats: vec![DocumentFormat::Docx],
            pack: false,
            every: Duration::from_secs(1),
        };
        let mut runs = Runs::default();
        let written = runs.run_due(&state, &schedule, day("2025-01-02")).await;
        let mut first = names(&out);
        first.sort();
        assert_eq!(first.len(), 2, "{first:?}");
        assert!(first[0].starts_with("2024年度_满意度分析报告_甲县_数据版本"), "{first:?}");
        assert!(first[1].starts_with("2024年第4季度_满意度分析报告_甲县_数据版本"), "{first:?}");
        assert!(first.iter().all(|n| n.contains("topics=") && n.ends_with(".docx")), "{first:?}");
        let titles: Vec<String> = written.iter().map(|p| docx_title(p)).collect();
        assert!(titles[0].starts_with("甲县2024年第四季度说事议事工作满意度分析报告"), "{titles:?}");
        assert!(titles[1].starts_with("甲县2024年度说事议事工作满意度分析报告"), "{titles:?}");

        assert!(runs.run_due(&state, &schedule, day("2025-01-02")).await.is_empty(), "the same day again");
        assert!(Runs::default().run_due(&state, &schedule, day("2025-01-02")).await.is_empty(), "after a restart");
        assert_eq!(names(&out).len(), 2);

        let q2 = runs.run_due(&state, &schedule, day("2025-07-01")).await;
        let q2_names: Vec<String> = q2.iter().filter_map(|p| p.file_name()?.to_str().map(str::to_string)).collect();
        assert_eq!(q2_names.len(), 2, "{q2_names:?}");
        assert!(q2_names[0].starts_with("2025年第2季度_满意度分析报告_甲县_数据版本"), "{q2_names:?}");
        assert!(q2_names[1].starts_with("2025年第2季度_满意度分析报告_乙县_数据版本"), "{q2_names:?}");

        ingest_fixture(&wh, Table::Topics, "topics_corrected.csv").await;
        let again = runs.run_due(&state, &schedule, day("2025-07-01")).await;
        assert_eq!(again.len(), 2, "both counties' Q2 under the new versions: {again:?}");
        assert!(again.iter().all(|p| !q2.contains(p)), "a new name for new data");
        assert!(q2.iter().all(|p| p.exists()), "the earlier versions are kept");
        assert_eq!(names(&out).len(), 6);

        let clock = TestClock(Arc::new(Mutex::new(day("2025-10-01"))));
        let only_a = Schedule { counties: vec!["141026".into()], ..schedule.clone() };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let looping = tokio::spawn(api::schedule::run(state.clone(), only_a, clock, async {
            let _ = stopped.await;
        }));
        let q3 = |dir: &Path| names(dir).into_iter().filter(|n| n.starts_with("2025年第3季度")).count();
        for _ in 0..120 {
            if q3(&out) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        // Three more ticks of the loop on the same day and data.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        let _ = stop.send(());
        looping.await.expect("the loop ends when told");
        assert_eq!(q3(&out), 1, "{:?}", names(&out));
        assert_eq!(names(&out).len(), 7);

        let audit = state.catalog.audit_log(&Scope::Platform, Some("schedule"), 100).await.expect("audit");
        let ok: Vec<_> = audit.iter().filter(|r| r.status == 200).collect();
        assert_eq!(ok.len(), 7, "one audited run per file");
        assert!(ok.iter().all(|r| r.actor == "定时任务" && Path::new(&r.detail).exists()));
        assert!(
            ok.iter().any(|r| r.target == "document 141026 2025Q3 docx" && r.county_code.as_deref() == Some("141026"))
        );
        // 乙县's 2024 tried by each of the two Runs: 2 × (Q4 and year) refusals, nothing else.
        let refused: Vec<&str> = audit.iter().filter(|r| r.status != 200).map(|r| r.target.as_str()).collect();
        assert_eq!(refused.len(), 4, "{refused:?}");
        assert!(refused.iter().all(|t| t.starts_with("document 141021 2024")), "{refused:?}");
        assert!(audit.iter().filter(|r| r.status != 200).all(|r| r.status == 404));
        state.catalog.close().await;
    });
}

/// The entries of a zip file, by name.
fn zip_names(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).expect("open zip");
    let archive = zip::ZipArchive::new(file).expect("a zip");
    archive.file_names().map(|n| n.expect("an entry name").to_string()).collect()
}

/// `--schedule-formats pack`: on 2025-01-02 甲县's 2024 Q4 pack (a quarter's: no year-end
/// pack), one zip holding the 16 charts (8 as PNG and SVG) and the workbook, named with
/// the data versions; 乙县 has no 2024 (one 404 run). Again, and after a restart:
/// nothing. After a correction: a new zip beside the old one, both audited (and 乙县's
/// 2024 Q4 tried once more on the new data).
#[test]
fn the_scheduled_pack_is_one_zip_per_county_quarter_and_data_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    let out = dir.path().join("out");
    runtime().block_on(async {
        let wh = fixture_warehouse(&root).await;
        let (state, _, _) = server(&root, &catalog).await;
        let schedule = Schedule {
            counties: vec!["141026".into(), "141021".into()],
            days_after: 1,
            out_dir: out.clone(),
            formats: vec![],
            pack: true,
            every: Duration::from_secs(1),
        };
        let mut runs = Runs::default();
        let written = runs.run_due(&state, &schedule, day("2025-01-02")).await;
        assert_eq!(names(&out), vec![written[0].file_name().and_then(|n| n.to_str()).expect("name").to_string()]);
        let first = names(&out).remove(0);
        assert!(first.starts_with("2024年第4季度_报表包_甲县_数据版本"), "{first}");
        assert!(first.contains("topics=") && first.ends_with(".zip"), "{first}");
        let inside = zip_names(&written[0]);
        assert_eq!(inside.len(), 17, "{inside:?}");
        assert!(inside.contains(&"2024年第4季度_满意度分析_甲县.xlsx".to_string()), "{inside:?}");
        assert_eq!(inside.iter().filter(|n| n.ends_with(".png")).count(), 8, "{inside:?}");
        assert!(inside.iter().all(|n| n.ends_with("_甲县.png") || n.ends_with("_甲县.svg") || n.ends_with(".xlsx")));

        assert!(runs.run_due(&state, &schedule, day("2025-01-02")).await.is_empty(), "the same day again");
        assert!(Runs::default().run_due(&state, &schedule, day("2025-01-02")).await.is_empty(), "after a restart");
        assert_eq!(names(&out).len(), 1);

        ingest_fixture(&wh, Table::Topics, "topics_corrected.csv").await;
        let again = runs.run_due(&state, &schedule, day("2025-01-02")).await;
        assert_eq!(again.len(), 1, "甲县's pack under the new versions: {again:?}");
        assert_ne!(again[0], written[0], "a new name for new data");
        assert!(written[0].exists(), "the earlier version is kept");
        assert_eq!(names(&out).len(), 2);

        let audit = state.catalog.audit_log(&Scope::Platform, Some("schedule"), 100).await.expect("audit");
        let ok: Vec<&str> = audit.iter().filter(|r| r.status == 200).map(|r| r.target.as_str()).collect();
        assert_eq!(ok, vec!["pack 141026 2024Q4 zip"; 2]);
        let refused: Vec<_> = audit.iter().filter(|r| r.status != 200).collect();
        // 乙县's 2024 Q4: by each of the two Runs, and again after the correction (new data
        // versions: a new try).
        assert_eq!(refused.len(), 3, "{:?}", refused.iter().map(|r| &r.target).collect::<Vec<_>>());
        assert!(refused.iter().all(|r| r.status == 404 && r.target == "pack 141021 2024Q4 zip"));
        state.catalog.close().await;
    });
}
