//! Analyses against figures computed BY HAND from the small ledger in
//! `tests/fixtures/analyses/` (ingested through the real warehouse).
//!
//! The ledger: county 甲县 141026 with 东岭 (…001, "A1"), 西岭 (…002, "A2") and 南岭
//! (…003, "A3", no activity at all); county 乙县 141021 with 北岭 (…001, "B1"). Data in
//! 2024 Q4 (A1 only) and 2025 Q1–Q2, so the years in scope are 2024–2025. Cadres: A1 has
//! K1 K2 K3, A2 has K4 K5 K6 (K6 leads only 2 topics), B1 has K7 K8.
//!
//! Every expected value below is a literal worked out from the CSV files, with the
//! arithmetic next to it; none is computed by the code under test.

use std::path::{Path, PathBuf};

use dashboards::encoding::json::{report_json, report_rows};
use ingest::{Scope, Table};
use serde_json::{Map, Value, json};
use warehouse::analyses::{Report, ReportKind};
use warehouse::arrow::datatypes::DataType;
use warehouse::scheme::Scheme;
use warehouse::{IngestOptions, IngestOutcome, Snapshot, Warehouse};

use crate::support::runtime;

pub(crate) type Row = Map<String, Value>;

pub(crate) const A1: &str = "141026100001";
pub(crate) const A2: &str = "141026100002";
pub(crate) const A3: &str = "141026100003";
pub(crate) const B1: &str = "141021100001";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses")
}

pub(crate) fn county_a() -> Scope {
    Scope::county("141026").expect("county code")
}

/// Ingests one fixture file as the platform and checks that it committed.
pub(crate) async fn ingest(wh: &Warehouse, table: Table, file: &str) {
    let options = IngestOptions {
        scope: &Scope::Platform,
        user: "analyses-test",
        partial: false,
        sheet: None,
        header_row: None,
        max_file_bytes: 10 << 20,
        progress: None,
    };
    let report = wh.ingest_file(table, &fixtures().join(file), &options).await.expect("ingest");
    assert_eq!(report.outcome, IngestOutcome::Committed, "{file}: {:?}", report.file.map(|f| f.rejected));
}

/// A fresh warehouse holding the whole hand-made ledger.
pub(crate) async fn ledger(dir: &Path) -> Warehouse {
    let root = dir.to_str().expect("utf-8 temp path");
    let wh = Warehouse::init(root).await.expect("init");
    for table in Table::ALL {
        ingest(&wh, table, &format!("{}.csv", table.name())).await;
    }
    wh
}

pub(crate) async fn report(wh: &Warehouse, kind: ReportKind, scope: &Scope, year: i32, quarter: Option<u32>) -> Report {
    wh.report(kind, scope, year, quarter, &Scheme::default(), &Snapshot::Latest).await.expect("report")
}

/// The row whose key columns have these values.
pub(crate) fn row<'a>(rows: &'a [Row], keys: &[(&str, Value)]) -> &'a Row {
    rows.iter()
        .find(|r| keys.iter().all(|(k, v)| r.get(*k) == Some(v)))
        .unwrap_or_else(|| panic!("no row with {keys:?}"))
}

pub(crate) fn quarter_row<'a>(rows: &'a [Row], community: &str, year: i64, quarter: i64) -> &'a Row {
    row(rows, &[("community_code", json!(community)), ("year", json!(year)), ("quarter", json!(quarter))])
}

/// Asserts a float figure to 1e-9 (the expected value is a hand-written fraction).
pub(crate) fn close(r: &Row, key: &str, expected: f64) {
    let got =
        r.get(key).and_then(Value::as_f64).unwrap_or_else(|| panic!("{key} is {:?}, expected {expected}", r.get(key)));
    assert!((got - expected).abs() < 1e-9, "{key}: got {got}, expected {expected}");
}

pub(crate) fn is_null(r: &Row, key: &str) {
    assert_eq!(r.get(key), Some(&Value::Null), "{key} should be null");
}

