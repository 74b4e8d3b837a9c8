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

use warehouse::analyses::Figure;
use warehouse::analyses::lists::CommunityList;
use warehouse::analyses::overdue::{ItemKind, Overdue};

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
    let mut s = format!("{period}，{subject}共开展说事议事{}次，", t.sessions);
    if t.topics == 0 {
        s.push_str("本季度未收集议题；");
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
        s.push_str("本季度无评价。");
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
    let mut s = format!("{year}年度社区考核（按生成本报告时的数据）");
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
    format!(
        "{name}{year}年度社区考核（按生成本报告时的数据）得分{}分{place}{list}。",
        score(num(row, Figure::CommunityScore))
    )
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
    let count = |kind, overdue| overdue_count(rows, kind, overdue);
    let open_topics = count(ItemKind::Topic, Overdue::OpenOverdue);
    let late_topics = count(ItemKind::Topic, Overdue::ClosedLate);
    let open_rects = count(ItemKind::Rectification, Overdue::OpenOverdue);
    let late_rects = count(ItemKind::Rectification, Overdue::ClosedLate);
    if rows.is_empty() {
        return format!("截至{as_of}，没有逾期未办结的议题和逾期未完成的整改，本季度也没有逾期办结的议题和整改。");
    }
    let mut s = format!(
        "截至{as_of}，逾期未办结议题{open_topics}件，本季度逾期办结议题{late_topics}件；\
         逾期未完成整改{open_rects}件，本季度逾期完成整改{late_rects}件"
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
