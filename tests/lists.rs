//! The lists people act on — the overdue list and the red and black lists — against
//! values worked out BY HAND from the small ledger in `tests/fixtures/lists/`.
//!
//! The ledger: county 甲县 141026 with seven villages 一村 … 七村 (…200001 – …200007).
//! 一村, 二村, 三村 close three topics each on time and publicise them (一村's three are
//! rated 5/5/5/5, 满意); 四村 holds the late items (below); 五村 and 六村 have three topics
//! each still open but due only on 2025-12-31; 七村 has one topic, closed on time.
//!
//! 四村 (cadres K41 李四, K42 周五):
//! - D00 raised 2024-12-01, due 2024-12-31, still 办理中 (K41): open and overdue;
//! - D01 due 2025-02-10, closed 2025-02-15 (K41): closed late;
//! - D02 due 2025-03-01, still 办理中 (K41): open and overdue;
//! - D03 raised 2025-03-10, due 2025-04-30, 待议 (K42): open, not yet due in Q1;
//! - D04 due 2025-01-20, closed 2025-01-18 (K42): on time;
//! - D05 due 2025-02-20, closed 2025-04-05 (K42): open at the end of Q1, closed late in Q2;
//! - rectifications of D04: R01 due 2025-02-10, done 2025-02-14 (closed late);
//!   R02 opened 2025-03-01, due 2025-03-15, not done.
//!
//! Every expected value is a literal with its working beside it.

use std::path::{Path, PathBuf};

use dashboards::charts::{self, ChartData, ChartFormat, ChartName, ChartOptions, ChartRequest};
use dashboards::encoding::json::report_rows;
use ingest::{Scope, Table};
use serde_json::{Map, Value, json};
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;
use warehouse::{IngestOptions, IngestOutcome, Snapshot, Warehouse};

use crate::support::runtime;

type Row = Map<String, Value>;

const C1: &str = "141026200001";
const C4: &str = "141026200004";

fn county() -> Scope {
    Scope::county("141026").expect("county code")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists")
}

/// A fresh warehouse holding the lists ledger (every table, as the platform).
async fn ledger(dir: &Path) -> Warehouse {
    let wh = Warehouse::init(dir.to_str().expect("utf-8 temp path")).await.expect("init");
    let options = IngestOptions {
        scope: &Scope::Platform,
        user: "lists-test",
        partial: false,
        sheet: None,
        header_row: None,
        max_file_bytes: 1 << 20,
        progress: None,
    };
    for table in Table::ALL {
        let file = fixtures().join(format!("{}.csv", table.name()));
        let report = wh.ingest_file(table, &file, &options).await.expect("ingest");
        assert_eq!(report.outcome, IngestOutcome::Committed, "{}", file.display());
    }
    wh
}

async fn report(wh: &Warehouse, kind: ReportKind, scope: &Scope, year: i32, quarter: Option<u32>) -> Report {
    wh.report(kind, scope, year, quarter, &Scheme::default(), &Snapshot::Latest).await.expect("report")
}

/// Each row as (item_id, overdue, days_overdue), in the report's order.
fn items(rows: &[Row]) -> Vec<(String, String, i64)> {
    rows.iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_else(|| panic!("{k} in {r:?}")).to_string();
            (s("item_id"), s("overdue"), r["days_overdue"].as_i64().expect("days_overdue"))
        })
        .collect()
}

fn owned(expected: &[(&str, &str, i64)]) -> Vec<(String, String, i64)> {
    expected.iter().map(|(id, kind, days)| (id.to_string(), kind.to_string(), *days)).collect()
}

