//! The sentences of the quarterly document, each a template over figures of the reports:
//! pure functions from report rows (keyed by the contract's column names, as
//! [`crate::encoding::json::report_rows`] gives them) to Chinese text, so a hand-made
//! ledger's sentences can be checked word for word.
//!
//! Rules the sentences follow (the document's 口径 appendix repeats them):
//! - A scope's quarter is pooled over its communities' rows ([`Totals`]): counts are
//!   summed and rates recomputed from the summed counts (办结率 = Σ办结 ÷ Σ议题), the
//!   satisfaction index is the mean over every evaluation — the contract's definitions
//!   applied to the whole scope, not a mean of the communities' rates.
//! - Rates are shown as percents and the index in points, each to one decimal; a change is
//!   the difference of the two values as shown (so the words agree with the table), in
//!   percentage points for a rate; 0.0 is 持平.
//! - A rate over fewer than [`SMALL_SAMPLE`] cases says so; a quarter without evaluations
//!   says 「本季度无评价」 and shows no satisfaction rate at all (never 0%).

use warehouse::analyses::lists::CommunityList;
use warehouse::analyses::overdue::{ItemKind, Overdue};
use warehouse::analyses::{Figure, Grade};

use super::{Row, int, num, text};

/// Fewer cases than this make a rate "样本较少" (the quality flag `small_sample` uses the
/// same bound).
pub const SMALL_SAMPLE: i64 = 5;

/// How many communities lead and lag at most.
pub const LEADERS: usize = 5;

/// The quarter as written in a title: 一, 二, 三, 四.
pub fn quarter_chinese(quarter: u32) -> &'static str {
    match quarter {
        1 => "一",
        2 => "二",
        3 => "三",
        _ => "四",
    }
}

/// "2025年第三季度".
pub fn period_chinese(year: i32, quarter: u32) -> String {
    format!("{year}年第{}季度", quarter_chinese(quarter))
}

/// The quarter before: (2025, 1) → (2024, 4).
pub fn previous_quarter(year: i32, quarter: u32) -> (i32, u32) {
    if quarter <= 1 { (year - 1, 4) } else { (year, quarter - 1) }
}

/// One quarter of a scope, pooled over its communities' rows of the quarterly analysis.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Whether the report had any row: a period before the first year with data has none.
    pub has_data: bool,
    pub communities: usize,
    pub sessions: i64,
    pub topics: i64,
    pub closed: i64,
    pub evaluations: i64,
    /// Evaluations with verdict 满意 or 基本满意.
    pub satisfied: i64,
    /// Σ (satisfaction index × evaluations) over the communities.
    index_weighted: f64,
}

impl Totals {
    /// The totals of the quarterly analysis's rows of one quarter.
    pub fn of(rows: &[Row]) -> Totals {
        let mut t = Totals { has_data: !rows.is_empty(), communities: rows.len(), ..Totals::default() };
        for row in rows {
            let count = |f: Figure| int(row, f).unwrap_or(0);
            let evaluations = count(Figure::Evaluations);
            t.sessions += count(Figure::SessionsHeld);
            t.topics += count(Figure::TopicsRaised);
            t.closed += count(Figure::TopicsClosed);
            t.evaluations += evaluations;
            // A community's rate times its evaluations is a whole number of evaluations.
            t.satisfied += (num(row, Figure::SatisfactionRate).unwrap_or(0.0) * evaluations as f64).round() as i64;
            t.index_weighted += num(row, Figure::SatisfactionIndex).unwrap_or(0.0) * evaluations as f64;
        }
        t
    }

    pub fn completion_rate(&self) -> Option<f64> {
        (self.topics > 0).then(|| self.closed as f64 / self.topics as f64)
    }

    pub fn satisfaction_rate(&self) -> Option<f64> {
        (self.evaluations > 0).then(|| self.satisfied as f64 / self.evaluations as f64)
    }

    pub fn satisfaction_index(&self) -> Option<f64> {
        (self.evaluations > 0).then(|| self.index_weighted / self.evaluations as f64)
    }
}

/// A rate in tenths of a percent, a mean or index in tenths of a point: what is shown.
fn tenths(value: f64, per_unit: f64) -> i64 {
    (value * per_unit * 10.0).round() as i64
}

