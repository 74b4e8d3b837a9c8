//! The facts every report starts from: one view per ledger table with its period, its
//! flags (closed, on time, …) and, for evaluations and rectifications, the category,
//! channel and lead cadre of their topic; the years in scope; and the SQL that counts
//! those facts per group and turns the counts into the contract's figures.
//!
//! Every figure is defined once, here, in the contract's words; the reports only choose
//! the groups (community × quarter, cadre × year, …) and join the counts to them.

use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// Statuses that count as closed (contract: "closed = status resolved or explained").
const CLOSED: &str = "status IN ('resolved', 'explained')";

/// The quarters a report reads, first to last (inclusive), as (year, quarter). The fact
/// views hold only rows dated in this span: a report for 2025 Q3 never reads 2023.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    first: (i32, u32),
    last: (i32, u32),
}

impl Span {
    /// From `first` to `last`, each (year, quarter 1–4).
    pub(crate) fn new(first: (i32, u32), last: (i32, u32)) -> Span {
        Span { first, last }
    }

    /// The whole of `year`.
    pub(crate) fn year(year: i32) -> Span {
        Span::new((year, 1), (year, 4))
    }

    /// `year`, or only its `quarter`.
    pub(crate) fn of(year: i32, quarter: Option<u32>) -> Span {
        match quarter {
            Some(q) => Span::new((year, q), (year, q)),
            None => Span::year(year),
        }
    }

    /// The same span starting one quarter earlier (for a previous-quarter change).
    pub(crate) fn with_previous_quarter(self) -> Span {
        let (y, q) = self.first;
        let first = if q == 1 { (y - 1, 4) } else { (y, q - 1) };
        Span { first, last: self.last }
    }

    /// SQL condition: the row of alias `a` is dated in the span. The stored `year`
    /// partition column (the year of the table's period date) comes first, so Delta
    /// prunes the other years' files; the date bounds are added only when the span
    /// starts or ends inside a year.
    fn rows(self, a: &str, date: &str) -> String {
        let ((y0, q0), (y1, q1)) = (self.first, self.last);
        let mut cond = if y0 == y1 { format!("{a}.year = {y0}") } else { format!("{a}.year BETWEEN {y0} AND {y1}") };
        if q0 != 1 {
            cond.push_str(&format!(" AND {a}.{date} >= DATE '{y0:04}-{:02}-01'", 3 * (q0 - 1) + 1));
        }
        if q1 != 4 {
            cond.push_str(&format!(" AND {a}.{date} < DATE '{y1:04}-{:02}-01'", 3 * q1 + 1));
        }
        cond
    }

    /// SQL condition on a grid's year and quarter columns: the quarter is in the span.
    pub(crate) fn quarters(self, year: &str, quarter: &str) -> String {
        let index = |(y, q): (i32, u32)| i64::from(y) * 4 + i64::from(q);
        format!("{year} * 4 + {quarter} BETWEEN {} AND {}", index(self.first), index(self.last))
    }
}

/// Registers the fact views that the report's SQL `query` names, restricted to `span`,
/// in a session whose ledger tables are already registered. Registering again (another
/// report in the same session) replaces them. DataFusion plans a view when it is
/// registered, so the views a report does not use are left out (a quarterly report uses
/// five of the seven):
///
/// - `topic_facts`, `evaluation_facts`, `rectification_facts`, `session_facts`: one row
///   per fact dated in the span;
/// - `rated_topic_facts`: topic facts with `rated` and `closed_after_evaluated`, which
///   look at the topic's evaluations of any date;
/// - `event_facts`: evaluations and rectifications in one view, with their topic's
///   category, channel and lead cadre (one join with every topic for both);
/// - `years_in_scope`.
pub(crate) async fn register(session: &ScopedSession, scheme: &Scheme, span: Span, query: &str) -> Result<()> {
    let ctx = &session.ctx;
    let satisfied = if scheme.basically_satisfied_counts_as_satisfied {
        "e.verdict IN ('satisfied', 'basically_satisfied')"
    } else {
        "e.verdict = 'satisfied'"
    };
    let named: std::collections::HashSet<&str> =
        query.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).collect();
    let views = [
        ("topic_facts", topic_facts(span, false)),
        ("rated_topic_facts", topic_facts(span, true)),
        ("evaluation_facts", evaluation_facts(span, satisfied)),
        ("rectification_facts", rectification_facts(span)),
        ("event_facts", event_facts(span, satisfied)),
        ("session_facts", session_facts(span)),
        ("years_in_scope", years_in_scope(session.years.as_deref())),
    ];
    for (name, sql) in views.into_iter().filter(|(name, _)| named.contains(name)) {
        let view = ctx.sql(&sql).await?.into_view();
        ctx.register_table(name, view)?;
    }
    Ok(())
}

