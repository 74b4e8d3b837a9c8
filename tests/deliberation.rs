//! Deliberation and handling, analysed — meetings, handling modes, joint units and
//! publicity — and the quality flags of every report, against figures worked out BY HAND
//! from the small ledger of `tests/fixtures/analyses/` (see `analyses.rs` for its shape)
//! plus a few rows each test adds, written out below. Every expected value is a literal
//! with its working next to it; none is computed by the code under test.

use std::path::Path;

use dashboards::encoding::json::report_rows;
use ingest::{Scope, Table};
use serde_json::{Value, json};
use warehouse::Warehouse;
use warehouse::analyses::ReportKind;

use crate::analyses::{A1, A2, A3, Row, close, county_a, ingest, int, is_null, ledger, quarter_row, report, row, text};
use crate::support::runtime;

/// Writes `csv` to `dir/name` and ingests it into `table` (an upsert: rows of other keys stay).
async fn add_rows(wh: &Warehouse, dir: &Path, table: Table, name: &str, csv: &str) {
    let path = dir.join(name);
    std::fs::write(&path, csv).expect("write extra rows");
    ingest(wh, table, path.to_str().expect("utf-8 path")).await;
}

/// 南岭 (A3) holds two regular sessions: N1 on 2025-02-28 (February's last day: on schedule,
/// party_reps only) and N2 on 2025-03-16 (the 16th: off schedule, resident_reps only).
const EXTRA_SESSIONS: &str = "community_code,session_id,held_on,kind,form,attendees,resident_reps,party_reps,units
141026100003,N1,2025-02-28,regular,hall,9,,2,
141026100003,N2,2025-03-16,regular,hall,12,6,,
";

/// 北岭 (B1, 乙县) routes W01 to two units at once, separated by 、.
const EXTRA_TOPICS: &str = "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,units,deadline,status,closed_on,publicized_on,publicity_channel
141021100001,W01,,排水改造,infrastructure,hotline,2025-03-05,K7,joint,住建局、城管局,2025-03-31,resolved,2025-03-25,,
";