/// Tenths as text with one decimal: 905 → "90.5", -36 → "-3.6".
fn show_tenths(t: i64) -> String {
    let sign = if t < 0 { "-" } else { "" };
    format!("{sign}{}.{}", t.abs() / 10, t.abs() % 10)
}

/// A rate as shown: "71.4%", or "—" when it has no denominator.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".into(), |r| format!("{}%", show_tenths(tenths(r, 100.0))))
}

/// An index or mean as shown, one decimal: "78.6", or "—".
pub fn points(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| show_tenths(tenths(v, 1.0)))
}

/// An assessment score as the workbook shows it, two decimals: "86.25", or "—".
pub fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "—".into(), |v| format!("{v:.2}"))
}

/// The figures compared with the quarter before and a year before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compared {
    Sessions,
    Topics,
    Closed,
    CompletionRate,
    Evaluations,
    SatisfactionRate,
    SatisfactionIndex,
}

/// A compared figure's value as shown: a count, or tenths of a percent or point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Count(i64),
    Tenths(i64),
}

impl Compared {
    pub const ALL: [Compared; 7] = [
        Compared::Sessions,
        Compared::Topics,
        Compared::Closed,
        Compared::CompletionRate,
        Compared::Evaluations,
        Compared::SatisfactionRate,
        Compared::SatisfactionIndex,
    ];

    /// The figure whose name and 口径 it is.
    pub fn figure(self) -> Figure {
        match self {
            Compared::Sessions => Figure::SessionsHeld,
            Compared::Topics => Figure::TopicsRaised,
            Compared::Closed => Figure::TopicsClosed,
            Compared::CompletionRate => Figure::CompletionRate,
            Compared::Evaluations => Figure::Evaluations,
            Compared::SatisfactionRate => Figure::SatisfactionRate,
            Compared::SatisfactionIndex => Figure::SatisfactionIndex,
        }
    }

    /// The word after a number of it: 次, 件, 条, 个百分点, 分.
    pub fn unit(self) -> &'static str {
        match self {
            Compared::Sessions => "次",
            Compared::Topics | Compared::Closed => "件",
            Compared::Evaluations => "条",
            Compared::CompletionRate | Compared::SatisfactionRate => "个百分点",
            Compared::SatisfactionIndex => "分",
        }
    }

    /// The name with its unit, as a table's row label: 议题数（件）, 办结率（%）.
    pub fn label(self) -> String {
        let unit = match self {
            Compared::CompletionRate | Compared::SatisfactionRate => "%",
            other => other.unit(),
        };
        format!("{}（{unit}）", self.figure().chinese())
    }

    fn shown(self, t: &Totals) -> Option<Shown> {
        let rate = |r: Option<f64>| r.map(|r| Shown::Tenths(tenths(r, 100.0)));
        match self {
            Compared::Sessions => Some(Shown::Count(t.sessions)),
            Compared::Topics => Some(Shown::Count(t.topics)),
            Compared::Closed => Some(Shown::Count(t.closed)),
            Compared::Evaluations => Some(Shown::Count(t.evaluations)),
            Compared::CompletionRate => rate(t.completion_rate()),
            Compared::SatisfactionRate => rate(t.satisfaction_rate()),
            Compared::SatisfactionIndex => t.satisfaction_index().map(|v| Shown::Tenths(tenths(v, 1.0))),
        }
    }

    /// The value as a table shows it: "7", "90.0%", "78.6", or "—".
    pub fn value_text(self, t: &Totals) -> String {
        match self {
            Compared::CompletionRate => percent(t.completion_rate()),
            Compared::SatisfactionRate => percent(t.satisfaction_rate()),
            _ => match self.shown(t) {
                Some(Shown::Count(n)) => n.to_string(),
                Some(Shown::Tenths(n)) => show_tenths(n),
                None => "—".into(),
            },
        }
    }

    /// The difference now − before as shown, `None` when either has no value.
    fn difference(self, now: &Totals, before: &Totals) -> Option<i64> {
        match (self.shown(now)?, self.shown(before)?) {
            (Shown::Count(a), Shown::Count(b)) | (Shown::Tenths(a), Shown::Tenths(b)) => Some(a - b),
            _ => None,
        }
    }

    fn amount(self, d: i64) -> String {
        match self.shown(&Totals::default()) {
            Some(Shown::Count(_)) => d.abs().to_string(),
            _ => show_tenths(d.abs()),
        }
    }

    /// The change as a table shows it: "+3", "-10.0个百分点", "持平", or "—".
    pub fn change_text(self, now: &Totals, before: &Totals) -> String {
        match self.difference(now, before) {
            None => "—".into(),
            Some(0) => "持平".into(),
            Some(d) => format!("{}{}{}", if d > 0 { "+" } else { "-" }, self.amount(d), self.unit()),
        }
    }

    /// The change in words: 议题数减少3件, 办结率上升10.0个百分点, 满意率持平,
    /// 满意率无可比数据.
    pub fn change_words(self, now: &Totals, before: &Totals) -> String {
        let name = self.figure().chinese();
        let counted = matches!(self.shown(&Totals::default()), Some(Shown::Count(_)));
        match self.difference(now, before) {
            None => format!("{name}无可比数据"),
            Some(0) => format!("{name}持平"),
            Some(d) => {
                let word = match (counted, d > 0) {
                    (true, true) => "增加",
                    (true, false) => "减少",
                    (false, true) => "上升",
                    (false, false) => "下降",
                };
                format!("{name}{word}{}{}", self.amount(d), self.unit())
            }
        }
    }
}

