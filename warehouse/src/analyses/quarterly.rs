//! The quarterly satisfaction analysis (per community per quarter, with changes and
//! quality flags) and its breakdowns by topic category and by source channel.

use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;

use super::facts::{self, counts};
use super::sql;
use crate::errors::Result;
use crate::scheme::Scheme;

/// Numeric figures of a quarterly row, each of which gets a `<figure>_change` column.
const CHANGED: &[&str] = &[
    "sessions_held",
    "regular_sessions",
    "topics_raised",
    "topics_closed",
    "completion_rate",
    "resolution_rate",
    "on_time_rate",
    "publicity_rate",
    "evaluations",
    "satisfaction_rate",
    "attitude_mean",
    "efficiency_mean",
    "result_mean",
    "effect_mean",
    "satisfaction_index",
    "rectifications",
    "rectification_rate",
    "session_rate",
    "rating_coverage",
    "days_to_close_median",
    "days_to_close_p90",
];

/// The quarterly analysis: one row per community of the reference table and quarter of
/// the years in scope, empty quarters included (fine print 10), for `year` (and
/// `quarter`). Changes are taken over the whole series first, so Q1 compares with the
/// previous year's Q4; Q1 of the first year in scope has null changes (fine print 9).
///
/// ```sql
/// WITH grid AS (communities × years_in_scope × quarters 1–4),
///      counts AS (grid ⟕ topic, evaluation, rectification and session counts
///                 per community_code, year, quarter — 0 where none),
///      closed_days, days AS (median and p90 of closed_on − raised_on over the quarter's
///                 closed topics: PostgreSQL percentile_cont, exact positions),
///      figures AS (the contract's rates over counts),
///      changes AS (figure − LAG(figure) OVER (PARTITION BY community_code
///                                             ORDER BY year, quarter), quality_flags)
/// SELECT * FROM changes WHERE year = $year [AND quarter = $quarter]
/// ```
pub async fn quarterly(ctx: &SessionContext, year: i32, quarter: Option<u32>, scheme: &Scheme) -> Result<DataFrame> {
    facts::register(ctx, scheme).await?;
    let text = format!(
        "WITH grid AS (
            SELECT c.county_code, c.county_name, c.community_code, c.community_name, y.year, q.quarter
            FROM communities c
            CROSS JOIN years_in_scope y
            CROSS JOIN (SELECT unnest(range(1, 5)) AS quarter) q
         ),
         {counts},
         {days},
         figures AS (
            SELECT counts.county_code, counts.county_name, counts.community_code, counts.community_name,
                   counts.year, counts.quarter,
                   {sessions}, {topics}, {evaluations}, {rectifications},
                   d.days_to_close_median, d.days_to_close_p90,
                   any_closed_before_raised, any_closed_after_evaluated
            FROM counts
            LEFT JOIN days d ON counts.community_code = d.community_code
                             AND counts.year = d.year AND counts.quarter = d.quarter
         ),
         changes AS (SELECT *, {changes}, {flags} AS quality_flags FROM figures)
         SELECT * FROM changes WHERE {filter}",
        counts = counts(&["community_code", "year", "quarter"], "TRUE", true),
        days = days_to_close(),
        sessions = facts::session_figures(scheme.sessions.regular_per_quarter),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
        changes = changes(),
        flags = QUALITY_FLAGS,
        filter = period_filter(year, quarter),
    );
    sql(ctx, &text).await
}

/// `year = … [AND quarter = …]`.
fn period_filter(year: i32, quarter: Option<u32>) -> String {
    match quarter {
        Some(q) => format!("year = {year} AND quarter = {q}"),
        None => format!("year = {year}"),
    }
}

/// `x - LAG(x) OVER (…) AS x_change` for every changed figure. Every community has a row
/// for every quarter in scope, so the previous row is the previous calendar quarter.
fn changes() -> String {
    CHANGED
        .iter()
        .map(|f| format!("{f} - LAG({f}) OVER (PARTITION BY community_code ORDER BY year, quarter) AS {f}_change"))
        .collect::<Vec<_>>()
        .join(",\n")
}