pub(crate) fn int(r: &Row, key: &str, expected: i64) {
    assert_eq!(r.get(key), Some(&json!(expected)), "{key}");
}

pub(crate) fn text(r: &Row, key: &str, expected: &str) {
    assert_eq!(r.get(key), Some(&json!(expected)), "{key}");
}

#[test]
fn quarterly_figures_and_changes_match_hand_computation() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let y2025 = report_rows(&report(&wh, ReportKind::Quarterly, &county_a(), 2025, None).await);
        // 3 communities of 甲县 × 4 quarters, empty ones included.
        assert_eq!(y2025.len(), 12);

        // 东岭 2025 Q1: sessions S2 S3 (regular), S4 (urgent); topics T03–T07.
        let q1 = quarter_row(&y2025, A1, 2025, 1);
        text(q1, "county_name", "甲县");
        text(q1, "community_name", "东岭社区");
        int(q1, "sessions_held", 3);
        int(q1, "regular_sessions", 2);
        int(q1, "topics_raised", 5);
        int(q1, "topics_closed", 5); // T03 T05 T06 T07 resolved, T04 explained
        close(q1, "completion_rate", 1.0); // 5 closed of 5
        close(q1, "resolution_rate", 0.8); // 4 resolved of 5
        close(q1, "on_time_rate", 0.8); // T07 closed 03-20 after its 03-10 deadline: 4 of 5
        close(q1, "publicity_rate", 0.6); // T03 T05 T07 publicised: 3 of 5
        int(q1, "evaluations", 5); // E01 (of the 2024 topic T01) E02 E03 E04 E05
        close(q1, "satisfaction_rate", 0.6); // E01 E02 satisfied + E03 basically: 3 of 5
        close(q1, "attitude_mean", 4.2); // (5+5+4+4+3)/5
        close(q1, "efficiency_mean", 4.2);
        close(q1, "satisfaction_index", 80.0); // dims 20+20+16+16+12 = 84 over 5: 100×(84/20−1)/4
        int(q1, "rectifications", 2); // R01 on time, R02 still open
        close(q1, "rectification_rate", 0.5); // 1 of 2
        close(q1, "session_rate", 2.0 / 6.0); // 2 regular of 6
        close(q1, "rating_coverage", 0.8); // T03 T05 T06 T07 rated, T04 not: 4 of 5
        close(q1, "days_to_close_median", 15.0); // days 2 14 15 19 24
        close(q1, "days_to_close_p90", 22.0); // position 0.9×4 = 3.6: 19 + 0.6×(24−19)
        // R01/R02 are 2 cases; T06 closed 02-27 after E04 of 02-20.
        text(q1, "quality_flags", "small_sample;closed_after_evaluated");

        // Changes from 2024 Q4 (across the year boundary): T01 T02, S1, E00, no rectification.
        int(q1, "sessions_held_change", 2); // 3 − 1
        int(q1, "topics_raised_change", 3); // 5 − 2
        int(q1, "topics_closed_change", 4); // 5 − 1
        close(q1, "completion_rate_change", 0.5); // 1 − 1/2
        close(q1, "resolution_rate_change", 0.3); // 0.8 − 0.5
        close(q1, "on_time_rate_change", -0.2); // 0.8 − 1
        close(q1, "efficiency_mean_change", 1.2); // 4.2 − 3 (E00 rated efficiency 3)
        close(q1, "result_mean_change", -0.8); // 4.2 − 5
        close(q1, "satisfaction_index_change", 5.0); // 80 − 75 (E00: 4+3+5+4 = 16 → 75)
        int(q1, "rectifications_change", 2); // 2 − 0
        close(q1, "rectification_rate_change", -0.5); // 0.5 − 1 (none opened in 2024 Q4)
        close(q1, "session_rate_change", 1.0 / 6.0); // 2/6 − 1/6
        close(q1, "rating_coverage_change", -0.2); // 0.8 − 1 (T01 rated)
        close(q1, "days_to_close_p90_change", 7.0); // 22 − 15 (T01 took 15 days)

        // 东岭 2025 Q2: S5; T08 T09 T10 T11 all closed on time; E06 (5s) E07 (3s).
        let q2 = quarter_row(&y2025, A1, 2025, 2);
        close(q2, "publicity_rate", 0.5); // T08 T10: 2 of 4
        close(q2, "satisfaction_rate", 1.0); // satisfied + basically satisfied
        close(q2, "satisfaction_index", 75.0); // dims 20+12 = 32 over 2: 100×(32/8−1)/4
        close(q2, "rectification_rate", 1.0); // none opened
        close(q2, "days_to_close_median", 18.5); // days 8 17 20 20: (17+20)/2
        close(q2, "days_to_close_p90", 20.0); // position 2.7: 20 + 0.7×(20−20)
        close(q2, "days_to_close_median_change", 3.5); // 18.5 − 15
        close(q2, "resolution_rate_change", 0.2); // 1 − 0.8
        close(q2, "rectification_rate_change", 0.5); // 1 − 0.5
        int(q2, "rectifications_change", -2); // 0 − 2
        text(q2, "quality_flags", "small_sample"); // 4 topics

        // 东岭 2025 Q3: nothing happened.
        let q3 = quarter_row(&y2025, A1, 2025, 3);
        int(q3, "topics_raised", 0);
        is_null(q3, "completion_rate");
        is_null(q3, "satisfaction_index");
        is_null(q3, "days_to_close_median");
        close(q3, "rectification_rate", 1.0);
        close(q3, "session_rate", 0.0);
        int(q3, "topics_raised_change", -4); // 0 − 4
        is_null(q3, "completion_rate_change"); // this quarter's rate is null
        close(q3, "rectification_rate_change", 0.0); // 1 − 1
        text(q3, "quality_flags", "");

        // 西岭 2025 Q2: U03 U07 U08 closed, none rated.
        let a2q2 = quarter_row(&y2025, A2, 2025, 2);
        close(a2q2, "rating_coverage", 0.0); // 0 of 3
        close(a2q2, "days_to_close_median", 10.0); // days 2 10 14
        close(a2q2, "days_to_close_p90", 13.2); // position 1.8: 10 + 0.8×(14−10)
        text(a2q2, "quality_flags", "small_sample;low_rating_coverage");

        // 南岭 never did anything: zero denominators give nulls, not 0 or 100%.
        let a3 = quarter_row(&y2025, A3, 2025, 1);
        int(a3, "sessions_held", 0);
        int(a3, "evaluations", 0);
        for key in ["completion_rate", "resolution_rate", "on_time_rate", "publicity_rate", "satisfaction_rate"] {
            is_null(a3, key);
        }
        for key in ["attitude_mean", "satisfaction_index", "rating_coverage", "days_to_close_p90"] {
            is_null(a3, key);
        }
        close(a3, "rectification_rate", 1.0); // none opened
        close(a3, "session_rate", 0.0); // no sessions
        int(a3, "sessions_held_change", 0);
        close(a3, "rectification_rate_change", 0.0);

        let y2024 = report_rows(&report(&wh, ReportKind::Quarterly, &county_a(), 2024, Some(4)).await);
        assert_eq!(y2024.len(), 3); // one row per community for 2024 Q4
        // 东岭 2024 Q4: T01 resolved on time and publicised, T02 in progress; E00 4/3/5/4.
        let q4 = quarter_row(&y2024, A1, 2024, 4);
        close(q4, "completion_rate", 0.5); // 1 of 2
        close(q4, "on_time_rate", 1.0);
        close(q4, "attitude_mean", 4.0);
        close(q4, "efficiency_mean", 3.0);
        close(q4, "result_mean", 5.0);
        close(q4, "effect_mean", 4.0);
        close(q4, "satisfaction_index", 75.0); // (16/4 − 1)×25
        close(q4, "session_rate", 1.0 / 6.0);
        // Q3 of 2024 is in the first year with data: counts compare with 0, null rates stay null.
        int(q4, "sessions_held_change", 1); // 1 − 0
        is_null(q4, "completion_rate_change"); // Q3 had no topics
        close(q4, "rectification_rate_change", 0.0); // 1 − 1

        // 2024 Q1 is the first quarter in scope: its previous quarter is before 2024.
        let first = report_rows(&report(&wh, ReportKind::Quarterly, &county_a(), 2024, Some(1)).await);
        let q = quarter_row(&first, A1, 2024, 1);
        is_null(q, "sessions_held_change");
        is_null(q, "rectification_rate_change");
        is_null(q, "session_rate_change");

        // A year outside 2024–2025 has no rows.
        assert_eq!(report(&wh, ReportKind::Quarterly, &county_a(), 2023, None).await.num_rows(), 0);
    });
}

