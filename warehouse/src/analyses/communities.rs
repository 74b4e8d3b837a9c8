//! The community assessment (per community per year, ranked within its county and
//! overall) and the county summary built on it.

use datafusion::dataframe::DataFrame;

use super::cells;
use super::facts::{self, Span, number, rounded};
use super::labels::QualityFlag;
use super::sql;
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The community assessment for `year`: a row for every community of the reference
/// table if `year` is in scope, active or not (fine print 7). Topics are those raised in
/// the year, evaluations and rectifications those dated in it, sessions those held in it
/// (only the year's rows are read); session_rate = min(1, regular sessions ÷ the yearly
/// target).
///
/// `score = w·completion_rate + w·on_time_rate + w·satisfaction_index/100 +
/// w·rectification_rate + w·publicity_rate + w·session_rate`, a null component counting 0.
/// Competition ranks on scores rounded to 9 decimals, within the county and over every
/// community of the session (for a county session: the county); `county_avg_score` is the
/// mean score of the county's communities; `list` the red and black lists
/// ([`lists::listed`](super::lists::listed)).
///
/// The session should hold the whole county (see `Warehouse::report`).
///
/// ```sql
/// WITH grid AS (communities × {year} ∩ years_in_scope),
///      counts AS (grid ⟕ topic, evaluation, rectification and session counts),
///      figures AS (the contract's rates; ratings: rating coverage, closed after evaluated),
///      scored AS (score), flagged AS (scored with any_backdated)
/// SELECT *, quality_flags, rank() OVER (PARTITION BY county_code ORDER BY round(score, 9) DESC) AS rank_in_county,
///           rank() OVER (ORDER BY round(score, 9) DESC) AS rank_overall,
///           avg(score) OVER (PARTITION BY county_code) AS county_avg_score
/// FROM scored
/// ```
///
/// With quarter cells matching the session's versions, `counts` sums the year's cells
/// ([`cells::yearly_counts`]) and carries the backdated flag, which `flagged` takes in
/// place of the join to `backdated`; the rest of the SQL is the same.
pub async fn communities(session: &ScopedSession, year: i32, scheme: &Scheme) -> Result<DataFrame> {
    let score9 = rounded("score");
    let filter = format!("year = {year}");
    let keys = ["community_code", "year"];
    // From the cells the flag comes with the counts; from the events, joined.
    let flagging = cells::flagging(
        session.cells.then(|| cells::yearly_counts(year, scheme)),
        cells::yearly_counted(&filter),
        &keys,
        "scored",
    );
    let text = format!(
        "WITH grid AS (
            SELECT c.county_code, c.county_name, c.community_code, c.community_name, y.year
            FROM communities c CROSS JOIN years_in_scope y
            WHERE y.year = {year}
         ),
         {counts},
         figures AS (
            SELECT county_code, county_name, community_code, community_name, year,
                   {sessions}, {topics}, {evaluations}, {rectifications}, closed_rated, any_closed_after_evaluated{carried}
            FROM counts
         ),
         scored AS (SELECT *, {score} AS score FROM figures),
         {backdated}
         flagged AS ({flagged}),
         {listed}
         SELECT *, {flags} AS quality_flags,
                CAST(rank() OVER (PARTITION BY county_code, year ORDER BY {score9} DESC) AS BIGINT) AS rank_in_county,
                CAST(rank() OVER (PARTITION BY year ORDER BY {score9} DESC) AS BIGINT) AS rank_overall,
                {county_avg} AS county_avg_score
         FROM listed",
        counts = flagging.counted,
        sessions = facts::session_figures(scheme.sessions.regular_per_year),
        topics = facts::topic_figures(),
        evaluations = facts::evaluation_figures(),
        rectifications = facts::rectification_figures(),
        score = score(scheme),
        carried = flagging.carried,
        backdated = flagging.backdated,
        flagged = flagging.flagged,
        flags = QualityFlag::sql(&QualityFlag::ALL),
        listed = super::lists::listed("flagged", scheme),
        county_avg = exact_mean("score", " OVER (PARTITION BY county_code, year)"),
    );
    facts::query(session, scheme, Span::year(year), &text).await
}

