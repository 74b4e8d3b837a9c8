//! The document's tables, built from the same rows and the same formatting as its
//! sentences ([`super::narrative`]), so every figure a sentence states is in a table.

use warehouse::analyses::{Figure, Grade};

use super::narrative::{self, Compared, Totals};
use super::{Row, Table, int, num, text};

/// How many overdue items the document lists (the workbook's 逾期清单 has them all).
const OVERDUE_ROWS: usize = 30;

fn table(headers: &[&str], widths: &[u32], rows: Vec<Vec<String>>) -> Table {
    Table {
        caption: String::new(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
        widths: widths.to_vec(),
    }
}

/// 指标 | 本季度 | 上季度 | 较上季度 | 上年同期 | 较上年同期.
pub(super) fn comparison(now: &Totals, previous: &Totals, year_ago: &Totals) -> Table {
    let against = |c: Compared, before: &Totals| {
        if before.has_data { (c.value_text(before), c.change_text(now, before)) } else { ("—".into(), "—".into()) }
    };
    let rows = Compared::ALL
        .iter()
        .map(|c| {
            let (p, pc) = against(*c, previous);
            let (y, yc) = against(*c, year_ago);
            vec![c.label(), c.value_text(now), p, pc, y, yc]
        })
        .collect();
    table(&["指标", "本季度", "上季度", "较上季度", "上年同期", "较上年同期"], &[22, 12, 12, 18, 12, 18], rows)
}

/// One row per community of the quarter and the pooled 合计 row.
pub(super) fn communities(rows: &[Row]) -> Table {
    let count = |row: &Row, f: Figure| int(row, f).map_or_else(|| "—".into(), |n| n.to_string());
    let mut out: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                text(row, Figure::CommunityName).to_string(),
                count(row, Figure::SessionsHeld),
                count(row, Figure::TopicsRaised),
                count(row, Figure::TopicsClosed),
                narrative::percent(num(row, Figure::CompletionRate)),
                count(row, Figure::Evaluations),
                narrative::percent(num(row, Figure::SatisfactionRate)),
                narrative::points(num(row, Figure::SatisfactionIndex)),
                text(row, Figure::QualityFlagsLabel).to_string(),
            ]
        })
        .collect();
    let t = Totals::of(rows);
    out.push(vec![
        "合计".into(),
        t.sessions.to_string(),
        t.topics.to_string(),
        t.closed.to_string(),
        narrative::percent(t.completion_rate()),
        t.evaluations.to_string(),
        narrative::percent(t.satisfaction_rate()),
        narrative::points(t.satisfaction_index()),
        String::new(),
    ]);
    table(
        &[
            "社区",
            "会议\n次数",
            "议题\n数",
            "办结\n数",
            "办结率",
            "评价\n数",
            "满意率",
            "满意度\n指数",
            "数据质量\n提示",
        ],
        &[16, 8, 8, 8, 10, 8, 10, 10, 22],
        out,
    )
}

/// The year's community assessment by rank: 社区 | 议题 | 得分 | 县内排名 | 红黑榜.
pub(super) fn assessment(rows: &[Row]) -> Table {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| {
        (int(r, Figure::RankInCounty).unwrap_or(i64::MAX), text(r, Figure::CommunityName).to_string())
    });
    let out = sorted
        .iter()
        .map(|row| {
            vec![
                text(row, Figure::CommunityName).to_string(),
                int(row, Figure::TopicsRaised).unwrap_or(0).to_string(),
                narrative::score(num(row, Figure::CommunityScore)),
                int(row, Figure::RankInCounty).map_or_else(|| "—".into(), |n| n.to_string()),
                text(row, Figure::ListLabel).to_string(),
            ]
        })
        .collect();
    table(&["社区", "年度议题\n（件）", "得分（分）", "县内排名", "红黑榜"], &[24, 14, 12, 10, 22], out)
}