#[test]
fn overdue_list_of_a_ledger_with_known_late_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;

        // 2025 Q1, as of 2025-03-31 (the quarter's last day, long past). Sorted by
        // community, cadre, item kind (rectification before topic), id.
        let q1 = report_rows(&report(&wh, ReportKind::Overdue, &county(), 2025, Some(1)).await);
        assert_eq!(
            items(&q1),
            owned(&[
                ("D00", "open_overdue", 90), // 12-31 → 03-31: 31 + 28 + 31
                ("D01", "closed_late", 5),   // due 02-10, closed 02-15
                ("D02", "open_overdue", 30), // 03-01 → 03-31
                ("R01", "closed_late", 4),   // due 02-10, done 02-14
                ("R02", "open_overdue", 16), // 03-15 → 03-31
                ("D05", "open_overdue", 39), // closed only on 04-05: 02-20 → 03-31 = 8 + 31
            ]),
            "not listed: D03 (due 04-30), D04 (on time), 一–三村 and 七村 (on time), 五、六村 (due 12-31)"
        );
        let d00 = &q1[0];
        assert_eq!(d00["as_of"], json!("2025-03-31"));
        assert_eq!(d00["community_name"], json!("四村"));
        assert_eq!(d00["cadre_name"], json!("李四"));
        assert_eq!(d00["deadline"], json!("2024-12-31"));
        assert_eq!(d00["closed_on"], Value::Null);
        assert_eq!(d00["status_label"], json!("办理中"));
        assert_eq!(d00["overdue_label"], json!("逾期未办结"));
        assert_eq!(d00["item_kind_label"], json!("议题"));
        let r01 = &q1[3];
        assert_eq!(r01["item_kind"], json!("rectification"));
        assert_eq!(r01["topic_id"], json!("D04"));
        assert_eq!(r01["title"], json!("垃圾分类"));
        assert_eq!(r01["cadre_name"], json!("周五")); // D04's lead cadre
        assert_eq!(r01["closed_on"], json!("2025-02-14"));
        assert_eq!(r01["overdue_label"], json!("逾期办结"));
        // Counts: 6 in 四村 and in the county; K41 has D00 D01 D02, K42 has R01 R02 D05.
        for r in &q1 {
            assert_eq!(r["overdue_in_community"], json!(6));
            assert_eq!(r["overdue_in_county"], json!(6));
            assert_eq!(r["overdue_of_cadre"], json!(3));
        }

        // 2025 Q2, as of 06-30: D01 and R01 were closed before the quarter; D05 closed late
        // in it; D03 is now past its deadline.
        let q2 = report_rows(&report(&wh, ReportKind::Overdue, &county(), 2025, Some(2)).await);
        assert_eq!(
            items(&q2),
            owned(&[
                ("D00", "open_overdue", 181), // 12-31 → 06-30: 31 + 28 + 31 + 30 + 31 + 30
                ("D02", "open_overdue", 121), // 03-01 → 06-30: 30 + 30 + 31 + 30
                ("R02", "open_overdue", 107), // 03-15 → 06-30: 16 + 30 + 31 + 30
                ("D03", "open_overdue", 61),  // 04-30 → 06-30: 31 + 30
                ("D05", "closed_late", 44),   // due 02-20, closed 04-05: 8 + 31 + 5
            ])
        );
        let of_cadre: Vec<i64> = q2.iter().map(|r| r["overdue_of_cadre"].as_i64().expect("count")).collect();
        assert_eq!(of_cadre, [2, 2, 3, 3, 3]); // K41: D00 D02; K42: R02 D03 D05

        // A community sees its own list; another community has none.
        let own =
            report_rows(&report(&wh, ReportKind::Overdue, &Scope::community(C4).expect("code"), 2025, Some(1)).await);
        assert_eq!(items(&own), items(&q1));
        let none = report(&wh, ReportKind::Overdue, &Scope::community(C1).expect("code"), 2025, Some(1)).await;
        assert_eq!(none.num_rows(), 0);

        // The whole year, as of 12-31: 五村's and 六村's topics are due that very day, so
        // not overdue (the deadline day itself is not late).
        let year = report_rows(&report(&wh, ReportKind::Overdue, &county(), 2025, None).await);
        assert!(year.iter().all(|r| r["community_code"] == json!(C4)), "{year:?}");
    });
}