#[test]
fn breakdowns_group_through_the_topic() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::QuarterlyByCategory, &county_a(), 2025, Some(1)).await);
        // 东岭: infrastructure, policy, sanitation; 西岭: infrastructure, policy, property; 南岭: none.
        let groups: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r["community_code"].as_str().unwrap_or(""), r["category"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(
            groups,
            [
                (A1, "infrastructure"),
                (A1, "policy"),
                (A1, "sanitation"),
                (A2, "infrastructure"),
                (A2, "policy"),
                (A2, "property")
            ]
        );
        // 东岭 infrastructure in Q1: topics T03 T07; evaluations E01 (of T01, a 2024
        // infrastructure topic) E02 E05; rectification R02 (of T07).
        let infra = row(&rows, &[("community_code", json!(A1)), ("category", json!("infrastructure"))]);
        int(infra, "topics_raised", 2);
        close(infra, "on_time_rate", 0.5); // T07 late
        close(infra, "publicity_rate", 1.0);
        int(infra, "evaluations", 3);
        close(infra, "satisfaction_rate", 2.0 / 3.0); // E05 dissatisfied
        close(infra, "attitude_mean", 13.0 / 3.0); // (5+5+3)/3
        close(infra, "satisfaction_index", 250.0 / 3.0); // dims 20+20+12 = 52: 25×(52−12)/12
        int(infra, "rectifications", 1);
        close(infra, "rectification_rate", 0.0); // R02 still open
        assert!(!infra.contains_key("sessions_held") && !infra.contains_key("completion_rate_change"));
        // 东岭 policy: T04 explained, no evaluation, no rectification.
        let policy = row(&rows, &[("community_code", json!(A1)), ("category", json!("policy"))]);
        close(policy, "resolution_rate", 0.0); // explained is closed but not resolved
        is_null(policy, "satisfaction_rate");
        close(policy, "rectification_rate", 1.0);

        let channels = report_rows(&report(&wh, ReportKind::QuarterlyByChannel, &county_a(), 2025, Some(1)).await);
        // 东岭 hotline: T03 T06 T07; E01 (T01) E02 E04 E05; R01 R02.
        let hotline = row(&channels, &[("community_code", json!(A1)), ("channel", json!("hotline"))]);
        int(hotline, "topics_raised", 3);
        close(hotline, "on_time_rate", 2.0 / 3.0);
        int(hotline, "evaluations", 4);
        close(hotline, "rectification_rate", 0.5);
    });
}