#[test]
fn meetings_match_hand_computation() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(&dir.path().join("wh")).await;
        add_rows(&wh, dir.path(), Table::Sessions, "extra_sessions.csv", EXTRA_SESSIONS).await;
        let rows = report_rows(&report(&wh, ReportKind::Meetings, &county_a(), 2025, None).await);
        assert_eq!(rows.len(), 12, "3 communities of 甲县 × 4 quarters, empty ones included");

        // 东岭 Q1: S2 01-15 regular (15 attending, 8 residents, 4 party), S3 01-30 regular
        // (10, 5, 3), S4 02-10 urgent (8, 4, 2). Topics naming them: S2 T03 T04, S3 T05,
        // S4 T06 T07 = 5. Regular sessions' topics T03 (01-15 − 01-05 = 10 days: early),
        // T04 (01-15 − 01-10 = 5), T05 (raised 02-01, after S3 01-30: −2).
        let q1 = quarter_row(&rows, A1, 2025, 1);
        text(q1, "community_name", "东岭社区");
        int(q1, "sessions_held", 3);
        int(q1, "regular_sessions", 2);
        int(q1, "unscheduled_sessions", 1);
        int(q1, "regular_on_schedule", 2); // the 15th and the 30th
        close(q1, "on_schedule_rate", 1.0);
        int(q1, "topics_deliberated", 5);
        close(q1, "topics_per_session", 5.0 / 3.0);
        close(q1, "attendees_mean", 11.0); // (15 + 10 + 8) / 3
        close(q1, "resident_reps_mean", 17.0 / 3.0); // (8 + 5 + 4) / 3
        close(q1, "party_reps_mean", 3.0); // (4 + 3 + 2) / 3
        int(q1, "regular_topics", 3);
        int(q1, "topics_fixed_early", 1); // T03 only: exactly 10 days counts
        close(q1, "fixed_early_rate", 1.0 / 3.0);

        // 东岭 Q2: S5 04-15 regular (14, 7, 4) with T08 (04-02: 13 days), T09 (04-05: 10),
        // T10 (05-01: after it).
        let q2 = quarter_row(&rows, A1, 2025, 2);
        int(q2, "sessions_held", 1);
        int(q2, "topics_deliberated", 3);
        close(q2, "topics_per_session", 3.0);
        close(q2, "attendees_mean", 14.0);
        int(q2, "topics_fixed_early", 2);
        close(q2, "fixed_early_rate", 2.0 / 3.0);

        // 东岭 Q3: no session — counts 0, means and rates null.
        let q3 = quarter_row(&rows, A1, 2025, 3);
        int(q3, "sessions_held", 0);
        int(q3, "topics_deliberated", 0);
        is_null(q3, "topics_per_session");
        is_null(q3, "attendees_mean");
        is_null(q3, "on_schedule_rate");
        is_null(q3, "fixed_early_rate");

        // 西岭 Q1: S1 02-15 regular (11, 6, 3) with U01 (02-01: 14 days), U02 (02-05: 10),
        // U04 (02-10: 5), U05 (02-12: 3).
        let w1 = quarter_row(&rows, A2, 2025, 1);
        int(w1, "topics_deliberated", 4);
        close(w1, "topics_per_session", 4.0);
        close(w1, "party_reps_mean", 3.0);
        int(w1, "topics_fixed_early", 2);
        close(w1, "fixed_early_rate", 0.5);

        // 南岭 Q1 (the added rows): N1 02-28 (February's last day: on schedule), N2 03-16
        // (off schedule). Attendees (9 + 12) / 2; resident_reps only on N2 (6), party_reps
        // only on N1 (2): blanks are left out of the means, not counted as 0. No topics.
        let s1 = quarter_row(&rows, A3, 2025, 1);
        int(s1, "sessions_held", 2);
        int(s1, "regular_on_schedule", 1);
        close(s1, "on_schedule_rate", 0.5);
        close(s1, "attendees_mean", 10.5);
        close(s1, "resident_reps_mean", 6.0);
        close(s1, "party_reps_mean", 2.0);
        close(s1, "topics_per_session", 0.0);
        int(s1, "regular_topics", 0);
        is_null(s1, "fixed_early_rate");

        // A quarter asked keeps that quarter only.
        let only_q2 = report_rows(&report(&wh, ReportKind::Meetings, &county_a(), 2025, Some(2)).await);
        assert_eq!(only_q2.len(), 3);
        assert!(only_q2.iter().all(|r| r.get("quarter") == Some(&json!(2))));
    });
}