/// Who the overview is about: "全县3个社区" for a county, the community's name for one.
pub fn subject(county: bool, name: &str, communities: usize) -> String {
    if county { format!("全县{communities}个社区") } else { name.to_string() }
}

/// The overview in the seed's form: "2025年第二季度，全县3个社区共开展说事议事1次，收集议题7件，
/// 办结7件，办结率100.0%；收到评价2条，满意率100.0%，满意度指数75.0分（仅2条评价，样本较少，
/// 仅供参考）。"
pub fn overview(period: &str, subject: &str, t: &Totals) -> String {
    overview_over(period, subject, t, Span::Quarter)
}

/// The period a sentence speaks of: 本季度 or 本年度.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    Quarter,
    Year,
}

impl Span {
    pub fn chinese(self) -> &'static str {
        match self {
            Span::Quarter => "本季度",
            Span::Year => "本年度",
        }
    }
}

/// [`overview`] over a quarter or a year: "2025年，全县3个社区共开展说事议事5次，……".
pub fn overview_over(period: &str, subject: &str, t: &Totals, span: Span) -> String {
    let within = span.chinese();
    let mut s = format!("{period}，{subject}共开展说事议事{}次，", t.sessions);
    if t.topics == 0 {
        s.push_str(&format!("{within}未收集议题；"));
    } else {
        s.push_str(&format!(
            "收集议题{}件，办结{}件，办结率{}{}；",
            t.topics,
            t.closed,
            percent(t.completion_rate()),
            small_sample(t.topics, "件议题")
        ));
    }
    if t.evaluations == 0 {
        s.push_str(&format!("{within}无评价。"));
    } else {
        s.push_str(&format!(
            "收到评价{}条，满意率{}，满意度指数{}分{}。",
            t.evaluations,
            percent(t.satisfaction_rate()),
            points(t.satisfaction_index()),
            small_sample(t.evaluations, "条评价")
        ));
    }
    s
}

/// "（仅2条评价，样本较少，仅供参考）" under [`SMALL_SAMPLE`] cases, else nothing.
fn small_sample(n: i64, what: &str) -> String {
    if (1..SMALL_SAMPLE).contains(&n) {
        format!("（仅{n}{what}，样本较少，仅供参考）")
    } else {
        String::new()
    }
}

/// The changes in words against the quarter before and the same quarter a year before:
/// "与上季度相比，会议次数减少3次，……；与上年同期相比，……。"
pub fn changes(now: &Totals, previous: &Totals, year_ago: &Totals) -> String {
    let against = |name: &str, before: &Totals| {
        if !before.has_data {
            return format!("{name}无数据，不作比较");
        }
        let words: Vec<String> = Compared::ALL.iter().map(|c| c.change_words(now, before)).collect();
        format!("与{name}相比，{}", words.join("，"))
    };
    format!("{}；{}。", against("上季度", previous), against("上年同期", year_ago))
}