#[test]
fn cadre_grades_follow_quota_ties_and_minimum_topics() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::Cadres, &county_a(), 2025, None).await);
        assert_eq!(rows.len(), 6);
        let cadre = |id: &str| row(&rows, &[("cadre_id", json!(id))]);

        // K1: T03 T04 T08 closed on time; E01 (of T01, raised 2024) E02 E06 all 5s; none opened.
        let k1 = cadre("K1");
        int(k1, "topics", 3);
        int(k1, "evaluations", 3);
        close(k1, "satisfaction_index", 100.0);
        close(k1, "rectification_rate", 1.0);
        close(k1, "score", 100.0); // 30 + 20 + 35 + 15
        int(k1, "rank_in_county", 1);
        text(k1, "grade", "excellent");
        text(k1, "grade_chinese", "优秀");

        // K2 and K4: 3 topics closed on time, evaluations all 4s (index 75), rectifications
        // closed on time or none: 30 + 20 + 35×75/100 + 15 = 91.25. Ranks 2 and 2.
        // Five rated cadres in 甲县: seats = max(1, ⌊0.2×5⌋) = 1, and K1 scores higher,
        // so both are denied 优秀 despite ≥ 90.
        for id in ["K2", "K4"] {
            let k = cadre(id);
            close(k, "score", 91.25);
            int(k, "rank_in_county", 2);
            text(k, "grade", "competent");
            text(k, "grade_chinese", "称职");
        }
        int(cadre("K2"), "rectifications", 1); // R01, closed on time
        close(cadre("K2"), "satisfaction_rate", 0.5); // E03 basically satisfied, E04 dissatisfied
        int(cadre("K2"), "rank_in_community", 2);
        int(cadre("K4"), "rank_in_community", 1);

        // K3: T07 late, T10 T11 on time; E05 E07 all 3s (index 50); R02 open.
        // 30×1 + 20×2/3 + 35×50/100 + 15×0 = 60.8333…, rank 4 (after 1, 2, 2).
        let k3 = cadre("K3");
        close(k3, "on_time_rate", 2.0 / 3.0);
        close(k3, "satisfaction_index", 50.0);
        close(k3, "rectification_rate", 0.0);
        close(k3, "score", 30.0 + 40.0 / 3.0 + 17.5);
        int(k3, "rank_in_county", 4);
        int(k3, "rank_in_community", 3);
        text(k3, "grade", "basically_competent");

        // K5: U04 on time, U05 late, U06 pending; no evaluation (index null counts 0).
        // 30×2/3 + 20×1/2 + 0 + 15×1 = 45, rank 5.
        let k5 = cadre("K5");
        close(k5, "completion_rate", 2.0 / 3.0);
        is_null(k5, "satisfaction_index");
        close(k5, "score", 45.0);
        int(k5, "rank_in_county", 5);
        text(k5, "grade", "incompetent");

        // K6: only 2 topics — a score (30 + 20 + 0 + 15) but no rank and no grade.
        let k6 = cadre("K6");
        int(k6, "topics", 2);
        close(k6, "score", 65.0);
        assert_eq!(k6["rated"], json!(false));
        is_null(k6, "rank_in_county");
        is_null(k6, "rank_in_community");
        text(k6, "grade", "not_rated");
        text(k6, "grade_chinese", "未评定");

        // 乙县: K7 and K8 both 91.25 (3 topics on time, 4s, none opened); 2 rated cadres,
        // seats = max(1, ⌊0.4⌋) = 1, nobody scores higher: the tie at the cut-off is all in.
        let b =
            report_rows(&report(&wh, ReportKind::Cadres, &Scope::county("141021").expect("code"), 2025, None).await);
        assert_eq!(b.len(), 2);
        for r in &b {
            close(r, "score", 91.25);
            int(r, "rank_in_county", 1);
            text(r, "grade", "excellent");
        }
    });
}