#[test]
fn handling_modes_and_units_match_hand_computation() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(&dir.path().join("wh")).await;
        add_rows(&wh, dir.path(), Table::Topics, "extra_topics.csv", EXTRA_TOPICS).await;
        let rows = report_rows(&report(&wh, ReportKind::Handling, &county_a(), 2025, Some(1)).await);
        let mode = |community: &str, mode: &str| {
            row(&rows, &[("community_code", json!(community)), ("handling_mode", json!(mode))]).clone()
        };
        // 东岭 Q1 topics: T03 T04 T05 self, T06 T07 joint (5). Self: all closed by their
        // deadlines; evaluations in Q1 of self topics E01 (of T01, a 2024 self topic: 5555
        // satisfied), E02 (5555 satisfied), E03 (4444 basically) → index (100+100+75)/3.
        let own = mode(A1, "self");
        text(&own, "handling_mode_label", "社区自办");
        close(&own, "topic_share", 0.6); // 3 of 5
        int(&own, "topics_raised", 3);
        int(&own, "topics_closed", 3);
        close(&own, "completion_rate", 1.0);
        close(&own, "on_time_rate", 1.0);
        int(&own, "evaluations", 3);
        close(&own, "satisfaction_rate", 1.0);
        close(&own, "satisfaction_index", 275.0 / 3.0);
        // Joint: T06 closed 02-27 by 02-28, T07 closed 03-20 after 03-10; E04 (4444) and
        // E05 (3333) both dissatisfied → index (75 + 50) / 2.
        let joint = mode(A1, "joint");
        text(&joint, "handling_mode_label", "部门联办");
        close(&joint, "topic_share", 0.4);
        close(&joint, "on_time_rate", 0.5);
        int(&joint, "evaluations", 2);
        close(&joint, "satisfaction_rate", 0.0);
        close(&joint, "satisfaction_index", 62.5);
        assert!(
            !rows.iter().any(|r| r.get("community_code") == Some(&json!(A1))
                && r.get("handling_mode") == Some(&json!("proxy"))),
            "no proxy topic or evaluation in 东岭 Q1: no row"
        );
        // 西岭 Q1: U01 U02 U04 U05 self (U05 closed 03-01 after 02-22), U06 joint pending.
        let own = mode(A2, "self");
        close(&own, "topic_share", 0.8);
        close(&own, "on_time_rate", 0.75);
        let joint = mode(A2, "joint");
        close(&joint, "topic_share", 0.2);
        close(&joint, "completion_rate", 0.0);
        is_null(&joint, "on_time_rate"); // nothing closed
        is_null(&joint, "satisfaction_rate"); // no evaluation

        // Units of 甲县 Q1: T06 住建局 (on time; E04 4444 dissatisfied), T07 城管局 (late;
        // E05 3333 dissatisfied), U06 市场监管局 (pending, no evaluation).
        let units = report_rows(&report(&wh, ReportKind::Units, &county_a(), 2025, Some(1)).await);
        assert_eq!(units.len(), 3, "{units:?}");
        let unit = |rows: &[Row], county: &str, name: &str| {
            row(rows, &[("county_code", json!(county)), ("unit", json!(name))]).clone()
        };
        let housing = unit(&units, "141026", "住建局");
        text(&housing, "county_name", "甲县");
        int(&housing, "topics_routed", 1);
        int(&housing, "closed_on_time", 1);
        close(&housing, "on_time_rate", 1.0);
        int(&housing, "evaluations", 1);
        close(&housing, "satisfaction_index", 75.0);
        let city = unit(&units, "141026", "城管局");
        int(&city, "closed_on_time", 0);
        close(&city, "on_time_rate", 0.0);
        close(&city, "satisfaction_index", 50.0);
        let market = unit(&units, "141026", "市场监管局");
        int(&market, "topics_routed", 1);
        int(&market, "topics_closed", 0);
        close(&market, "completion_rate", 0.0);
        is_null(&market, "on_time_rate");
        int(&market, "evaluations", 0);

        // 乙县: W01 lists 住建局、城管局 — one topic, a row for each unit, its own county's.
        let county_b = Scope::county("141021").expect("county code");
        let units_b = report_rows(&report(&wh, ReportKind::Units, &county_b, 2025, Some(1)).await);
        assert_eq!(units_b.len(), 2, "{units_b:?}");
        for name in ["住建局", "城管局"] {
            let u = unit(&units_b, "141021", name);
            int(&u, "topics_routed", 1);
            int(&u, "closed_on_time", 1); // closed 03-25 by 03-31
            is_null(&u, "satisfaction_rate");
        }
    });
}

#[test]
fn publicity_matches_hand_computation() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::Publicity, &county_a(), 2025, None).await);
        assert_eq!(rows.len(), 12);
        // 东岭 Q1 closed: T03 (closed 01-20, board 01-22: 2 days), T04, T05 (02-15, group
        // chat 02-16: 1), T06, T07 (03-20, board 03-21: 1) → 3 of 5 published.
        let q1 = quarter_row(&rows, A1, 2025, 1);
        int(q1, "topics_closed", 5);
        int(q1, "topics_publicized", 3);
        close(q1, "publicity_rate", 0.6);
        close(q1, "board_share", 2.0 / 3.0);
        close(q1, "wechat_account_share", 0.0);
        close(q1, "group_chat_share", 1.0 / 3.0);
        close(q1, "days_to_publish_median", 1.0); // 1, 1, 2
        close(q1, "days_to_publish_mean", 4.0 / 3.0);
        // 东岭 Q2: T08 (04-10, wechat account 04-12: 2), T09, T10 (05-18, board 05-19: 1),
        // T11 → 2 of 4; median of 1 and 2 = 1.5.
        let q2 = quarter_row(&rows, A1, 2025, 2);
        close(q2, "publicity_rate", 0.5);
        close(q2, "board_share", 0.5);
        close(q2, "wechat_account_share", 0.5);
        close(q2, "days_to_publish_median", 1.5);
        close(q2, "days_to_publish_mean", 1.5);
        // 西岭 Q1: U01 U02 U04 U05 closed (U06 pending); U01 on the board 2 days after.
        let w1 = quarter_row(&rows, A2, 2025, 1);
        int(w1, "topics_closed", 4);
        close(w1, "publicity_rate", 0.25);
        close(w1, "board_share", 1.0);
        close(w1, "days_to_publish_median", 2.0);
        // 南岭: nothing closed — rates and days null.
        let s1 = quarter_row(&rows, A3, 2025, 1);
        int(s1, "topics_closed", 0);
        is_null(s1, "publicity_rate");
        is_null(s1, "board_share");
        is_null(s1, "days_to_publish_median");
    });
}