/// A community placed by its quarter's satisfaction index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub name: String,
    /// The index in tenths of a point, as shown.
    pub index_tenths: i64,
    pub evaluations: i64,
}

impl Placed {
    /// "东岭社区（80.0分）", "西岭社区（75.0分，仅2条评价）".
    fn text(&self) -> String {
        let few = if self.evaluations < SMALL_SAMPLE {
            format!("，仅{}条评价", self.evaluations)
        } else {
            String::new()
        };
        format!("{}（{}分{few}）", self.name, show_tenths(self.index_tenths))
    }
}

/// The communities that lead and lag on the quarter's satisfaction index, among those with
/// evaluations: k = min(5, ⌊n ÷ 2⌋) each way, so the two never overlap; ties at the
/// cut-off all in (competition ranks of the index as shown); the top best first, the
/// bottom worst first.
pub fn leaders(rows: &[Row]) -> (Vec<Placed>, Vec<Placed>) {
    let mut placed: Vec<Placed> = rows
        .iter()
        .filter_map(|row| {
            let index = num(row, Figure::SatisfactionIndex)?;
            let evaluations = int(row, Figure::Evaluations).unwrap_or(0);
            Some(Placed {
                name: text(row, Figure::CommunityName).to_string(),
                index_tenths: tenths(index, 1.0),
                evaluations,
            })
        })
        .collect();
    placed.sort_by(|a, b| b.index_tenths.cmp(&a.index_tenths).then_with(|| a.name.cmp(&b.name)));
    let k = LEADERS.min(placed.len() / 2);
    if k == 0 {
        return (Vec::new(), Vec::new());
    }
    let above = |p: &Placed| placed.iter().filter(|q| q.index_tenths > p.index_tenths).count();
    let below = |p: &Placed| placed.iter().filter(|q| q.index_tenths < p.index_tenths).count();
    let top: Vec<Placed> = placed.iter().filter(|p| above(p) < k).cloned().collect();
    let mut bottom: Vec<Placed> = placed.iter().filter(|p| below(p) < k && !top.contains(p)).cloned().collect();
    bottom.reverse();
    (top, bottom)
}

/// The leaders and laggards in words, and how many communities had no evaluation.
pub fn leaders_sentence(rows: &[Row]) -> String {
    let (top, bottom) = leaders(rows);
    let unrated = rows.iter().filter(|r| num(r, Figure::SatisfactionIndex).is_none()).count();
    let names = |list: &[Placed]| list.iter().map(Placed::text).collect::<Vec<_>>().join("、");
    let mut s = if top.is_empty() {
        "本季度有评价的社区不足2个，不列满意度指数靠前和靠后的社区".to_string()
    } else if bottom.is_empty() {
        format!("按满意度指数，本季度排名靠前的社区：{}；各社区并列，无排名靠后的社区", names(&top))
    } else {
        format!("按满意度指数，本季度排名靠前的社区：{}；排名靠后的社区：{}", names(&top), names(&bottom))
    };
    if unrated > 0 {
        s.push_str(&format!("。另有{unrated}个社区本季度无评价，未参与排名"));
    }
    s.push('。');
    s
}

/// The red and black lists of the year's community assessment in words.
pub fn lists_sentence(year: i32, rows: &[Row]) -> String {
    lists_sentence_on(year, rows, LATEST_BASIS)
}

/// What an assessment sentence is based on when the year is not frozen.
pub const LATEST_BASIS: &str = "按生成本报告时的数据";

/// What an assessment sentence of a frozen year is based on.
pub const FROZEN_BASIS: &str = "冻结结果";