#[test]
fn community_scores_ranks_and_county_averages() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::Communities, &Scope::Platform, 2025, None).await);
        assert_eq!(rows.len(), 4); // every community of the reference table, active or not
        let community = |code: &str| row(&rows, &[("community_code", json!(code))]);

        // 东岭 2025: 9 topics all closed, 8 on time (T07 late), 5 publicised; 7 evaluations
        // with dimension sum 116 → index 25×(116−28)/28 = 550/7; R01 of 2 on time; 3 regular.
        let a1 = community(A1);
        int(a1, "topics_raised", 9);
        int(a1, "evaluations", 7);
        int(a1, "sessions_held", 4);
        close(a1, "on_time_rate", 8.0 / 9.0);
        close(a1, "publicity_rate", 5.0 / 9.0);
        close(a1, "satisfaction_index", 550.0 / 7.0);
        close(a1, "rectification_rate", 0.5);
        close(a1, "session_rate", 0.125); // 3 of 24
        // 25 + 15×8/9 + 35×(550/7)/100 + 10×0.5 + 10×5/9 + 5×0.125 = 58.125 + 170/9
        close(a1, "score", 58.125 + 170.0 / 9.0);
        // 西岭: 7 of 8 closed, 6 of 7 on time, 1 of 7 publicised, index 75, none opened,
        // 1 regular: 25×7/8 + 15×6/7 + 26.25 + 10 + 10/7 + 5/24 = 12200/168
        close(community(A2), "score", 12200.0 / 168.0);
        // 南岭: only rectification_rate (1, none opened) scores: 10×1.
        let a3 = community(A3);
        is_null(a3, "completion_rate");
        close(a3, "score", 10.0);
        // 北岭: 6 of 6 on time, 1 publicised, index 75, 1 regular:
        // 25 + 15 + 26.25 + 10 + 10/6 + 5/24 = 78.125
        close(community(B1), "score", 78.125);

        // Within 甲县: 77.01 > 72.62 > 10; overall 北岭 78.125 comes first.
        for (code, in_county, overall) in [(A1, 1, 2), (A2, 2, 3), (A3, 3, 4), (B1, 1, 1)] {
            int(community(code), "rank_in_county", in_county);
            int(community(code), "rank_overall", overall);
        }
        // 甲县 mean: (58.125 + 170/9 + 12200/168 + 10)/3 = 80455/1512
        close(a1, "county_avg_score", 80455.0 / 1512.0);
        close(community(B1), "county_avg_score", 78.125);
    });
}

