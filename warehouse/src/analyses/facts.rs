//! The facts every report starts from: one view per ledger table with its period, its
//! flags (closed, on time, …) and, for evaluations and rectifications, the category,
//! channel and lead cadre of their topic; the years in scope; and the SQL that counts
//! those facts per group and turns the counts into the contract's figures.
//!
//! Every figure is defined once, here, in the contract's words; the reports only choose
//! the groups (community × quarter, cadre × year, …) and join the counts to them.

use datafusion::prelude::SessionContext;

use crate::errors::Result;
use crate::scheme::Scheme;

/// Statuses that count as closed (contract: "closed = status resolved or explained").
const CLOSED: &str = "status IN ('resolved', 'explained')";

/// Registers the fact views in a session whose ledger tables are already registered.
/// Registering again (another report in the same session) replaces them.
pub(crate) async fn register(ctx: &SessionContext, scheme: &Scheme) -> Result<()> {
    let satisfied = if scheme.basically_satisfied_counts_as_satisfied {
        "e.verdict IN ('satisfied', 'basically_satisfied')"
    } else {
        "e.verdict = 'satisfied'"
    };
    let views = [
        ("topic_facts", topic_facts()),
        ("evaluation_facts", evaluation_facts(satisfied)),
        ("rectification_facts", rectification_facts()),
        ("session_facts", session_facts()),
        ("years_in_scope", YEARS_IN_SCOPE.to_string()),
    ];
    for (name, sql) in views {
        let view = ctx.sql(&sql).await?.into_view();
        ctx.register_table(name, view)?;
    }
    Ok(())
}

/// Quarter of a date as BIGINT (DataFusion has no `quarter()`).
fn quarter_of(date: &str) -> String {
    format!("CAST(date_part('quarter', {date}) AS BIGINT)")
}

/// One row per topic, in the period of `raised_on`. `rated`: a closed topic with at least
/// one evaluation of any date (for rating_coverage). `days_to_close` only for closed
/// topics. The two date-order flags feed the quality flags of the quarterly analysis.
fn topic_facts() -> String {
    format!(
        "SELECT t.county_code, t.community_code, t.topic_id, t.category, t.channel,
                t.lead_cadre_id AS cadre_id,
                CAST(t.year AS BIGINT) AS year, {quarter} AS quarter,
                t.{CLOSED} AS closed,
                t.status = 'resolved' AS resolved,
                COALESCE(t.{CLOSED} AND t.closed_on <= t.deadline, false) AS on_time,
                t.{CLOSED} AND t.publicized_on IS NOT NULL AS publicized,
                t.{CLOSED} AND e.topic_id IS NOT NULL AS rated,
                CASE WHEN t.{CLOSED}
                     THEN CAST(t.closed_on AS BIGINT) - CAST(t.raised_on AS BIGINT) END AS days_to_close,
                COALESCE(t.closed_on < t.raised_on, false) AS closed_before_raised,
                COALESCE(t.closed_on > e.first_evaluated_on, false) AS closed_after_evaluated
         FROM topics t
         LEFT JOIN (SELECT community_code, topic_id, min(evaluated_on) AS first_evaluated_on
                    FROM evaluations GROUP BY community_code, topic_id) e
           ON t.community_code = e.community_code AND t.topic_id = e.topic_id",
        quarter = quarter_of("t.raised_on"),
    )
}

/// One row per evaluation, in the period of `evaluated_on`, with its topic's group
/// columns (fine print 1: attributed through the topic as last ingested). `satisfied`
/// uses the verdict only (fine print 5).
fn evaluation_facts(satisfied: &str) -> String {
    format!(
        "SELECT e.county_code, e.community_code,
                CAST(e.year AS BIGINT) AS year, {quarter} AS quarter,
                t.category, t.channel, t.lead_cadre_id AS cadre_id,
                e.attitude, e.efficiency, e.result, e.effect,
                e.attitude + e.efficiency + e.result + e.effect AS dimensions,
                {satisfied} AS satisfied
         FROM evaluations e
         LEFT JOIN topics t ON e.community_code = t.community_code AND e.topic_id = t.topic_id",
        quarter = quarter_of("e.evaluated_on"),
    )
}