#[test]
fn red_and_black_lists_with_a_tie_at_the_cut_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let communities = report(&wh, ReportKind::Communities, &county(), 2025, None).await;
        let rows = report_rows(&communities);
        let by_name =
            |name: &str| rows.iter().find(|r| r["community_name"] == json!(name)).unwrap_or_else(|| panic!("{name}"));
        // Scores (25·办结 + 15·按时 + 35·指数/100 + 10·整改 + 10·公示 + 5·会议):
        // 一村 25 + 15 + 35 + 10 + 10 = 95; 二村, 三村 25 + 15 + 10 + 10 = 60;
        // 四村 25·3/5 + 15·1/3 + 0 + 10·0/2 + 0 = 20; 五村, 六村 only 整改 (none opened) = 10;
        // 七村 25 + 15 + 10 = 50 but 1 topic < 3: not ranked.
        let expected = [
            ("一村", 95.0, Some("red")),
            ("二村", 60.0, Some("red")),
            ("三村", 60.0, Some("red")),
            ("四村", 20.0, None),
            ("五村", 10.0, Some("black")),
            ("六村", 10.0, Some("black")),
            ("七村", 50.0, Some("unranked")),
        ];
        // 6 ranked villages: N = min(5, ⌊6 ÷ 3⌋) = 2. Red: fewer than 2 score higher —
        // 一村 (0 higher), 二村 and 三村 (1 higher each): the tie at the cut-off, all in
        // (3 on a list of 2). Black: fewer than 2 score lower — 五村, 六村 (0 lower); 四村
        // has 2 lower, so is on neither.
        for (name, score, list) in expected {
            let r = by_name(name);
            let got = r["score"].as_f64().expect("score");
            assert!((got - score).abs() < 1e-9, "{name}: score {got}, expected {score}");
            assert_eq!(r["list"], list.map_or(Value::Null, |l| json!(l)), "{name}");
        }
        assert_eq!(by_name("二村")["list_label"], json!("红榜"));
        assert_eq!(by_name("六村")["list_label"], json!("黑榜"));
        assert_eq!(by_name("七村")["list_label"], json!("样本不足，不参与排名"));

        // The chart reads the same column: three red tags, two black, 七村 said so.
        let request = ChartRequest { year: 2025, quarter: None };
        let data = ChartData::fetch(
            &wh,
            &[ChartName::CommunityRanking],
            &county(),
            request,
            &Scheme::default(),
            &Snapshot::Latest,
        )
        .await
        .expect("chart data");
        let svg = charts::render(ChartName::CommunityRanking, &data, ChartFormat::Svg, &ChartOptions::default())
            .expect("chart");
        let svg = String::from_utf8(svg).expect("utf-8");
        assert_eq!(svg.matches("60.0 红榜").count(), 2, "二村 and 三村 are both red");
        assert_eq!(svg.matches("95.0 红榜").count(), 1);
        assert_eq!(svg.matches("10.0 黑榜").count(), 2);
        assert!(!svg.contains("20.0 黑榜") && !svg.contains("20.0 红榜"), "四村 is on neither list: {svg}");
        assert!(svg.contains("50.0 样本不足"), "七村 is marked 样本不足");

        // The workbook's 红黑榜 sheet: red by score, black from the bottom, then unranked.
        let book = dashboards::xlsx::report_workbook(&communities, &county()).expect("workbook");
        let path = dir.path().join("communities.xlsx");
        std::fs::write(&path, book).expect("write");
        use calamine::Reader;
        let mut book = calamine::open_workbook_auto(&path).expect("xlsx");
        let sheet = book.worksheet_range("红黑榜").expect("红黑榜 sheet");
        let header: Vec<String> = sheet.rows().next().expect("header").iter().map(|c| c.to_string()).collect();
        let name = header.iter().position(|h| h == "社区名称").expect("社区名称 column");
        let list = header.iter().position(|h| h == "红黑榜").expect("红黑榜 column");
        let listed: Vec<(String, String)> =
            sheet.rows().skip(1).map(|r| (r[name].to_string(), r[list].to_string())).collect();
        let expected: Vec<(String, String)> = [
            ("一村", "红榜"),
            ("二村", "红榜"),
            ("三村", "红榜"),
            ("五村", "黑榜"),
            ("六村", "黑榜"),
            ("七村", "样本不足，不参与排名"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(listed, expected);
    });
}

/// The (community_name, month) row of the monthly report.
fn month_row<'a>(rows: &'a [Row], name: &str, month: i64) -> &'a Row {
    rows.iter()
        .find(|r| r["community_name"] == json!(name) && r["month"] == json!(month))
        .unwrap_or_else(|| panic!("no row {name} month {month}"))
}