/// F90 rates 西岭's U01 (closed 2025-02-10) on 2025-05-20: 99 days after, backdated (Q2).
/// E90 rates 东岭's T09 (closed 2025-04-25) on 2025-07-24: exactly 90 days, not backdated.
const LATE_EVALUATIONS: &str =
    "community_code,evaluation_id,topic_id,evaluated_on,respondent,attitude,efficiency,result,effect,verdict,comment
141026100002,F90,U01,2025-05-20,居民寅,4,4,4,4,satisfied,
141026100001,E90,T09,2025-07-24,居民卯,4,4,4,4,satisfied,
";

fn flags(r: &Row) -> Vec<&str> {
    r.get("quality_flags")
        .and_then(Value::as_str)
        .expect("quality_flags")
        .split(';')
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn every_report_flags_small_samples_and_backdated_ratings() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(&dir.path().join("wh")).await;
        // Before the late ratings: 西岭's K4 leads U01 U02 U03 (3 topics, the minimum: graded,
        // on a small sample); its 2 evaluations F01 F02 are in time.
        let cadres = report_rows(&report(&wh, ReportKind::Cadres, &county_a(), 2025, None).await);
        let k4 = row(&cadres, &[("cadre_id", json!("K4"))]);
        assert_ne!(k4.get("grade"), Some(&json!("not_rated")));
        assert_eq!(flags(k4), ["small_sample"]);
        text(k4, "quality_flags_label", "样本过少");

        add_rows(&wh, dir.path(), Table::Evaluations, "late.csv", LATE_EVALUATIONS).await;
        let cadres = report_rows(&report(&wh, ReportKind::Cadres, &county_a(), 2025, None).await);
        let k4 = row(&cadres, &[("cadre_id", json!("K4"))]);
        assert_eq!(flags(k4), ["small_sample", "backdated"]);
        text(k4, "quality_flags_label", "样本过少、评价远晚于办结");
        // K2 leads T09, rated exactly 90 days after closure: not backdated.
        let k2 = row(&cadres, &[("cadre_id", json!("K2"))]);
        assert!(!flags(k2).contains(&"backdated"), "{k2:?}");

        let quarterly = report_rows(&report(&wh, ReportKind::Quarterly, &county_a(), 2025, None).await);
        assert!(flags(quarter_row(&quarterly, A2, 2025, 2)).contains(&"backdated"));
        assert!(!flags(quarter_row(&quarterly, A2, 2025, 1)).contains(&"backdated"));
        assert!(!flags(quarter_row(&quarterly, A1, 2025, 3)).contains(&"backdated"));

        // 西岭's year: U01–U08 raised (8), closed 7 (U06 pending), rated U01 U02 (2 of 7 <
        // half: low coverage), evaluations F01 F02 F90 (3: small sample).
        let communities = report_rows(&report(&wh, ReportKind::Communities, &county_a(), 2025, None).await);
        let west = row(&communities, &[("community_code", json!(A2))]);
        assert_eq!(flags(west), ["small_sample", "low_rating_coverage", "backdated"]);
        let east = row(&communities, &[("community_code", json!(A1))]);
        assert!(!flags(east).contains(&"backdated"), "{east:?}");
        // 东岭's T06 was closed 02-27, after its first evaluation E04 of 02-20.
        assert!(flags(east).contains(&"closed_after_evaluated"), "{east:?}");

        // 甲县: any community backdated → the county row too; 乙县 has none.
        let counties = report_rows(&report(&wh, ReportKind::Counties, &Scope::Platform, 2025, None).await);
        let jia = row(&counties, &[("county_code", json!("141026"))]);
        assert!(flags(jia).contains(&"backdated"), "{jia:?}");
        let yi = row(&counties, &[("county_code", json!("141021"))]);
        assert!(!flags(yi).contains(&"backdated"), "{yi:?}");
    });
}
