//! The monthly 三率 (办结率, 按时办结率, 满意率) per community, and the monthly ranking of
//! the communities of a county — as the 12345 hotline ranks its 街乡 every month.

use datafusion::dataframe::DataFrame;

use super::facts::{self, Counted, Span, counts, rounded};
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The monthly analysis for `year` (or its `month`): one row per community of the
/// reference table and month, empty months included. The figures are the quarterly
/// analysis's (`facts::topic_figures`, `facts::evaluation_figures`) over the month:
/// topics by `raised_on`, evaluations by `evaluated_on`.
///
/// `monthly_score` = 100 × (completion_rate + on_time_rate + satisfaction_rate) ÷ 3, a
/// null rate counting 0; null when the community raised no topic and received no
/// evaluation in the month (nothing to rank it on). `month_rank_in_county` = competition
/// rank of `monthly_score` (rounded to 9 decimals) among the county's communities with a
/// score that month.
///
/// ```sql
/// WITH grid AS (communities × the months asked),
///      counts AS (grid ⟕ topic, evaluation and rectification counts per
///                 community_code, year, month),
///      figures AS (the contract's rates over counts), scored AS (monthly_score)
/// SELECT *, rank() OVER (PARTITION BY county_code, year, month, has_score
///                        ORDER BY round(monthly_score, 9) DESC) AS month_rank_in_county
/// FROM scored
/// ```
pub(super) async fn monthly(
    session: &ScopedSession,
    year: i32,
    month: Option<u32>,
    scheme: &Scheme,
) -> Result<DataFrame> {
    let months = match month {
        Some(m) => format!("month = {m}"),
        None => "TRUE".to_string(),
    };
    let score9 = rounded("monthly_score");
    // The months on the cross join's left: see `facts::quarter_grid`.
    let text = format!(
        "WITH grid AS (
            SELECT c.county_code, c.county_name, c.community_code, c.community_name,
                   CAST({year} AS BIGINT) AS year, m.month
            FROM (SELECT unnest(range(1, 13)) AS month) m CROSS JOIN communities c
            WHERE {months}
         ),
         {counts},
         figures AS (
            SELECT county_code, county_name, community_code, community_name, year, month,
                   {topics}, {evaluations}
            FROM counts
         ),
         scored AS (
            SELECT *,
                   CASE WHEN topics_raised > 0 OR evaluations > 0
                        THEN 100.0 * (COALESCE(completion_rate, 0) + COALESCE(on_time_rate, 0)
                                      + COALESCE(satisfaction_rate, 0)) / 3 END AS monthly_score
            FROM figures
         )
         SELECT *,
                CASE WHEN monthly_score IS NOT NULL
                     THEN CAST(rank() OVER (PARTITION BY county_code, year, month, monthly_score IS NULL
                                            ORDER BY {score9} DESC) AS BIGINT) END AS month_rank_in_county
         FROM scored",
        counts = counts(Counted {
            keys: &["community_code", "year", "month"],
            filter: &format!("year = {year} AND {months}"),
            sessions: false,
            ratings: false,
            events: false,
            days: false
        }),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
    );
    let span = match month {
        Some(m) => Span::of(year, Some((m - 1) / 3 + 1)),
        None => Span::year(year),
    };
    facts::query(session, scheme, span, &text).await
}