#[test]
fn community_scope_sees_only_its_rows_with_the_county_ranks() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let own = Scope::community(A2).expect("code");
        for kind in [ReportKind::Cadres, ReportKind::Communities] {
            let mine = report_rows(&report(&wh, kind, &own, 2025, None).await);
            let county = report_rows(&report(&wh, kind, &county_a(), 2025, None).await);
            let theirs: Vec<&Row> = county.iter().filter(|r| r["community_code"] == json!(A2)).collect();
            assert!(mine.iter().all(|r| r["community_code"] == json!(A2)), "{kind}: another community's row");
            assert_eq!(mine.len(), theirs.len(), "{kind}");
            for (m, c) in mine.iter().zip(theirs) {
                assert_eq!(m, c, "{kind}: a community sees what its county sees of it");
            }
        }
        // Hand values: K4 shares rank 2 of the county, K5 is 5th; 西岭 is 2nd of 3.
        let cadres = report_rows(&report(&wh, ReportKind::Cadres, &own, 2025, None).await);
        assert_eq!(cadres.len(), 3); // K4 K5 K6
        int(row(&cadres, &[("cadre_id", json!("K4"))]), "rank_in_county", 2);
        int(row(&cadres, &[("cadre_id", json!("K5"))]), "rank_in_county", 5);
        let communities = report_rows(&report(&wh, ReportKind::Communities, &own, 2025, None).await);
        assert_eq!(communities.len(), 1);
        int(&communities[0], "rank_in_county", 2);
        int(&communities[0], "rank_overall", 2); // overall = within its county for a community
        close(&communities[0], "county_avg_score", 80455.0 / 1512.0);
        // The quarterly analysis needs no widening: only 西岭's 4 quarters.
        let quarterly = report(&wh, ReportKind::Quarterly, &own, 2025, None).await;
        assert_eq!(quarterly.num_rows(), 4);
    });
}