/// `;`-joined tokens: `small_sample` when a rate of the row rests on 1–4 cases (topics
/// raised, topics closed, evaluations or rectifications opened; session_rate's
/// denominator is a target, not a sample), `low_rating_coverage` when fewer than half of
/// the closed topics were rated (compared at 9 decimals, fine print 8), and the two
/// date-order anomalies of the row's topics. `concat_ws` skips the nulls; no flag gives "".
const QUALITY_FLAGS: &str = "concat_ws(';',
    CASE WHEN topics_raised BETWEEN 1 AND 4 OR topics_closed BETWEEN 1 AND 4
              OR evaluations BETWEEN 1 AND 4 OR rectifications BETWEEN 1 AND 4
         THEN 'small_sample' END,
    CASE WHEN round(rating_coverage, 9) < 0.5 THEN 'low_rating_coverage' END,
    CASE WHEN any_closed_before_raised THEN 'closed_before_raised' END,
    CASE WHEN any_closed_after_evaluated THEN 'closed_after_evaluated' END)";

/// Median and 90th percentile of the days to close, by linear interpolation between the
/// closest ranks like PostgreSQL's `percentile_cont` (the median averages the two middle
/// values). Positions are computed in integers — lower = ⌊last·p⌋, weight =
/// (last·p mod 1) — so 0.9 × 10 cannot land a hair below 9 (DataFusion's own
/// `percentile_cont` quantises the weight to 6 decimals).
fn days_to_close() -> String {
    format!(
        "closed_days AS (
    SELECT community_code, year, quarter, CAST(days_to_close AS DOUBLE) AS days,
           CAST(row_number() OVER (PARTITION BY community_code, year, quarter ORDER BY days_to_close) AS BIGINT) - 1 AS i,
           count(*) OVER (PARTITION BY community_code, year, quarter) - 1 AS last
    FROM topic_facts WHERE closed
 ),
 days AS (
    SELECT community_code, year, quarter,
           {median} AS days_to_close_median,
           {p90} AS days_to_close_p90
    FROM closed_days GROUP BY community_code, year, quarter
 )",
        median = percentile(1, 2),
        p90 = percentile(9, 10),
    )
}

/// The interpolation of `days_to_close` at p = num/den, over `closed_days` of a group.
fn percentile(num: u32, den: u32) -> String {
    let lower = format!("max(CASE WHEN i = last * {num} / {den} THEN days END)");
    let upper = format!("max(CASE WHEN i = last * {num} / {den} + 1 THEN days END)");
    let rest = format!("max(last) * {num} % {den}");
    format!(
        "CASE WHEN {rest} = 0 THEN {lower}
              ELSE {lower} + ({upper} - {lower}) * (CAST({rest} AS DOUBLE) / {den}) END"
    )
}

/// What a breakdown groups by: the topic's category or channel (an evaluation or a
/// rectification belongs to its topic's group, fine print 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    Category,
    Channel,
}

impl Breakdown {
    fn column(self) -> &'static str {
        match self {
            Breakdown::Category => "category",
            Breakdown::Channel => "channel",
        }
    }
}

/// The quarterly analysis broken down by category or channel: one row per community ×
/// quarter × group with at least one topic, evaluation or rectification in the quarter;
/// the figures from topics_raised to rectification_rate, no session figures and no
/// changes (fine print 9).
///
/// ```sql
/// WITH groups AS (SELECT DISTINCT community_code, year, quarter, $group
///                 FROM topic_facts ∪ evaluation_facts ∪ rectification_facts
///                 WHERE $group IS NOT NULL AND year = $year [AND quarter = $quarter]),
///      grid AS (groups ⋈ communities),
///      counts AS (grid ⟕ topic, evaluation and rectification counts per group)
/// SELECT keys, topic, evaluation and rectification figures FROM counts
/// ```
pub async fn breakdown(
    ctx: &SessionContext,
    by: Breakdown,
    year: i32,
    quarter: Option<u32>,
    scheme: &Scheme,
) -> Result<DataFrame> {
    facts::register(ctx, scheme).await?;
    let g = by.column();
    let filter = period_filter(year, quarter);
    let text = format!(
        "WITH groups AS (
            SELECT DISTINCT community_code, year, quarter, {g} FROM (
                SELECT community_code, year, quarter, {g} FROM topic_facts
                UNION ALL SELECT community_code, year, quarter, {g} FROM evaluation_facts
                UNION ALL SELECT community_code, year, quarter, {g} FROM rectification_facts)
            WHERE {g} IS NOT NULL AND {filter}
         ),
         grid AS (
            SELECT c.county_code, c.county_name, c.community_code, c.community_name, gr.year, gr.quarter, gr.{g}
            FROM groups gr JOIN communities c ON gr.community_code = c.community_code
         ),
         {counts}
         SELECT county_code, county_name, community_code, community_name, year, quarter, {g},
                {topics}, {evaluations}, {rectifications}
         FROM counts",
        counts = counts(&["community_code", "year", "quarter", g], &filter, false),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
    );
    sql(ctx, &text).await
}