/// Quarter of a date as BIGINT (DataFusion has no `quarter()`).
fn quarter_of(date: &str) -> String {
    format!("CAST(date_part('quarter', {date}) AS BIGINT)")
}

/// One row per topic raised in the span, in the period of `raised_on`. `days_to_close`
/// only for closed topics; `closed_before_raised` feeds the quality flags.
///
/// With `ratings`: `rated` = a closed topic with at least one evaluation of any date (for
/// rating_coverage) and `closed_after_evaluated` = closed after its first evaluation of
/// any date. The span's topics are left-joined to every evaluation and grouped back to
/// one row per topic (its key is unique: topics are upserted by key), which reads the
/// topics once and looks up only the span's topics. Only the columns the quarterly
/// analysis uses are grouped by: county, category, channel and cadre are null there.
/// Without `ratings` both are false.
fn topic_facts(span: Span, ratings: bool) -> String {
    let in_span = span.rows("t", "raised_on");
    let (rated, after_evaluated, from) = if ratings {
        (
            format!("t.{CLOSED} AND t.evaluations > 0"),
            "COALESCE(t.closed_on > t.first_evaluated_on, false)",
            format!(
                "(SELECT CAST(NULL AS VARCHAR) AS county_code, CAST(NULL AS VARCHAR) AS category,
                         CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS lead_cadre_id, {RATED_COLUMNS},
                         count(e.topic_id) AS evaluations, min(e.evaluated_on) AS first_evaluated_on
                  FROM topics t
                  LEFT JOIN evaluations e ON t.community_code = e.community_code AND t.topic_id = e.topic_id
                  WHERE {in_span}
                  GROUP BY {RATED_COLUMNS}) t"
            ),
        )
    } else {
        (
            "false".to_string(),
            "false",
            format!(
                "(SELECT t.county_code, t.category, t.channel, t.lead_cadre_id, {RATED_COLUMNS} FROM topics t WHERE {in_span}) t"
            ),
        )
    };
    format!(
        "SELECT t.county_code, t.community_code, t.topic_id, t.category, t.channel,
                t.lead_cadre_id AS cadre_id,
                CAST(t.year AS BIGINT) AS year, {quarter} AS quarter,
                t.{CLOSED} AS closed,
                t.status = 'resolved' AS resolved,
                COALESCE(t.{CLOSED} AND t.closed_on <= t.deadline, false) AS on_time,
                t.{CLOSED} AND t.publicized_on IS NOT NULL AS publicized,
                {rated} AS rated,
                CASE WHEN t.{CLOSED}
                     THEN CAST(t.closed_on AS BIGINT) - CAST(t.raised_on AS BIGINT) END AS days_to_close,
                COALESCE(t.closed_on < t.raised_on, false) AS closed_before_raised,
                {after_evaluated} AS closed_after_evaluated
         FROM {from}",
        quarter = quarter_of("t.raised_on"),
    )
}

/// The topic columns of the rated topic facts (the key and what the quarterly figures use).
const RATED_COLUMNS: &str =
    "t.community_code, t.topic_id, t.year, t.raised_on, t.status, t.closed_on, t.deadline, t.publicized_on";