/// [`lists_sentence`] saying what the assessment is based on (`basis`: [`LATEST_BASIS`] or
/// [`FROZEN_BASIS`]).
pub fn lists_sentence_on(year: i32, rows: &[Row], basis: &str) -> String {
    let on = |list: CommunityList| -> Vec<&Row> {
        let mut found: Vec<&Row> = rows.iter().filter(|r| text(r, Figure::List) == list.token()).collect();
        found.sort_by(|a, b| {
            num(b, Figure::CommunityScore)
                .partial_cmp(&num(a, Figure::CommunityScore))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        found
    };
    let named = |list: &[&Row]| {
        list.iter()
            .map(|r| format!("{}（{}分）", text(r, Figure::CommunityName), score(num(r, Figure::CommunityScore))))
            .collect::<Vec<_>>()
            .join("、")
    };
    let (red, mut black) = (on(CommunityList::Red), on(CommunityList::Black));
    black.reverse();
    let mut s = format!("{year}年度社区考核（{basis}）");
    match (red.is_empty(), black.is_empty()) {
        (true, true) => s.push_str("暂无社区列入红黑榜"),
        (false, true) => s.push_str(&format!("红榜：{}；暂无社区列入黑榜", named(&red))),
        (true, false) => s.push_str(&format!("暂无社区列入红榜；黑榜：{}", named(&black))),
        (false, false) => s.push_str(&format!("红榜：{}；黑榜：{}", named(&red), named(&black))),
    }
    let unranked = on(CommunityList::Unranked);
    if !unranked.is_empty() {
        let names: Vec<&str> = unranked.iter().map(|r| text(r, Figure::CommunityName)).collect();
        s.push_str(&format!("。{}个社区年度议题不足，不参与排名：{}", unranked.len(), names.join("、")));
    }
    s.push('。');
    s
}

/// A community's own place in the year's assessment, for its own document: "东岭社区2025年度
/// 社区考核得分86.25分，县内排名第1名，列入红榜。"
pub fn own_assessment_sentence(year: i32, rows: &[Row]) -> String {
    own_assessment_sentence_on(year, rows, LATEST_BASIS)
}

/// [`own_assessment_sentence`] saying what the assessment is based on.
pub fn own_assessment_sentence_on(year: i32, rows: &[Row], basis: &str) -> String {
    let Some(row) = rows.first() else {
        return format!("{year}年度社区考核暂无数据。");
    };
    let name = text(row, Figure::CommunityName);
    let place = match int(row, Figure::RankInCounty) {
        Some(rank) => format!("，县内排名第{rank}名"),
        None => String::new(),
    };
    let list = match CommunityList::parse(text(row, Figure::List)) {
        Some(CommunityList::Unranked) => "，年度议题不足，不参与红黑榜排名".to_string(),
        Some(list) => format!("，列入{}", list.chinese()),
        None => "，未列入红黑榜".to_string(),
    };
    format!("{name}{year}年度社区考核（{basis}）得分{}分{place}{list}。", score(num(row, Figure::CommunityScore)))
}

/// How many rows of the overdue list are of `kind` and `overdue`.
pub fn overdue_count(rows: &[Row], kind: ItemKind, overdue: Overdue) -> usize {
    rows.iter()
        .filter(|r| text(r, Figure::ItemKind) == kind.token() && text(r, Figure::Overdue) == overdue.token())
        .count()
}

/// The overdue topics and the rectifications not closed in words, as of `as_of`
/// ("2025年6月30日"), with the three longest overdue topics.
pub fn overdue_sentence(rows: &[Row], as_of: &str) -> String {
    overdue_sentence_over(rows, as_of, Span::Quarter)
}

/// [`overdue_sentence`] over a quarter or a year (本年度逾期办结……).
pub fn overdue_sentence_over(rows: &[Row], as_of: &str, span: Span) -> String {
    let within = span.chinese();
    let count = |kind, overdue| overdue_count(rows, kind, overdue);
    let open_topics = count(ItemKind::Topic, Overdue::OpenOverdue);
    let late_topics = count(ItemKind::Topic, Overdue::ClosedLate);
    let open_rects = count(ItemKind::Rectification, Overdue::OpenOverdue);
    let late_rects = count(ItemKind::Rectification, Overdue::ClosedLate);
    if rows.is_empty() {
        return format!("截至{as_of}，没有逾期未办结的议题和逾期未完成的整改，{within}也没有逾期办结的议题和整改。");
    }
    let mut s = format!(
        "截至{as_of}，逾期未办结议题{open_topics}件，{within}逾期办结议题{late_topics}件；\
         逾期未完成整改{open_rects}件，{within}逾期完成整改{late_rects}件"
    );
    let mut open: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            text(r, Figure::ItemKind) == ItemKind::Topic.token()
                && text(r, Figure::Overdue) == Overdue::OpenOverdue.token()
        })
        .collect();
    open.sort_by_key(|r| std::cmp::Reverse(int(r, Figure::DaysOverdue).unwrap_or(0)));
    if !open.is_empty() {
        let longest: Vec<String> = open
            .iter()
            .take(3)
            .map(|r| {
                let days = int(r, Figure::DaysOverdue).unwrap_or(0);
                format!("{}“{}”（逾期{days}天）", text(r, Figure::CommunityName), text(r, Figure::Title))
            })
            .collect();
        s.push_str(&format!("。逾期未办结最久的议题：{}", longest.join("、")));
    }
    s.push('。');
    s
}