#[test]
fn monthly_rates_and_ranking_for_two_months() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        let rows = report_rows(&report(&wh, ReportKind::Monthly, &county(), 2025, None).await);
        assert_eq!(rows.len(), 7 * 12, "7 villages × 12 months, empty months included");
        let close = |r: &Row, key: &str, expected: Option<f64>| match (r[key].as_f64(), expected) {
            (Some(got), Some(want)) => assert!((got - want).abs() < 1e-9, "{key}: {got} ≠ {want}"),
            (got, want) => assert_eq!(got, want, "{key}"),
        };
        // score = 100 × (办结率 + 按时办结率 + 满意率) ÷ 3, a null rate counting 0.
        // January: 一村 A01 closed on time, V01 满意 → 100.
        let r = month_row(&rows, "一村", 1);
        assert_eq!((r["topics_raised"].clone(), r["evaluations"].clone()), (json!(1), json!(1)));
        close(r, "satisfaction_rate", Some(1.0));
        close(r, "monthly_score", Some(100.0));
        assert_eq!(r["month_rank_in_county"], json!(1));
        // 二村 B01 closed on time, no evaluation → 100 × 2/3.
        let r = month_row(&rows, "二村", 1);
        close(r, "satisfaction_rate", None);
        close(r, "monthly_score", Some(200.0 / 3.0));
        assert_eq!(r["month_rank_in_county"], json!(2)); // tied with 三村 and 七村
        assert_eq!(month_row(&rows, "七村", 1)["month_rank_in_county"], json!(2));
        // 四村: D01 (closed late), D02 (open), D04 (closed on time): 办结 2/3, 按时 1/2,
        // no evaluation → 100 × (2/3 + 1/2) ÷ 3 = 350/9.
        let r = month_row(&rows, "四村", 1);
        close(r, "completion_rate", Some(2.0 / 3.0));
        close(r, "on_time_rate", Some(0.5));
        close(r, "monthly_score", Some(350.0 / 9.0));
        assert_eq!(r["month_rank_in_county"], json!(5));
        // 五村: E01 open → 0, last with 六村.
        close(month_row(&rows, "五村", 1), "monthly_score", Some(0.0));
        assert_eq!(month_row(&rows, "六村", 1)["month_rank_in_county"], json!(6));

        // February: 四村 D05 (closed 04-05, after its 02-20 deadline; statuses as of the
        // latest data): 办结 1, 按时 0 → 100/3, 4th after 一村 (100) and 二村/三村 (200/3).
        let r = month_row(&rows, "四村", 2);
        close(r, "completion_rate", Some(1.0));
        close(r, "on_time_rate", Some(0.0));
        close(r, "monthly_score", Some(100.0 / 3.0));
        assert_eq!(r["month_rank_in_county"], json!(4));
        // 七村 raised nothing and was not rated in February: no score, no rank.
        let r = month_row(&rows, "七村", 2);
        assert_eq!((r["monthly_score"].clone(), r["month_rank_in_county"].clone()), (Value::Null, Value::Null));
        assert_eq!(month_row(&rows, "五村", 2)["month_rank_in_county"], json!(5));

        // One month asked: only its rows, the same figures.
        let february = report_rows(&report(&wh, ReportKind::Monthly, &county(), 2025, Some(2)).await);
        assert_eq!(february.len(), 7);
        assert_eq!(month_row(&february, "四村", 2), month_row(&rows, "四村", 2));
        // A month outside 1–12 is refused in Chinese.
        let bad =
            wh.report(ReportKind::Monthly, &county(), 2025, Some(13), &Scheme::default(), &Snapshot::Latest).await;
        assert!(bad.expect_err("month 13").to_string().contains("月份应为 1–12"));
    });
}

#[test]
fn hot_topics_rising_category_and_recurring_title() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = ledger(dir.path()).await;
        // 乙县 八村, 2025 Q1 against 2024 Q4.
        let scope = Scope::county("141021").expect("code");
        let rows = report_rows(&report(&wh, ReportKind::HotTopics, &scope, 2025, Some(1)).await);
        let of = |kind: &str| -> Vec<(Value, i64, i64, i64, i64)> {
            rows.iter()
                .filter(|r| r["hot_kind"] == json!(kind))
                .map(|r| {
                    let key = if kind == "category" { r["hot_category"].clone() } else { r["title_key"].clone() };
                    let n = |k: &str| r[k].as_i64().unwrap_or_else(|| panic!("{k}"));
                    (key, n("topics_now"), n("topics_before"), n("topics_rise"), n("rise_rank"))
                })
                .collect()
        };
        // Categories: infrastructure H01 H02 H03 H07 now, H10 before: 4 − 1 = +3;
        // other H04 H05 now: +2; sanitation H06 now, H11 H12 before: −1; disputes H13
        // before: −1 (tied 3rd).
        assert_eq!(
            of("category"),
            vec![
                (json!("infrastructure"), 4, 1, 3, 1),
                (json!("other"), 2, 0, 2, 2),
                (json!("disputes"), 0, 1, -1, 3),
                (json!("sanitation"), 1, 2, -1, 3),
            ]
        );
        // Recurring titles (raised at least twice in Q1), normalised: "小区 路灯不亮" and
        // "小区路灯不亮　" are "小区路灯不亮" (white space removed), "ＷｉＦｉ信号差" is
        // "wifi信号差" (full-width folded, lower-cased). 垃圾清运 was raised once in Q1.
        assert_eq!(of("title"), vec![(json!("小区路灯不亮"), 4, 1, 3, 1), (json!("wifi信号差"), 2, 0, 2, 2)]);
        let lamp = rows.iter().find(|r| r["title_key"] == json!("小区路灯不亮")).expect("lamp row");
        assert_eq!(lamp["hot_kind_label"], json!("重复议题"));
        assert_eq!(lamp["title"], json!("小区 路灯不亮")); // the first in text order of Q1's originals
        let infra = rows.iter().find(|r| r["hot_category"] == json!("infrastructure")).expect("category row");
        assert_eq!(infra["hot_category_label"], json!("基础设施"));
    });
}