/// One row per evaluation dated in the span, in the period of `evaluated_on`.
/// `satisfied` uses the verdict only (fine print 5).
fn evaluation_facts(span: Span, satisfied: &str) -> String {
    format!(
        "SELECT e.county_code, e.community_code, e.topic_id,
                CAST(e.year AS BIGINT) AS year, {quarter} AS quarter,
                e.attitude, e.efficiency, e.result, e.effect,
                e.attitude + e.efficiency + e.result + e.effect AS dimensions,
                {satisfied} AS satisfied
         FROM evaluations e
         WHERE {in_span}",
        quarter = quarter_of("e.evaluated_on"),
        in_span = span.rows("e", "evaluated_on"),
    )
}

/// One row per rectification opened in the span, in the period of `opened_on`. On time =
/// closed by its deadline; an open one is not on time, whether or not its deadline has
/// passed (fine print 2).
fn rectification_facts(span: Span) -> String {
    format!(
        "SELECT r.county_code, r.community_code, r.topic_id,
                CAST(r.year AS BIGINT) AS year, {quarter} AS quarter,
                COALESCE(r.closed_on <= r.deadline, false) AS on_time
         FROM rectifications r
         WHERE {in_span}",
        quarter = quarter_of("r.opened_on"),
        in_span = span.rows("r", "opened_on"),
    )
}

/// The evaluation and rectification facts in one view (`is_evaluation` tells them apart;
/// the other kind's columns are null), each row with its topic's category, channel and
/// lead cadre (fine print 1: attributed through the topic as last ingested; null when the
/// topic is missing). One join with every topic serves both kinds, so the topics are read
/// once for them.
fn event_facts(span: Span, satisfied: &str) -> String {
    format!(
        "SELECT x.*, t.category, t.channel, t.lead_cadre_id AS cadre_id
         FROM (SELECT county_code, community_code, topic_id, year, quarter, true AS is_evaluation,
                      attitude, efficiency, result, effect, dimensions, satisfied, CAST(NULL AS BOOLEAN) AS on_time
               FROM ({evaluations})
               UNION ALL
               SELECT county_code, community_code, topic_id, year, quarter, false AS is_evaluation,
                      NULL, NULL, NULL, NULL, NULL, NULL, on_time
               FROM ({rectifications})) x
         LEFT JOIN topics t ON x.community_code = t.community_code AND x.topic_id = t.topic_id",
        evaluations = evaluation_facts(span, satisfied),
        rectifications = rectification_facts(span),
    )
}

/// One row per session held in the span, in the period of `held_on`; only `regular`
/// ones count towards session_rate (fine print 4).
fn session_facts(span: Span) -> String {
    format!(
        "SELECT s.county_code, s.community_code, CAST(s.year AS BIGINT) AS year, {quarter} AS quarter,
                s.kind = 'regular' AS regular
         FROM sessions s
         WHERE {in_span}",
        quarter = quarter_of("s.held_on"),
        in_span = span.rows("s", "held_on"),
    )
}

/// The `years_in_scope` view: the years the session read from the Delta log, as a
/// literal list, or else the query over the rows ([`YEARS_IN_SCOPE`]).
fn years_in_scope(known: Option<&[i32]>) -> String {
    match known {
        None => YEARS_IN_SCOPE.to_string(),
        Some([]) => "SELECT CAST(NULL AS BIGINT) AS year WHERE false".to_string(),
        Some(years) => {
            let list = years.iter().map(|y| format!("({y})")).collect::<Vec<_>>().join(", ");
            format!("SELECT CAST(column1 AS BIGINT) AS year FROM (VALUES {list})")
        }
    }
}

/// Fine print 10: every year from the earliest to the latest found in held_on,
/// raised_on, evaluated_on and opened_on (each table's stored `year` is the year of that
/// date), over all the scope's rows whatever the report's span. No rows when the ledger
/// is empty. Each table's min and max are taken on their own so that DataFusion can
/// answer them from the Delta file statistics of an unfiltered scan.
const YEARS_IN_SCOPE: &str = "
    SELECT CAST(year AS BIGINT) AS year FROM (
        SELECT unnest(range(first_year, last_year + 1)) AS year
        FROM (SELECT CAST(min(first_year) AS BIGINT) AS first_year, CAST(max(last_year) AS BIGINT) AS last_year
              FROM (SELECT min(year) AS first_year, max(year) AS last_year FROM sessions
                    UNION ALL SELECT min(year), max(year) FROM topics
                    UNION ALL SELECT min(year), max(year) FROM evaluations
                    UNION ALL SELECT min(year), max(year) FROM rectifications))
        WHERE first_year IS NOT NULL)";