/// The community score in the contract's order of terms; a null component counts 0.
fn score(scheme: &Scheme) -> String {
    let w = &scheme.community;
    format!(
        "{} * COALESCE(completion_rate, 0) + {} * COALESCE(on_time_rate, 0)
         + {} * COALESCE(satisfaction_index, 0) / 100 + {} * rectification_rate
         + {} * COALESCE(publicity_rate, 0) + {} * session_rate",
        number(w.completion_rate),
        number(w.on_time_rate),
        number(w.satisfaction_index),
        number(w.rectification_rate),
        number(w.publicity_rate),
        number(w.session_rate),
    )
}

/// The county summary for `year`, over the communities of the session: counts summed,
/// completion_rate = the county's closed ÷ raised (not a mean of rates), `avg_score` and
/// `avg_<component>` = means over its communities (a community whose component is null —
/// no topics, no evaluations — is left out of that component's mean), and the summary
/// line in the form of the contract's seed, "4个社区，27次会议，217个议题，办结率100%": the
/// percent rounded half away from zero to one decimal, a trailing ".0" dropped, "—"
/// without topics.
///
/// ```sql
/// WITH totals AS (SELECT county_code, year, count(*), sum(…),
///                        avg(score), avg(…) as exact decimals: the same whatever the rows' order
///                 FROM community_scores GROUP BY county_code, year),
///      rates AS (totals, completion_rate), shown AS (tenths of a percent, an integer)
/// SELECT *, concat(…) AS summary FROM shown
/// ```
///
/// One aggregate gives the sums and the means: DataFusion plans a CTE at each reference,
/// so totals and means grouped apart (and joined) computed the whole community
/// assessment twice.
pub async fn counties(session: &ScopedSession, year: i32, scheme: &Scheme) -> Result<DataFrame> {
    let scores = communities(session, year, scheme).await?;
    session.ctx.register_table("community_scores", scores.into_view())?;
    let text = format!(
        "WITH totals AS (
            SELECT county_code, max(county_name) AS county_name, year,
                   count(*) AS communities, sum(sessions_held) AS sessions_held,
                   sum(topics_raised) AS topics_raised, sum(topics_closed) AS topics_closed, {means},
                   sum(evaluations) AS evaluations, sum(rectifications) AS rectifications,
                   sum(closed_rated) AS closed_rated, bool_or(any_closed_after_evaluated) AS any_closed_after_evaluated,
                   bool_or(any_backdated) AS any_backdated
            FROM community_scores GROUP BY county_code, year
         ),
         rates AS (SELECT *,
                          CAST(topics_closed AS DOUBLE) / NULLIF(topics_raised, 0) AS completion_rate,
                          CAST(closed_rated AS DOUBLE) / NULLIF(topics_closed, 0) AS rating_coverage
                   FROM totals),
         shown AS (SELECT *, CAST(round(completion_rate * 100 * 10) AS BIGINT) AS tenths FROM rates)
         SELECT *,
                concat(CAST(communities AS VARCHAR), '个社区，', CAST(sessions_held AS VARCHAR), '次会议，',
                       CAST(topics_raised AS VARCHAR), '个议题，办结率',
                       CASE WHEN tenths IS NULL THEN '—'
                            WHEN tenths % 10 = 0 THEN concat(CAST(tenths / 10 AS VARCHAR), '%')
                            ELSE concat(CAST(tenths / 10 AS VARCHAR), '.', CAST(tenths % 10 AS VARCHAR), '%') END)
                AS summary,
                {flags} AS quality_flags
         FROM shown",
        flags = QualityFlag::sql(&QualityFlag::ALL),
        means = [
            "score",
            "completion_rate",
            "on_time_rate",
            "publicity_rate",
            "satisfaction_index",
            "rectification_rate",
            "session_rate"
        ]
        .map(|c| format!("{} AS avg_{c}", exact_mean(c, "")))
        .join(", "),
    );
    sql(&session.ctx, &text).await
}

/// The mean of `expr` over a group, the same whatever order the rows arrive in: summed as
/// decimals (exact) of the values to 15 places. A mean of doubles adds them in the order
/// the partitions deliver them, and the last digit of the county means changed from run
/// to run. Each value is a score (≤ 100) or a rate, so 15 places keep every digit a
/// report shows and more. `over`: a window clause (` OVER (…)`) or nothing.
fn exact_mean(expr: &str, over: &str) -> String {
    format!("CAST(avg(CAST({expr} AS DECIMAL(38, 15))){over} AS DOUBLE)")
}
