//! The quarterly satisfaction analysis (per community per quarter, with changes and
//! quality flags) and its breakdowns by topic category and by source channel.

use datafusion::dataframe::DataFrame;

use super::ReportKind;
use super::cells;
use super::facts::{self, Counted, Span, counts, group_counts};
use super::labels::QualityFlag;
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The quarterly analysis: one row per community of the reference table and quarter of
/// the years in scope, empty quarters included (fine print 10), for `year` (and
/// `quarter`). Only the asked quarters and the one before them are computed (2025 Q1
/// reads 2024 Q4 and 2025 Q1; the year 2025 reads 2024 Q4 to 2025 Q4), so Q1 compares
/// with the previous year's Q4; Q1 of the first year in scope has null changes, its
/// previous quarter being outside the grid (fine print 9).
///
/// ```sql
/// WITH grid AS (communities × years_in_scope × quarters 1–4, the asked quarters and the
///               one before them),
///      counts AS (grid ⟕ topic, evaluation, rectification and session counts
///                 per community_code, year, quarter — 0 where none),
///      figures AS (the contract's rates over counts; median and p90 of closed_on −
///                 raised_on over the quarter's closed topics: PostgreSQL
///                 percentile_cont, exact positions in their sorted days),
///      changes AS (figure − LAG(figure) OVER (PARTITION BY community_code
///                                             ORDER BY year, quarter), quality_flags)
/// SELECT * FROM changes
/// ```
///
/// The rows of the quarter before the asked ones are still in the result: the caller
/// keeps the asked quarters ([`Warehouse::report`](crate::Warehouse::report) does, on
/// the collected rows). A filter above the window made DataFusion recompute the
/// statistics of the whole plan below it at every step of physical optimisation, a
/// tenth of a one-county report's time.
///
/// When the session holds quarter cells matching its versions ([`ScopedSession::cells`]),
/// `counts` and `backdated` read them instead of counting the events
/// ([`cells::quarterly_counts`]); the rest of the SQL is the same.
pub async fn quarterly(session: &ScopedSession, year: i32, quarter: Option<u32>, scheme: &Scheme) -> Result<DataFrame> {
    let span = Span::of(year, quarter).with_previous_quarter();
    let [counted, backdated] = if session.cells {
        cells::quarterly_counts(span, scheme)
    } else {
        let keys = &["community_code", "year", "quarter"];
        [counts(cells::quarterly_counted()), facts::backdated(keys)]
    };
    let text = format!(
        "WITH grid AS ({grid}),
         {counts},
         figures AS (
            SELECT county_code, county_name, community_code, community_name, year, quarter,
                   {sessions}, {topics}, {evaluations}, {rectifications}, {days},
                   any_closed_after_evaluated
            FROM counts
         ),
         {backdated},
         flagged AS ({flagged}),
         changes AS (SELECT *, {changes}, {flags} AS quality_flags FROM flagged)
         SELECT * FROM changes",
        grid = facts::quarter_grid(span),
        counts = counted,
        days = days_to_close(),
        sessions = facts::session_figures(scheme.sessions.regular_per_quarter),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
        changes = changes(),
        flagged = facts::with_backdated("figures", &["community_code", "year", "quarter"]),
        flags = QualityFlag::sql(&QualityFlag::ALL),
    );
    facts::query(session, scheme, span, &text).await
}

/// `year = … [AND quarter = …]`.
fn period_filter(year: i32, quarter: Option<u32>) -> String {
    match quarter {
        Some(q) => format!("year = {year} AND quarter = {q}"),
        None => format!("year = {year}"),
    }
}