/// Which facts a report counts, and over what.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counted<'a> {
    /// The group columns (present in every fact view).
    pub(crate) keys: &'a [&'a str],
    /// A condition every counted fact row must meet (beyond the views' span).
    pub(crate) filter: &'a str,
    /// Count sessions too.
    pub(crate) sessions: bool,
    /// Count topics from `rated_topic_facts` (rating coverage, closed after evaluated).
    pub(crate) ratings: bool,
    /// Count evaluations and rectifications together from `event_facts` (for keys
    /// that are topic groups: category, channel, cadre).
    pub(crate) events: bool,
    /// Add `closed_days`: the days to close of the group's closed topics, sorted (nulls
    /// last), for percentiles — gathered in the same pass as the counts, so the topics
    /// are not read and sorted a second time.
    pub(crate) days: bool,
}

/// CTEs `topic_counts`, `evaluation_counts`, `rectification_counts` (and
/// `session_counts`), grouped by the keys over the facts that pass the filter; and the
/// joins that bring them together, as (CTE, alias, count columns).
fn kind_counts(c: Counted<'_>) -> (Vec<String>, Vec<(&'static str, &'static str, &'static [&'static str])>) {
    let k = c.keys.join(", ");
    let filter = c.filter;
    let topics = if c.ratings { "rated_topic_facts" } else { "topic_facts" };
    let days = if c.days {
        ",\n                       array_sort(array_agg(days_to_close) FILTER (WHERE closed), 'ASC', 'NULLS LAST')
                           AS closed_days"
    } else {
        ""
    };
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
                       bool_or(closed_after_evaluated) AS any_closed_after_evaluated{days}
                FROM {topics} WHERE {filter} GROUP BY {k})"
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
    if c.events {
        // The same counts as evaluation_counts and rectification_counts, in one pass.
        ctes.truncate(1);
        ctes.push(format!(
            "event_counts AS (
                SELECT {k}, count(*) FILTER (WHERE is_evaluation) AS evaluations,
                       count(*) FILTER (WHERE is_evaluation AND satisfied) AS evaluations_satisfied,
                       sum(attitude) AS attitude_sum, sum(efficiency) AS efficiency_sum,
                       sum(result) AS result_sum, sum(effect) AS effect_sum,
                       sum(dimensions) AS dimensions_sum,
                       count(*) FILTER (WHERE NOT is_evaluation) AS rectifications,
                       count(*) FILTER (WHERE NOT is_evaluation AND on_time) AS rectifications_on_time
                FROM event_facts WHERE {filter} GROUP BY {k})"
        ));
        joins.truncate(1);
        joins.push(("event_counts", "e", EVENT_COUNTS));
    }
    if c.sessions {
        ctes.push(format!(
            "session_counts AS (
                SELECT {k}, count(*) AS sessions_held, count(*) FILTER (WHERE regular) AS regular_sessions
                FROM session_facts WHERE {filter} GROUP BY {k})"
        ));
        joins.push(("session_counts", "s", SESSION_COUNTS));
    }
    (ctes, joins)
}

/// `COALESCE(alias.name, 0) AS name` (false for the `any_` flags) for every count.
fn zero_filled(joins: &[(&str, &str, &[&str])]) -> Vec<String> {
    let mut columns = Vec::new();
    for (_, alias, names) in joins {
        for name in *names {
            let zero = if name.starts_with("any_") { "false" } else { "0" };
            columns.push(format!("COALESCE({alias}.{name}, {zero}) AS {name}"));
        }
    }
    columns
}