#[test]
fn county_summary_reads_like_the_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::Counties, &Scope::Platform, 2025, None).await);
        assert_eq!(rows.len(), 2);
        let a = row(&rows, &[("county_code", json!("141026"))]);
        // 3 communities; sessions S2–S5 + 西岭 S1 = 5; topics 9 + 8 = 17; closed 9 + 7 = 16.
        int(a, "communities", 3);
        close(a, "completion_rate", 16.0 / 17.0);
        text(a, "summary", "3个社区，5次会议，17个议题，办结率94.1%"); // 94.117…%
        close(a, "avg_score", 80455.0 / 1512.0);
        close(a, "avg_completion_rate", 0.9375); // (1 + 7/8)/2, 南岭 has no rate
        close(a, "avg_rectification_rate", 5.0 / 6.0); // (0.5 + 1 + 1)/3
        close(a, "avg_session_rate", 1.0 / 18.0); // (3/24 + 1/24 + 0)/3
        let b = row(&rows, &[("county_code", json!("141021"))]);
        text(b, "summary", "1个社区，1次会议，6个议题，办结率100%");

        let y2024 = report_rows(&report(&wh, ReportKind::Counties, &Scope::Platform, 2024, None).await);
        // 2024: 东岭's T01 closed, T02 open; 乙县 had nothing yet.
        text(row(&y2024, &[("county_code", json!("141026"))]), "summary", "3个社区，1次会议，2个议题，办结率50%");
        text(row(&y2024, &[("county_code", json!("141021"))]), "summary", "1个社区，0次会议，0个议题，办结率—");
    });
}

#[test]
fn earlier_versions_reproduce_earlier_figures() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let first = report(&wh, ReportKind::Quarterly, &county_a(), 2025, Some(1)).await;
        // 西岭 2025 Q1: U01 U02 U04 U05 closed, U06 pending; U05 late.
        let before = quarter_row(&report_rows(&first), A2, 2025, 1).clone();
        close(&before, "completion_rate", 0.8); // 4 of 5
        close(&before, "on_time_rate", 0.75); // 3 of 4

        // The next monthly export: U06 resolved on 03-20, within its 03-31 deadline.
        ingest(&wh, Table::Topics, "topics_corrected.csv").await;
        let latest = report(&wh, ReportKind::Quarterly, &county_a(), 2025, Some(1)).await;
        let now = quarter_row(&report_rows(&latest), A2, 2025, 1).clone();
        close(&now, "completion_rate", 1.0); // 5 of 5
        close(&now, "on_time_rate", 0.8); // 4 of 5
        assert!(latest.meta.versions["topics"] > first.meta.versions["topics"]);

        let again = wh
            .report(ReportKind::Quarterly, &county_a(), 2025, Some(1), &Scheme::default(), &first.meta.snapshot())
            .await
            .expect("report at the first versions");
        assert_eq!(again.meta.versions, first.meta.versions);
        assert_eq!(report_rows(&again), report_rows(&first));
    });
}

#[test]
fn a_county_scheme_changes_scores_grades_and_hash() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let file = dir.path().join("甲县方案.toml");
        let toml = "name = \"甲县2025方案\"\n[cadre]\ncompletion_rate = 40\non_time_rate = 10\n\
                    [grades]\nexcellent_quota = 0.4  # 两成改四成\n";
        std::fs::write(&file, toml).expect("write scheme");
        let scheme = Scheme::from_toml_file(&file).expect("scheme");
        let custom =
            wh.report(ReportKind::Cadres, &county_a(), 2025, None, &scheme, &Snapshot::Latest).await.expect("report");
        let default = report(&wh, ReportKind::Cadres, &county_a(), 2025, None).await;
        assert_eq!(custom.meta.scheme_name, "甲县2025方案");
        assert_eq!(default.meta.scheme_name, "数据契约默认方案");
        assert_ne!(custom.meta.scheme_hash, default.meta.scheme_hash);
        assert_eq!(custom.meta.scheme_hash, scheme.hash());

        let rows = report_rows(&custom);
        let cadre = |id: &str| row(&rows, &[("cadre_id", json!(id))]);
        // K3: 40×1 + 10×2/3 + 35×50/100 + 15×0 = 64.1666…
        close(cadre("K3"), "score", 40.0 + 20.0 / 3.0 + 17.5);
        // K5: 40×2/3 + 10×1/2 + 0 + 15 = 46.6666…
        close(cadre("K5"), "score", 80.0 / 3.0 + 5.0 + 15.0);
        // seats = ⌊0.4×5⌋ = 2: the two 91.25s at rank 2 now both get 优秀.
        for id in ["K1", "K2", "K4"] {
            text(cadre(id), "grade", "excellent");
        }
        close(cadre("K2"), "score", 91.25); // 40 + 10 + 26.25 + 15
    });
}