/// One row per rectification, in the period of `opened_on`. On time = closed by its
/// deadline; an open one is not on time, whether or not its deadline has passed
/// (fine print 2).
fn rectification_facts() -> String {
    format!(
        "SELECT r.county_code, r.community_code,
                CAST(r.year AS BIGINT) AS year, {quarter} AS quarter,
                t.category, t.channel, t.lead_cadre_id AS cadre_id,
                COALESCE(r.closed_on <= r.deadline, false) AS on_time
         FROM rectifications r
         LEFT JOIN topics t ON r.community_code = t.community_code AND r.topic_id = t.topic_id",
        quarter = quarter_of("r.opened_on"),
    )
}

/// One row per session, in the period of `held_on`; only `regular` ones count towards
/// session_rate (fine print 4).
fn session_facts() -> String {
    format!(
        "SELECT county_code, community_code, CAST(year AS BIGINT) AS year, {quarter} AS quarter,
                kind = 'regular' AS regular
         FROM sessions",
        quarter = quarter_of("held_on"),
    )
}

/// Fine print 10: every year from the earliest to the latest found in held_on,
/// raised_on, evaluated_on and opened_on (each table's stored `year` is the year of that
/// date). No rows when the ledger is empty.
const YEARS_IN_SCOPE: &str = "
    SELECT CAST(year AS BIGINT) AS year FROM (
        SELECT unnest(range(first_year, last_year + 1)) AS year
        FROM (SELECT CAST(min(year) AS BIGINT) AS first_year, CAST(max(year) AS BIGINT) AS last_year
              FROM (SELECT year FROM sessions UNION ALL SELECT year FROM topics
                    UNION ALL SELECT year FROM evaluations UNION ALL SELECT year FROM rectifications))
        WHERE first_year IS NOT NULL)";

/// CTEs `topic_counts`, `evaluation_counts`, `rectification_counts` (and
/// `session_counts`), grouped by `keys` over the facts that pass `filter`, and `counts`:
/// the caller's CTE `grid` (which must have the `keys` columns) left-joined to them, with
/// 0 (false) where a group has no rows. Put after `WITH grid AS (…),`.
pub(crate) fn counts(keys: &[&str], filter: &str, sessions: bool) -> String {
    let k = keys.join(", ");
    let on = |alias: &str| keys.iter().map(|c| format!("g.{c} = {alias}.{c}")).collect::<Vec<_>>().join(" AND ");
    let mut ctes = vec![
        format!(
            "topic_counts AS (
                SELECT {k}, count(*) AS topics_raised,
                       count(*) FILTER (WHERE closed) AS topics_closed,
                       count(*) FILTER (WHERE resolved) AS topics_resolved,
                       count(*) FILTER (WHERE on_time) AS closed_on_time,
                       count(*) FILTER (WHERE publicized) AS closed_publicized,
                       count(*) FILTER (WHERE rated) AS closed_rated,
                       bool_or(closed_before_raised) AS any_closed_before_raised,
                       bool_or(closed_after_evaluated) AS any_closed_after_evaluated
                FROM topic_facts WHERE {filter} GROUP BY {k})"
        ),
        format!(
            "evaluation_counts AS (
                SELECT {k}, count(*) AS evaluations,
                       count(*) FILTER (WHERE satisfied) AS evaluations_satisfied,
                       sum(attitude) AS attitude_sum, sum(efficiency) AS efficiency_sum,
                       sum(result) AS result_sum, sum(effect) AS effect_sum,
                       sum(dimensions) AS dimensions_sum
                FROM evaluation_facts WHERE {filter} GROUP BY {k})"
        ),
        format!(
            "rectification_counts AS (
                SELECT {k}, count(*) AS rectifications,
                       count(*) FILTER (WHERE on_time) AS rectifications_on_time
                FROM rectification_facts WHERE {filter} GROUP BY {k})"
        ),
    ];
    let mut joins = vec![
        ("topic_counts", "t", TOPIC_COUNTS),
        ("evaluation_counts", "e", EVALUATION_COUNTS),
        ("rectification_counts", "r", RECTIFICATION_COUNTS),
    ];
    if sessions {
        ctes.push(format!(
            "session_counts AS (
                SELECT {k}, count(*) AS sessions_held, count(*) FILTER (WHERE regular) AS regular_sessions
                FROM session_facts WHERE {filter} GROUP BY {k})"
        ));
        joins.push(("session_counts", "s", SESSION_COUNTS));
    }
    let mut columns = Vec::new();
    let mut from = String::from("grid g");
    for (cte, alias, names) in &joins {
        for name in *names {
            let zero = if name.starts_with("any_") { "false" } else { "0" };
            columns.push(format!("COALESCE({alias}.{name}, {zero}) AS {name}"));
        }
        from.push_str(&format!(" LEFT JOIN {cte} {alias} ON {}", on(alias)));
    }
    ctes.push(format!("counts AS (SELECT g.*, {} FROM {from})", columns.join(", ")));
    ctes.join(",\n")
}