/// The count CTEs of [`kind_counts`] and `counts`: the caller's CTE `grid` (which must
/// have the key columns) left-joined to them, with 0 (false) where a group has no rows.
/// Put after `WITH grid AS (…),`.
pub(crate) fn counts(c: Counted<'_>) -> String {
    if !c.events {
        return union_counts(c);
    }
    let (mut ctes, joins) = kind_counts(c);
    let on = |alias: &str| c.keys.iter().map(|k| format!("g.{k} = {alias}.{k}")).collect::<Vec<_>>().join(" AND ");
    let mut from = String::from("grid g");
    for (cte, alias, _) in &joins {
        from.push_str(&format!(" LEFT JOIN {cte} {alias} ON {}", on(alias)));
    }
    let mut columns = zero_filled(&joins);
    if c.days {
        columns.push("t.closed_days".to_string());
    }
    ctes.push(format!("counts AS (SELECT g.*, {} FROM {from})", columns.join(", ")));
    ctes.join(",\n")
}

/// `counts` for facts grouped by their own keys (no topic groups): every kind of fact in
/// one `UNION ALL` (`kind` 1 topics, 2 evaluations, 3 rectifications, 4 sessions; the other
/// kinds' columns null), counted by one aggregate and left-joined to the grid once. The
/// same counts as [`kind_counts`]' per-kind CTEs, but one pipeline: DataFusion builds the
/// four per-kind hash joins one after another, and plans four aggregates and joins, which
/// was most of a one-county report's time. Put after `WITH grid AS (…),`.
fn union_counts(c: Counted<'_>) -> String {
    let k = c.keys.join(", ");
    let filter = c.filter;
    let topics = if c.ratings { "rated_topic_facts" } else { "topic_facts" };
    // Each part names every column (DataFusion wants unique names in each projection);
    // a column the kind does not have is a typed null.
    let part = |kind: u8, view: &str, own: &[(&str, &str)]| {
        let columns = UNION_COLUMNS.iter().map(|(name, ty)| match own.iter().find(|(n, _)| n == name) {
            Some((_, expr)) => format!("{expr} AS {name}"),
            None => format!("CAST(NULL AS {ty}) AS {name}"),
        });
        format!("SELECT {k}, {kind} AS kind, {} FROM {view} WHERE {filter}", columns.collect::<Vec<_>>().join(", "))
    };
    let mut parts = vec![
        part(
            1,
            topics,
            &[
                ("closed", "closed"),
                ("resolved", "resolved"),
                ("topic_on_time", "on_time"),
                ("publicized", "publicized"),
                ("rated", "rated"),
                ("closed_before_raised", "closed_before_raised"),
                ("closed_after_evaluated", "closed_after_evaluated"),
                ("days_to_close", "CAST(days_to_close AS BIGINT)"),
            ],
        ),
        part(
            2,
            "evaluation_facts",
            &[
                ("satisfied", "satisfied"),
                ("attitude", "CAST(attitude AS BIGINT)"),
                ("efficiency", "CAST(efficiency AS BIGINT)"),
                ("result", "CAST(result AS BIGINT)"),
                ("effect", "CAST(effect AS BIGINT)"),
                ("dimensions", "CAST(dimensions AS BIGINT)"),
            ],
        ),
        part(3, "rectification_facts", &[("rectification_on_time", "on_time")]),
    ];
    let mut figures = vec![
        "count(*) FILTER (WHERE kind = 1) AS topics_raised",
        "count(*) FILTER (WHERE kind = 1 AND closed) AS topics_closed",
        "count(*) FILTER (WHERE kind = 1 AND resolved) AS topics_resolved",
        "count(*) FILTER (WHERE kind = 1 AND topic_on_time) AS closed_on_time",
        "count(*) FILTER (WHERE kind = 1 AND publicized) AS closed_publicized",
        "count(*) FILTER (WHERE kind = 1 AND rated) AS closed_rated",
        "bool_or(closed_before_raised) AS any_closed_before_raised",
        "bool_or(closed_after_evaluated) AS any_closed_after_evaluated",
        "count(*) FILTER (WHERE kind = 2) AS evaluations",
        "count(*) FILTER (WHERE kind = 2 AND satisfied) AS evaluations_satisfied",
        "sum(attitude) AS attitude_sum",
        "sum(efficiency) AS efficiency_sum",
        "sum(result) AS result_sum",
        "sum(effect) AS effect_sum",
        "sum(dimensions) AS dimensions_sum",
        "count(*) FILTER (WHERE kind = 3) AS rectifications",
        "count(*) FILTER (WHERE kind = 3 AND rectification_on_time) AS rectifications_on_time",
    ];
    let mut names = vec![TOPIC_COUNTS, EVALUATION_COUNTS, RECTIFICATION_COUNTS];
    if c.sessions {
        parts.push(part(4, "session_facts", &[("regular", "regular")]));
        figures.push("count(*) FILTER (WHERE kind = 4) AS sessions_held");
        figures.push("count(*) FILTER (WHERE kind = 4 AND regular) AS regular_sessions");
        names.push(SESSION_COUNTS);
    }
    if c.days {
        figures.push(
            "array_sort(array_agg(days_to_close) FILTER (WHERE kind = 1 AND closed), 'ASC', 'NULLS LAST') AS closed_days",
        );
    }
    let on = c.keys.iter().map(|k| format!("g.{k} = f.{k}")).collect::<Vec<_>>().join(" AND ");
    let joins: Vec<(&str, &str, &[&str])> = names.into_iter().map(|n| ("fact_counts", "f", n)).collect();
    let mut columns = zero_filled(&joins);
    if c.days {
        columns.push("f.closed_days".to_string());
    }
    format!(
        "fact_counts AS (
            SELECT {k}, {figures}
            FROM ({union}) GROUP BY {k}),
         counts AS (SELECT g.*, {columns} FROM grid g LEFT JOIN fact_counts f ON {on})",
        figures = figures.join(",\n                   "),
        union = parts.join("\n             UNION ALL\n             "),
        columns = columns.join(", "),
    )
}