/// `x - LAG(x) OVER (…) AS x_change` for every change column of the quarterly report. Every community has a row
/// for every quarter of the grid, consecutive quarters, so the previous row of the same
/// community is the previous calendar quarter (or none: the first row of the grid has
/// null changes). The window runs over all rows in one order, taking a change only where
/// the previous row is the same community's, rather than partitioning by community: one
/// partition per community made the window the slowest step of the report.
fn changes() -> String {
    let order = "ORDER BY community_code, year, quarter";
    ReportKind::Quarterly
        .columns()
        .iter()
        .filter_map(|c| Some((c.figure.change_of()?, c.figure)))
        .map(|(f, change)| {
            format!(
                "CASE WHEN LAG(community_code) OVER ({order}) = community_code THEN {f} - LAG({f}) OVER ({order}) END AS {change}"
            )
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// Median and 90th percentile of the days to close, by linear interpolation between the
/// closest ranks like PostgreSQL's `percentile_cont` (the median averages the two middle
/// values), over `closed_days` (the quarter's closed topics' days, sorted) and
/// `topics_closed` of `counts`. Positions are computed in integers — lower = ⌊last·p⌋,
/// weight = (last·p mod 1), last = topics_closed − 1 — so 0.9 × 10 cannot land a hair
/// below 9 (DataFusion's own `percentile_cont` quantises the weight to 6 decimals).
/// Null without closed topics.
fn days_to_close() -> String {
    format!("{} AS days_to_close_median, {} AS days_to_close_p90", percentile(1, 2), percentile(9, 10))
}

/// The interpolation of the sorted `closed_days` at p = num/den (see [`facts::percentile`]).
fn percentile(num: u32, den: u32) -> String {
    facts::percentile("closed_days", "topics_closed", num, den)
}

/// What a breakdown groups by: the topic's category or channel (an evaluation or a
/// rectification belongs to its topic's group, fine print 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Category,
    Channel,
    /// 社区自办 / 全程代办 / 部门联办 (the `handling` report).
    HandlingMode,
}

impl Breakdown {
    fn column(self) -> &'static str {
        match self {
            Breakdown::Category => "category",
            Breakdown::Channel => "channel",
            Breakdown::HandlingMode => "handling_mode",
        }
    }
}

/// The quarterly analysis broken down by category or channel: one row per community ×
/// quarter × group with at least one topic, evaluation or rectification in the quarter;
/// the figures from topics_raised to rectification_rate, no session figures and no
/// changes (fine print 9). Only the asked year (or quarter) is read. With matching quarter
/// cells, `group_counts` reads their rows of the group ([`cells::group_counts`]).
///
/// ```sql
/// WITH topic_counts, evaluation_counts, rectification_counts AS (counts per
///          community_code, year, quarter, $group WHERE $group IS NOT NULL),
///      group_counts AS (the three full-joined: groups with a fact of any kind)
/// SELECT keys, names, topic, evaluation and rectification figures
/// FROM group_counts ⋈ communities
/// ```
pub async fn breakdown(
    session: &ScopedSession,
    by: Breakdown,
    year: i32,
    quarter: Option<u32>,
    scheme: &Scheme,
) -> Result<DataFrame> {
    let g = by.column();
    let filter = format!("{g} IS NOT NULL AND {}", period_filter(year, quarter));
    let counts = if session.cells {
        cells::group_counts(g, &period_filter(year, quarter), scheme)
    } else {
        let keys = &["community_code", "year", "quarter", g];
        group_counts(Counted { keys, filter: &filter, sessions: false, ratings: false, events: true, days: false })
    };
    let text = format!(
        "WITH {counts},
         counts AS (
            SELECT c.county_code, c.county_name, c.community_name, gc.*
            FROM group_counts gc JOIN communities c ON gc.community_code = c.community_code
         )
         SELECT county_code, county_name, community_code, community_name, year, quarter, {g},
                {topics}, {evaluations}, {rectifications}{share}
         FROM counts",
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
        share =
            if by == Breakdown::HandlingMode { format!(", {} AS topic_share", topic_share()) } else { String::new() },
    );
    facts::query(session, scheme, Span::of(year, quarter), &text).await
}

/// The group's share of its community's topics raised in the quarter (every topic has a
/// handling mode, so the shares of a community's quarter add up to 1); null without
/// topics.
fn topic_share() -> String {
    facts::ratio("topics_raised", "sum(topics_raised) OVER (PARTITION BY community_code, year, quarter)")
}