const TOPIC_COUNTS: &[&str] = &[
    "topics_raised",
    "topics_closed",
    "topics_resolved",
    "closed_on_time",
    "closed_publicized",
    "closed_rated",
    "any_closed_before_raised",
    "any_closed_after_evaluated",
];
const EVALUATION_COUNTS: &[&str] = &[
    "evaluations",
    "evaluations_satisfied",
    "attitude_sum",
    "efficiency_sum",
    "result_sum",
    "effect_sum",
    "dimensions_sum",
];
const RECTIFICATION_COUNTS: &[&str] = &["rectifications", "rectifications_on_time"];
const SESSION_COUNTS: &[&str] = &["sessions_held", "regular_sessions"];

/// `numerator ÷ denominator`, null when the denominator is 0 (contract: a rate with a
/// zero denominator is null, never 0 or 100%).
fn ratio(numerator: &str, denominator: &str) -> String {
    format!("CAST({numerator} AS DOUBLE) / NULLIF({denominator}, 0)")
}

/// The topic figures over `counts`: completion_rate = closed ÷ raised, resolution_rate =
/// resolved ÷ raised, on_time_rate = closed by the deadline ÷ closed, publicity_rate =
/// closed and publicised ÷ closed, rating_coverage = closed with an evaluation ÷ closed.
pub(crate) fn topic_figures() -> String {
    [
        "topics_raised".to_string(),
        "topics_closed".to_string(),
        format!("{} AS completion_rate", ratio("topics_closed", "topics_raised")),
        format!("{} AS resolution_rate", ratio("topics_resolved", "topics_raised")),
        format!("{} AS on_time_rate", ratio("closed_on_time", "topics_closed")),
        format!("{} AS publicity_rate", ratio("closed_publicized", "topics_closed")),
        format!("{} AS rating_coverage", ratio("closed_rated", "topics_closed")),
    ]
    .join(", ")
}

/// The evaluation figures over `counts`. satisfaction_index = 100 × (mean of the four
/// dimensions' average − 1) ÷ 4, computed as 25 × (Σ dimensions − 4n) ÷ 4n so that the
/// only rounding is the final division (62.5 stays 62.5).
pub(crate) fn evaluation_figures() -> String {
    [
        "evaluations".to_string(),
        format!("{} AS satisfaction_rate", ratio("evaluations_satisfied", "evaluations")),
        format!("{} AS attitude_mean", ratio("attitude_sum", "evaluations")),
        format!("{} AS efficiency_mean", ratio("efficiency_sum", "evaluations")),
        format!("{} AS result_mean", ratio("result_sum", "evaluations")),
        format!("{} AS effect_mean", ratio("effect_sum", "evaluations")),
        "25.0 * CAST(dimensions_sum - 4 * evaluations AS DOUBLE) / NULLIF(4 * evaluations, 0) AS satisfaction_index"
            .to_string(),
    ]
    .join(", ")
}

/// rectification_rate = closed by the deadline ÷ opened; 1 when none were opened
/// (fine print 3), so it is never null.
pub(crate) fn rectification_figures() -> String {
    format!(
        "rectifications, COALESCE({}, 1.0) AS rectification_rate",
        ratio("rectifications_on_time", "rectifications")
    )
}

/// session_rate = min(1, regular sessions ÷ target); 0 without sessions, never null.
pub(crate) fn session_figures(target: u32) -> String {
    format!(
        "sessions_held, regular_sessions,
         LEAST(1.0, CAST(regular_sessions AS DOUBLE) / {target}) AS session_rate"
    )
}

/// A weight or threshold of the scheme as a SQL DOUBLE literal.
pub(crate) fn number(x: f64) -> String {
    format!("CAST({x} AS DOUBLE)")
}

/// Fine print 8: scores and rates are compared after rounding to 9 decimals.
pub(crate) fn rounded(expr: &str) -> String {
    format!("round({expr}, 9)")
}