/// The value columns of [`union_counts`]' fact rows and their SQL types.
const UNION_COLUMNS: &[(&str, &str)] = &[
    ("closed", "BOOLEAN"),
    ("resolved", "BOOLEAN"),
    ("topic_on_time", "BOOLEAN"),
    ("publicized", "BOOLEAN"),
    ("rated", "BOOLEAN"),
    ("closed_before_raised", "BOOLEAN"),
    ("closed_after_evaluated", "BOOLEAN"),
    ("days_to_close", "BIGINT"),
    ("satisfied", "BOOLEAN"),
    ("attitude", "BIGINT"),
    ("efficiency", "BIGINT"),
    ("result", "BIGINT"),
    ("effect", "BIGINT"),
    ("dimensions", "BIGINT"),
    ("rectification_on_time", "BOOLEAN"),
    ("regular", "BOOLEAN"),
];

/// The count CTEs of [`kind_counts`] and `group_counts`: one row per group with at least
/// one counted fact of any kind (the count CTEs full-joined on the keys, each computed
/// once), 0 (false) where a kind has no rows. Starts a `WITH` list.
pub(crate) fn group_counts(c: Counted<'_>) -> String {
    let (mut ctes, joins) = kind_counts(c);
    let mut from = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for (cte, alias, _) in &joins {
        if seen.is_empty() {
            from = format!("{cte} {alias}");
        } else {
            let on = c
                .keys
                .iter()
                .map(|k| match seen.as_slice() {
                    [one] => format!("{one}.{k} = {alias}.{k}"),
                    _ => {
                        let left = seen.iter().map(|a| format!("{a}.{k}")).collect::<Vec<_>>().join(", ");
                        format!("COALESCE({left}) = {alias}.{k}")
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            from.push_str(&format!(" FULL JOIN {cte} {alias} ON {on}"));
        }
        seen.push(alias);
    }
    let keys = c.keys.iter().map(|k| {
        let all = seen.iter().map(|a| format!("{a}.{k}")).collect::<Vec<_>>().join(", ");
        format!("COALESCE({all}) AS {k}")
    });
    let columns: Vec<String> = keys.chain(zero_filled(&joins)).collect();
    ctes.push(format!("group_counts AS (SELECT {} FROM {from})", columns.join(", ")));
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
const EVENT_COUNTS: &[&str] = &[
    "evaluations",
    "evaluations_satisfied",
    "attitude_sum",
    "efficiency_sum",
    "result_sum",
    "effect_sum",
    "dimensions_sum",
    "rectifications",
    "rectifications_on_time",
];
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