/// The communities whose quarter carries data-quality flags, in words; `None` if none.
pub fn quality_sentence(rows: &[Row]) -> Option<String> {
    let flagged: Vec<String> = rows
        .iter()
        .filter(|r| !text(r, Figure::QualityFlagsLabel).is_empty())
        .map(|r| format!("{}（{}）", text(r, Figure::CommunityName), text(r, Figure::QualityFlagsLabel)))
        .collect();
    (!flagged.is_empty()).then(|| {
        format!("数据质量提示：{}。这些社区的比率基于较少或不完整的记录，引用时请一并说明。", flagged.join("；"))
    })
}

// ---------------------------------------------------------------------------------------
// The year-end document's sentences.

/// The rows of one quarter of a year's quarterly analysis (asked for without a quarter).
pub fn quarter_rows(rows: &[Row], quarter: u32) -> Vec<Row> {
    rows.iter().filter(|r| int(r, Figure::Quarter) == Some(i64::from(quarter))).cloned().collect()
}

impl Totals {
    /// A whole year of a scope: every community's every quarter pooled as [`Totals::of`]
    /// pools the communities of a quarter; each community counted once.
    pub fn of_year(rows: &[Row]) -> Totals {
        let codes: std::collections::BTreeSet<&str> = rows.iter().map(|r| text(r, Figure::CommunityCode)).collect();
        Totals { communities: codes.len(), ..Totals::of(rows) }
    }
}

/// The year against the year before: "与上年相比，会议次数增加4次，……。"
pub fn year_changes(now: &Totals, last_year: &Totals) -> String {
    if !last_year.has_data {
        return "上年无数据，不作比较。".into();
    }
    let words: Vec<String> = Compared::ALL.iter().map(|c| c.change_words(now, last_year)).collect();
    format!("与上年相比，{}。", words.join("，"))
}

/// "（样本较少）" after a rate over fewer than [`SMALL_SAMPLE`] cases.
fn few(n: i64) -> &'static str {
    if (1..SMALL_SAMPLE).contains(&n) { "（样本较少）" } else { "" }
}

/// The four quarters in one sentence: "分季度看：第一季度开展说事议事4次，收集议题10件，
/// 办结率90.0%，收到评价7条，满意率71.4%；第二季度……；第三季度无说事议事、议题和评价记录；……。"
pub fn quarters_sentence(rows: &[Row]) -> String {
    let parts: Vec<String> = (1..=4).map(|q| quarter_clause(q, &Totals::of(&quarter_rows(rows, q)))).collect();
    format!("分季度看：{}。", parts.join("；"))
}

fn quarter_clause(quarter: u32, t: &Totals) -> String {
    let name = format!("第{}季度", quarter_chinese(quarter));
    if !t.has_data {
        return format!("{name}无数据");
    }
    if t.sessions == 0 && t.topics == 0 && t.evaluations == 0 {
        return format!("{name}无说事议事、议题和评价记录");
    }
    let mut s = format!("{name}开展说事议事{}次，", t.sessions);
    if t.topics == 0 {
        s.push_str("未收集议题，");
    } else {
        s.push_str(&format!("收集议题{}件，办结率{}{}，", t.topics, percent(t.completion_rate()), few(t.topics)));
    }
    if t.evaluations == 0 {
        s.push_str("无评价");
    } else {
        let rate = percent(t.satisfaction_rate());
        s.push_str(&format!("收到评价{}条，满意率{rate}{}", t.evaluations, few(t.evaluations)));
    }
    s
}