/// The overdue items, longest overdue first, at most [`OVERDUE_ROWS`]; and how many shown.
pub(super) fn overdue(rows: &[Row]) -> (Table, usize) {
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| std::cmp::Reverse(int(r, Figure::DaysOverdue).unwrap_or(0)));
    sorted.truncate(OVERDUE_ROWS);
    let out: Vec<Vec<String>> = sorted
        .iter()
        .map(|row| {
            vec![
                text(row, Figure::CommunityName).to_string(),
                text(row, Figure::ItemKindLabel).to_string(),
                text(row, Figure::Title).to_string(),
                text(row, Figure::CadreName).to_string(),
                text(row, Figure::Deadline).to_string(),
                text(row, Figure::OverdueLabel).to_string(),
                int(row, Figure::DaysOverdue).unwrap_or(0).to_string(),
            ]
        })
        .collect();
    let shown = out.len();
    let headers = ["社区", "类型", "议题名称", "责任人", "时限", "逾期类型", "逾期天数"];
    (table(&headers, &[16, 7, 22, 9, 14, 13, 9], out), shown)
}

/// 指标 | 本年 | 上年 | 较上年.
pub(super) fn year_comparison(now: &Totals, last_year: &Totals) -> Table {
    let rows = Compared::ALL
        .iter()
        .map(|c| {
            let (before, change) = if last_year.has_data {
                (c.value_text(last_year), c.change_text(now, last_year))
            } else {
                ("—".into(), "—".into())
            };
            vec![c.label(), c.value_text(now), before, change]
        })
        .collect();
    table(&["指标", "本年", "上年", "较上年"], &[26, 16, 16, 22], rows)
}

/// One row per quarter of the year and the 全年 row, pooled as the sentences pool them.
pub(super) fn quarters(rows: &[Row]) -> Table {
    let line = |name: String, t: &Totals| {
        let mut cells = vec![name];
        cells.extend(
            [
                Compared::Sessions,
                Compared::Topics,
                Compared::Closed,
                Compared::CompletionRate,
                Compared::Evaluations,
                Compared::SatisfactionRate,
                Compared::SatisfactionIndex,
            ]
            .iter()
            .map(|c| if t.has_data { c.value_text(t) } else { "—".into() }),
        );
        cells
    };
    let mut out: Vec<Vec<String>> = (1..=4)
        .map(|q| {
            let name = format!("第{}季度", narrative::quarter_chinese(q));
            line(name, &Totals::of(&narrative::quarter_rows(rows, q)))
        })
        .collect();
    out.push(line("全年".into(), &Totals::of_year(rows)));
    table(
        &["季度", "会议\n次数", "议题\n数", "办结\n数", "办结率", "评价\n数", "满意率", "满意度\n指数"],
        &[14, 9, 9, 9, 11, 9, 11, 11],
        out,
    )
}

/// 等级 | 人数, with the 合计 row.
pub(super) fn grades(rows: &[Row]) -> Table {
    let mut out: Vec<Vec<String>> = Grade::ALL
        .iter()
        .map(|g| vec![g.chinese().to_string(), narrative::grade_count(rows, *g).to_string()])
        .collect();
    out.push(vec!["合计".into(), rows.len().to_string()]);
    table(&["等级", "人数（名）"], &[30, 20], out)
}

/// The cadres whose grade changed: 姓名 | 社区 | 上年等级 | 本年等级 | 本年得分 | 县内排名.
pub(super) fn grade_changes(changes: &[narrative::GradeChange]) -> Table {
    let out = changes
        .iter()
        .map(|c| {
            vec![
                c.cadre.clone(),
                c.community.clone(),
                c.before.chinese().to_string(),
                c.after.chinese().to_string(),
                narrative::score(c.score),
                c.rank.map_or_else(|| "—".into(), |n| n.to_string()),
            ]
        })
        .collect();
    table(&["姓名", "社区", "上年等级", "本年等级", "本年得分（分）", "县内排名"], &[12, 20, 14, 14, 16, 12], out)
}