#[test]
fn report_batches_have_plain_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        for kind in ReportKind::ALL {
            let r = report(&wh, kind, &Scope::Platform, 2025, None).await;
            assert_eq!(r.batches.len(), 1, "{kind}");
            let schema = r.batches[0].schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let keys: Vec<&str> = r.columns.iter().map(|c| c.key).collect();
            assert_eq!(names, keys, "{kind}");
            for (field, column) in schema.fields().iter().zip(&r.columns) {
                assert_eq!(field.data_type(), &column.kind.data_type(), "{kind}.{}", column.key);
                assert!(
                    matches!(
                        field.data_type(),
                        DataType::Utf8 | DataType::Int64 | DataType::Float64 | DataType::Boolean
                    ),
                    "{kind}.{}: {}",
                    column.key,
                    field.data_type()
                );
            }
            assert_eq!(r.meta.versions.len(), 6, "{kind}: every table's version");
            // JSON in column order, with the same rows and keys as `rows()`.
            let text = serde_json::to_string(&report_json(&r)).expect("json");
            assert!(text.starts_with("[{\"county_code\":"), "{kind}: {}", text.chars().take(40).collect::<String>());
            let parsed: Vec<Row> = serde_json::from_str(&text).expect("parse");
            let rows = report_rows(&r);
            assert_eq!(parsed.len(), rows.len(), "{kind}");
            for (p, o) in parsed.iter().zip(&rows) {
                assert!(p.keys().eq(o.keys()), "{kind}: same keys");
                assert_eq!(p.get("community_code"), o.get("community_code"), "{kind}");
            }
        }
        // Rows come ordered by their keys.
        let q = report_rows(&report(&wh, ReportKind::Quarterly, &Scope::Platform, 2025, None).await);
        let keys: Vec<(String, i64)> = q
            .iter()
            .map(|r| (r["community_code"].as_str().unwrap_or("").to_string(), r["quarter"].as_i64().unwrap_or(0)))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| (&a.0[..6], &a.0, a.1).cmp(&(&b.0[..6], &b.0, b.1)));
        assert_eq!(keys, sorted);
    });
}

/// Fine print 10 both ways: over a platform or county scope the years in scope come from
/// the Delta log's partition values, over a community scope from its rows; either way a
/// year outside them has no quarterly rows. 甲县 has rows in 2024 and 2025, 乙县 in 2025 only.
#[test]
fn years_in_scope_from_the_log_and_from_the_rows_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let county_b = Scope::county("141021").expect("county code");
        let years = |scope: Scope| {
            let wh = wh.clone();
            async move { wh.session(&scope, &Snapshot::Latest).await.expect("session").years }
        };
        assert_eq!(years(Scope::Platform).await, Some(vec![2024, 2025]));
        assert_eq!(years(county_a()).await, Some(vec![2024, 2025]));
        assert_eq!(years(county_b.clone()).await, Some(vec![2025]));
        assert_eq!(years(Scope::community(A1).expect("code")).await, None);

        let rows = |scope: Scope| {
            let wh = wh.clone();
            async move { report(&wh, ReportKind::Quarterly, &scope, 2024, None).await.num_rows() }
        };
        assert_eq!(rows(county_a()).await, 12); // 3 communities × 4 quarters of 2024
        assert_eq!(rows(county_b).await, 0);
        assert_eq!(rows(Scope::community(A1).expect("code")).await, 4);
        assert_eq!(rows(Scope::community(B1).expect("code")).await, 0);
    });
}