/// How many cadres of a year's assessment have `grade`.
pub fn grade_count(rows: &[Row], grade: Grade) -> usize {
    rows.iter().filter(|r| text(r, Figure::Grade) == grade.token()).count()
}

/// The grades of the year's cadre assessment: "2025年度社区干部考核（按生成本报告时的数据）
/// 共6名干部，评定优秀1名、称职2名、基本称职1名、不称职1名；1名干部年度牵头议题不足，未评定。"
pub fn grades_sentence(year: i32, rows: &[Row], basis: &str) -> String {
    if rows.is_empty() {
        return format!("{year}年度社区干部考核暂无数据。");
    }
    let rated: Vec<String> =
        Grade::ALL[..4].iter().map(|g| format!("{}{}名", g.chinese(), grade_count(rows, *g))).collect();
    let mut s = format!("{year}年度社区干部考核（{basis}）共{}名干部，评定{}", rows.len(), rated.join("、"));
    let unrated = grade_count(rows, Grade::NotRated);
    if unrated > 0 {
        s.push_str(&format!("；{unrated}名干部年度牵头议题不足，未评定"));
    }
    s.push('。');
    s
}

/// A cadre whose grade differs from the year before.
#[derive(Debug, Clone, PartialEq)]
pub struct GradeChange {
    pub cadre: String,
    pub community: String,
    pub before: Grade,
    pub after: Grade,
    /// The year's score and rank in the county, as the assessment gives them.
    pub score: Option<f64>,
    pub rank: Option<i64>,
}

impl GradeChange {
    /// 升为 or 降为 between two grades; 变为 to or from 未评定, which is no rung of the ladder.
    pub fn verb(&self) -> &'static str {
        match (self.before, self.after) {
            (Grade::NotRated, _) | (_, Grade::NotRated) => "变为",
            // Grade orders best first.
            (before, after) if after < before => "升为",
            _ => "降为",
        }
    }

    /// "张一（东岭社区）由未评定变为优秀".
    pub fn text(&self) -> String {
        format!(
            "{}（{}）由{}{}{}",
            self.cadre,
            self.community,
            self.before.chinese(),
            self.verb(),
            self.after.chinese()
        )
    }
}

/// The cadres of `now` (a year's assessment) whose grade differs from `last_year`'s, matched
/// by cadre number; a cadre in one year only has no change. In community, then cadre order.
pub fn grade_changes(now: &[Row], last_year: &[Row]) -> Vec<GradeChange> {
    let before: std::collections::HashMap<&str, Grade> = last_year
        .iter()
        .filter_map(|r| Some((text(r, Figure::CadreId), Grade::parse(text(r, Figure::Grade))?)))
        .collect();
    let mut rows: Vec<&Row> = now.iter().collect();
    rows.sort_by_key(|r| (text(r, Figure::CommunityCode), text(r, Figure::CadreId)));
    rows.into_iter()
        .filter_map(|r| {
            let after = Grade::parse(text(r, Figure::Grade))?;
            let before = *before.get(text(r, Figure::CadreId))?;
            (before != after).then(|| GradeChange {
                cadre: text(r, Figure::CadreName).to_string(),
                community: text(r, Figure::CommunityName).to_string(),
                before,
                after,
                score: num(r, Figure::CadreScore),
                rank: int(r, Figure::RankInCounty),
            })
        })
        .collect()
}

/// How many changed cadres the sentence names (the table lists them all).
const CHANGES_NAMED: usize = 10;

/// The grade changes in words: "与2024年度相比，考核等级发生变化的干部5名：张一（东岭社区）
/// 由未评定变为优秀、……。"
pub fn grade_changes_sentence(year: i32, changes: &[GradeChange], last_year_assessed: bool) -> String {
    let before = year - 1;
    if !last_year_assessed {
        return format!("{before}年度无干部考核数据，不作等级比较。");
    }
    if changes.is_empty() {
        return format!("与{before}年度相比，没有干部的考核等级发生变化。");
    }
    let named: Vec<String> = changes.iter().take(CHANGES_NAMED).map(GradeChange::text).collect();
    let more = if changes.len() > CHANGES_NAMED { "等" } else { "" };
    format!("与{before}年度相比，考核等级发生变化的干部{}名：{}{more}。", changes.len(), named.join("、"))
}
