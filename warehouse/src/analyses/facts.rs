//! The facts every report starts from: one view per ledger table with its period, its
//! flags (closed, on time, …) and, for evaluations and rectifications, the category,
//! channel and lead cadre of their topic; the years in scope; and the SQL that counts
//! those facts per group and turns the counts into the contract's figures.
//!
//! Every figure is defined once, here, in the contract's words; the reports only choose
//! the groups (community × quarter, cadre × year, …) and join the counts to them.

use super::labels::BACKDATED_DAYS;
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// Statuses that count as closed (contract: "closed = status resolved or explained"); the
/// pages' ledger lists say 按时 by the same rule.
pub const CLOSED: &str = "status IN ('resolved', 'explained')";

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

    /// Every quarter a ledger can hold (years 1–9999): what an aggregate kept for every
    /// period is built over.
    pub(crate) fn all() -> Span {
        Span::new((1, 1), (9999, 4))
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
    pub(crate) fn rows(self, a: &str, date: &str) -> String {
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
async fn register(session: &ScopedSession, scheme: &Scheme, span: Span, query: &str) -> Result<()> {
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
        ("backdated_facts", backdated_facts(span)),
    ];
    for (name, sql) in views.into_iter().filter(|(name, _)| named.contains(name)) {
        let view = ctx.sql(&sql).await?.into_view();
        // DataFusion refuses a name already taken: the previous report's view goes.
        ctx.deregister_table(name)?;
        ctx.register_table(name, view)?;
    }
    Ok(())
}

/// Plans a report's SQL `text` after registering the fact views it names.
pub(crate) async fn query(
    session: &ScopedSession,
    scheme: &Scheme,
    span: Span,
    text: &str,
) -> Result<datafusion::dataframe::DataFrame> {
    register(session, scheme, span, text).await?;
    super::sql(&session.ctx, text).await
}

/// Quarter of a date as BIGINT (DataFusion has no `quarter()`).
pub(crate) fn quarter_of(date: &str) -> String {
    format!("CAST(date_part('quarter', {date}) AS BIGINT)")
}

/// Month of a date (1–12) as BIGINT: the monthly reports group by it like the quarterly
/// ones by `quarter`.
fn month_of(date: &str) -> String {
    format!("CAST(date_part('month', {date}) AS BIGINT)")
}

/// One row per topic raised in the span, in the period of `raised_on`. `days_to_close`
/// only for closed topics.
///
/// With `ratings`: `rated` = a closed topic with at least one evaluation of any date (for
/// rating_coverage) and `closed_after_evaluated` = closed after its first evaluation of
/// any date. The span's topics, their figures' columns already computed (booleans and
/// numbers, not the dates and status they come from), are left-joined to every
/// evaluation and grouped back to one row per topic by its key alone (unique: topics are
/// upserted by key, so a topic's other columns are the same on each of its rows and
/// `min`/`bool_or` take them). Grouping by the join's own key lets DataFusion aggregate
/// each join partition in one phase instead of a partial and a final aggregate over
/// millions of topics; with the narrower rows, a whole-year report at 20,000 communities
/// peaks ~0.4 GiB lower. Only the columns the quarterly analysis uses are kept: county,
/// category, channel and cadre are null there. Without `ratings` both are false.
fn topic_facts(span: Span, ratings: bool) -> String {
    let facts = format!(
        "SELECT t.county_code, t.community_code, t.topic_id, t.category, t.channel,
                t.lead_cadre_id AS cadre_id, t.handling_mode,
                CAST(t.year AS BIGINT) AS year, {quarter} AS quarter, {month} AS month,
                t.{CLOSED} AS closed,
                t.status = 'resolved' AS resolved,
                COALESCE(t.{CLOSED} AND t.closed_on <= t.deadline, false) AS on_time,
                t.{CLOSED} AND t.publicized_on IS NOT NULL AS publicized,
                CASE WHEN t.{CLOSED}
                     THEN CAST(t.closed_on AS BIGINT) - CAST(t.raised_on AS BIGINT) END AS days_to_close,
                t.closed_on
         FROM topics t WHERE {in_span}",
        quarter = quarter_of("t.raised_on"),
        month = month_of("t.raised_on"),
        in_span = span.rows("t", "raised_on"),
    );
    if !ratings {
        return format!(
            "SELECT county_code, community_code, topic_id, category, channel, cadre_id, handling_mode, year, quarter,
                    month, closed, resolved, on_time, publicized, false AS rated, days_to_close,
                    false AS closed_after_evaluated
             FROM ({facts})"
        );
    }
    format!(
        "SELECT CAST(NULL AS VARCHAR) AS county_code, f.community_code, f.topic_id,
                CAST(NULL AS VARCHAR) AS category, CAST(NULL AS VARCHAR) AS channel,
                CAST(NULL AS VARCHAR) AS cadre_id, CAST(NULL AS VARCHAR) AS handling_mode,
                min(f.year) AS year, min(f.quarter) AS quarter, min(f.month) AS month,
                bool_or(f.closed) AS closed, bool_or(f.resolved) AS resolved,
                bool_or(f.on_time) AS on_time, bool_or(f.publicized) AS publicized,
                bool_or(f.closed) AND count(e.topic_id) > 0 AS rated,
                min(f.days_to_close) AS days_to_close,
                COALESCE(min(f.closed_on) > min(e.evaluated_on), false) AS closed_after_evaluated
         FROM ({facts}) f
         LEFT JOIN evaluations e ON f.community_code = e.community_code AND f.topic_id = e.topic_id
         GROUP BY f.community_code, f.topic_id"
    )
}

/// One row per evaluation dated in the span, in the period of `evaluated_on`.
/// `satisfied` uses the verdict only (fine print 5). `basically_satisfied` is counted apart
/// so that an aggregate built with the strict `satisfied` serves either scheme.
fn evaluation_facts(span: Span, satisfied: &str) -> String {
    format!(
        "SELECT e.county_code, e.community_code, e.topic_id,
                CAST(e.year AS BIGINT) AS year, {quarter} AS quarter, {month} AS month,
                e.attitude, e.efficiency, e.result, e.effect,
                e.attitude + e.efficiency + e.result + e.effect AS dimensions,
                {satisfied} AS satisfied, e.verdict = 'basically_satisfied' AS basically_satisfied
         FROM evaluations e
         WHERE {in_span}",
        quarter = quarter_of("e.evaluated_on"),
        month = month_of("e.evaluated_on"),
        in_span = span.rows("e", "evaluated_on"),
    )
}

/// One row per rectification opened in the span, in the period of `opened_on`. On time =
/// closed by its deadline; an open one is not on time, whether or not its deadline has
/// passed (fine print 2).
fn rectification_facts(span: Span) -> String {
    format!(
        "SELECT r.county_code, r.community_code, r.topic_id,
                CAST(r.year AS BIGINT) AS year, {quarter} AS quarter, {month} AS month,
                COALESCE(r.closed_on <= r.deadline, false) AS rectified_on_time
         FROM rectifications r
         WHERE {in_span}",
        quarter = quarter_of("r.opened_on"),
        month = month_of("r.opened_on"),
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
        "SELECT x.*, t.category, t.channel, t.lead_cadre_id AS cadre_id, t.handling_mode
         FROM (SELECT county_code, community_code, topic_id, year, quarter, month, true AS is_evaluation,
                      attitude, efficiency, result, effect, dimensions, satisfied, basically_satisfied,
                      CAST(NULL AS BOOLEAN) AS rectified_on_time
               FROM ({evaluations})
               UNION ALL
               SELECT county_code, community_code, topic_id, year, quarter, month, false AS is_evaluation,
                      NULL, NULL, NULL, NULL, NULL, NULL, NULL, rectified_on_time
               FROM ({rectifications})) x
         LEFT JOIN topics t ON x.community_code = t.community_code AND x.topic_id = t.topic_id",
        evaluations = evaluation_facts(span, satisfied),
        rectifications = rectification_facts(span),
    )
}

/// One row per backdated evaluation dated in the span (in the period of `evaluated_on`):
/// dated more than [`BACKDATED_DAYS`] days after its topic's `closed_on`, with the topic's
/// lead cadre (attributed through the topic as last ingested, fine print 1).
fn backdated_facts(span: Span) -> String {
    format!(
        "SELECT e.community_code, t.lead_cadre_id AS cadre_id, CAST(e.year AS BIGINT) AS year, {quarter} AS quarter
         FROM evaluations e
         JOIN topics t ON e.community_code = t.community_code AND e.topic_id = t.topic_id
         WHERE {in_span} AND t.{CLOSED}
           AND CAST(e.evaluated_on AS BIGINT) - CAST(t.closed_on AS BIGINT) > {BACKDATED_DAYS}",
        quarter = quarter_of("e.evaluated_on"),
        in_span = span.rows("e", "evaluated_on"),
    )
}

/// The CTE `backdated`: `any_backdated` = true per group of `keys` (columns of
/// `backdated_facts`) with a backdated evaluation. Put after `WITH … ,`.
pub(crate) fn backdated(keys: &[&str]) -> String {
    let k = keys.join(", ");
    format!("backdated AS (SELECT {k}, true AS any_backdated FROM backdated_facts GROUP BY {k})")
}

/// The body of a CTE: the rows of `relation` with `any_backdated` (false where the
/// `backdated` CTE has no row of the same `keys`).
pub(crate) fn with_backdated(relation: &str, keys: &[&str]) -> String {
    format!(
        "SELECT r.*, COALESCE(b.any_backdated, false) AS any_backdated
         FROM {relation} r LEFT JOIN backdated b ON {}",
        same_keys(keys, "r", "b")
    )
}

/// One row per session held in the span, in the period of `held_on`; only `regular`
/// ones count towards session_rate (fine print 4).
fn session_facts(span: Span) -> String {
    format!(
        "SELECT s.county_code, s.community_code, CAST(s.year AS BIGINT) AS year, {quarter} AS quarter,
                {month} AS month, s.kind = 'regular' AS regular
         FROM sessions s
         WHERE {in_span}",
        quarter = quarter_of("s.held_on"),
        month = month_of("s.held_on"),
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

/// The kinds of fact a report counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Topic = 1,
    Evaluation = 2,
    Rectification = 3,
    Session = 4,
}

/// How a count is aggregated over its kind's rows.
#[derive(Debug, Clone, Copy)]
pub(super) enum Aggregate {
    /// Rows (meeting the condition).
    Rows(Option<&'static str>),
    /// Sum of a column.
    Sum(&'static str),
    /// Whether any row has the flag.
    Any(&'static str),
}

/// Every count the figures are made of, once: its kind, its name and its aggregate over
/// the kind's fact rows (columns as the fact views name them).
pub(super) const COUNTS: &[(Kind, &str, Aggregate)] = &[
    (Kind::Topic, "topics_raised", Aggregate::Rows(None)),
    (Kind::Topic, "topics_closed", Aggregate::Rows(Some("closed"))),
    (Kind::Topic, "topics_resolved", Aggregate::Rows(Some("resolved"))),
    (Kind::Topic, "closed_on_time", Aggregate::Rows(Some("on_time"))),
    (Kind::Topic, "closed_publicized", Aggregate::Rows(Some("publicized"))),
    (Kind::Topic, "closed_rated", Aggregate::Rows(Some("rated"))),
    (Kind::Topic, "any_closed_after_evaluated", Aggregate::Any("closed_after_evaluated")),
    (Kind::Evaluation, "evaluations", Aggregate::Rows(None)),
    (Kind::Evaluation, "evaluations_satisfied", Aggregate::Rows(Some("satisfied"))),
    (Kind::Evaluation, "evaluations_basically_satisfied", Aggregate::Rows(Some("basically_satisfied"))),
    (Kind::Evaluation, "attitude_sum", Aggregate::Sum("attitude")),
    (Kind::Evaluation, "efficiency_sum", Aggregate::Sum("efficiency")),
    (Kind::Evaluation, "result_sum", Aggregate::Sum("result")),
    (Kind::Evaluation, "effect_sum", Aggregate::Sum("effect")),
    (Kind::Evaluation, "dimensions_sum", Aggregate::Sum("dimensions")),
    (Kind::Rectification, "rectifications", Aggregate::Rows(None)),
    (Kind::Rectification, "rectifications_on_time", Aggregate::Rows(Some("rectified_on_time"))),
    (Kind::Session, "sessions_held", Aggregate::Rows(None)),
    (Kind::Session, "regular_sessions", Aggregate::Rows(Some("regular"))),
];

/// The value columns of each kind's fact rows and their SQL types (for the `UNION ALL` of
/// [`union_counts`], where the other kinds' columns are typed nulls).
const FACT_COLUMNS: &[(Kind, &str, &str)] = &[
    (Kind::Topic, "closed", "BOOLEAN"),
    (Kind::Topic, "resolved", "BOOLEAN"),
    (Kind::Topic, "on_time", "BOOLEAN"),
    (Kind::Topic, "publicized", "BOOLEAN"),
    (Kind::Topic, "rated", "BOOLEAN"),
    (Kind::Topic, "closed_after_evaluated", "BOOLEAN"),
    (Kind::Topic, "days_to_close", "BIGINT"),
    (Kind::Evaluation, "satisfied", "BOOLEAN"),
    (Kind::Evaluation, "basically_satisfied", "BOOLEAN"),
    (Kind::Evaluation, "attitude", "BIGINT"),
    (Kind::Evaluation, "efficiency", "BIGINT"),
    (Kind::Evaluation, "result", "BIGINT"),
    (Kind::Evaluation, "effect", "BIGINT"),
    (Kind::Evaluation, "dimensions", "BIGINT"),
    (Kind::Rectification, "rectified_on_time", "BOOLEAN"),
    (Kind::Session, "regular", "BOOLEAN"),
];

/// The aggregates of `kinds`' counts, `… AS name`. `row_of` is the condition that a row
/// is of a kind, in a view holding several kinds (none in a view of one kind); columns
/// of the other kinds are null there, so sums and flags need no condition.
fn aggregates(kinds: &[Kind], row_of: impl Fn(Kind) -> Option<String>) -> Vec<String> {
    let selected = COUNTS.iter().filter(|(kind, _, _)| kinds.contains(kind));
    selected
        .map(|&(kind, name, aggregate)| match aggregate {
            Aggregate::Rows(condition) => {
                let conditions: Vec<String> = row_of(kind).into_iter().chain(condition.map(String::from)).collect();
                if conditions.is_empty() {
                    format!("count(*) AS {name}")
                } else {
                    format!("count(*) FILTER (WHERE {}) AS {name}", conditions.join(" AND "))
                }
            }
            Aggregate::Sum(column) => format!("sum({column}) AS {name}"),
            Aggregate::Any(column) => format!("bool_or({column}) AS {name}"),
        })
        .collect()
}

/// `COALESCE(alias.name, 0) AS name` (false for the flags) for every count of `kinds`.
fn zero_filled(alias: &str, kinds: &[Kind]) -> Vec<String> {
    let selected = COUNTS.iter().filter(|(kind, _, _)| kinds.contains(kind));
    selected
        .map(|(_, name, aggregate)| {
            let zero = if matches!(aggregate, Aggregate::Any(_)) { "false" } else { "0" };
            format!("COALESCE({alias}.{name}, {zero}) AS {name}")
        })
        .collect()
}

/// The topic view counted: with `rated` and `closed_after_evaluated` when asked.
fn topic_view(c: Counted<'_>) -> &'static str {
    if c.ratings { "rated_topic_facts" } else { "topic_facts" }
}

/// For keys that are topic groups: CTEs `topic_counts` over the topics and `event_counts`
/// over `event_facts` (evaluations and rectifications with their topic's groups, counted
/// in one pass), grouped by the keys over the facts that pass the filter.
fn topic_and_event_counts(c: Counted<'_>) -> [String; 2] {
    topic_and_event_counts_over(c, topic_view(c), "event_facts")
}

/// [`topic_and_event_counts`] over the given topic and event relations (views or CTEs with
/// the columns of `topic_facts` and `event_facts` and the keys).
fn topic_and_event_counts_over(c: Counted<'_>, topic_facts: &str, event_facts: &str) -> [String; 2] {
    let (k, filter) = (c.keys.join(", "), c.filter);
    let topics = aggregates(&[Kind::Topic], |_| None).join(", ");
    let events = aggregates(&[Kind::Evaluation, Kind::Rectification], |kind| match kind {
        Kind::Evaluation => Some("is_evaluation".to_string()),
        _ => Some("NOT is_evaluation".to_string()),
    })
    .join(", ");
    [
        format!("topic_counts AS (SELECT {k}, {topics} FROM {topic_facts} WHERE {filter} GROUP BY {k})"),
        format!("event_counts AS (SELECT {k}, {events} FROM {event_facts} WHERE {filter} GROUP BY {k})"),
    ]
}

/// CTEs ending in `counts`: the caller's CTE `grid` (which must have the key columns)
/// left-joined to the counts of its facts, with 0 (false) where a group has no rows.
/// Put after `WITH grid AS (…),`.
pub(crate) fn counts(c: Counted<'_>) -> String {
    if !c.events {
        return union_counts(c);
    }
    let [topic_counts, event_counts] = topic_and_event_counts(c);
    let columns = [zero_filled("t", &[Kind::Topic]), zero_filled("e", &[Kind::Evaluation, Kind::Rectification])];
    format!(
        "{topic_counts},\n{event_counts},\ncounts AS (SELECT g.*, {} FROM grid g
            LEFT JOIN topic_counts t ON {} LEFT JOIN event_counts e ON {})",
        columns.concat().join(", "),
        same_keys(c.keys, "g", "t"),
        same_keys(c.keys, "g", "e"),
    )
}

/// `counts` for facts grouped by their own keys (no topic groups): every kind of fact in
/// one `UNION ALL` (the other kinds' columns null), counted by one aggregate and
/// left-joined to the grid once. Per-kind aggregates each joined to the grid were most of
/// a one-county report's time: DataFusion plans four aggregates and joins, and builds the
/// four hash joins one after another. With `days`, also `closed_days`: the days to close
/// of the group's closed topics, sorted.
fn union_counts(c: Counted<'_>) -> String {
    format!("{},\n{}", fact_counts(c), grid_counts(c))
}

/// The kinds of fact `c` counts when grouped by their own keys.
pub(super) fn counted_kinds(c: Counted<'_>) -> Vec<Kind> {
    let mut kinds = vec![Kind::Topic, Kind::Evaluation, Kind::Rectification];
    if c.sessions {
        kinds.push(Kind::Session);
    }
    kinds
}

/// The CTE `fact_counts` of [`union_counts`]: one row per group of `c.keys` with at least
/// one fact, its counts (and `closed_days` with `days`).
pub(super) fn fact_counts(c: Counted<'_>) -> String {
    let (k, filter) = (c.keys.join(", "), c.filter);
    let kinds = counted_kinds(c);
    let view = |kind: Kind| match kind {
        Kind::Topic => topic_view(c),
        Kind::Evaluation => "evaluation_facts",
        Kind::Rectification => "rectification_facts",
        Kind::Session => "session_facts",
    };
    // Every part names every column (DataFusion wants unique names in each projection).
    let part = |kind: Kind| {
        let columns = FACT_COLUMNS.iter().map(|&(of, name, ty)| {
            let value = if of == kind { name } else { "NULL" };
            format!("CAST({value} AS {ty}) AS {name}")
        });
        let columns = columns.collect::<Vec<_>>().join(", ");
        format!("SELECT {k}, {} AS kind, {columns} FROM {} WHERE {filter}", kind as u8, view(kind))
    };
    let union = kinds.iter().map(|&kind| part(kind)).collect::<Vec<_>>().join("\n UNION ALL\n");
    let mut figures = aggregates(&kinds, |kind| Some(format!("kind = {}", kind as u8)));
    if c.days {
        let topic = Kind::Topic as u8;
        figures.push(format!(
            "array_sort(array_agg(days_to_close) FILTER (WHERE kind = {topic} AND closed), 'ASC', 'NULLS LAST')
                 AS closed_days"
        ));
    }
    format!("fact_counts AS (SELECT {k}, {} FROM ({union}) GROUP BY {k})", figures.join(", "))
}

/// The CTE `counts` of [`union_counts`]: the caller's `grid` left-joined to `fact_counts`
/// (computed here or read from an aggregate), 0 (false) where a group has no facts.
pub(super) fn grid_counts(c: Counted<'_>) -> String {
    grid_counts_carrying(c, &[])
}

/// [`grid_counts`] with the further `fact_counts` columns `carried` (null where a grid
/// row has no facts).
pub(super) fn grid_counts_carrying(c: Counted<'_>, carried: &[&str]) -> String {
    let mut columns = zero_filled("f", &counted_kinds(c));
    if c.days {
        columns.push("f.closed_days".to_string());
    }
    columns.extend(carried.iter().map(|column| format!("f.{column}")));
    let on = same_keys(c.keys, "g", "f");
    format!("counts AS (SELECT g.*, {} FROM grid g LEFT JOIN fact_counts f ON {on})", columns.join(", "))
}

/// CTEs ending in `group_counts`: one row per group (keys that are topic groups) with at
/// least one counted fact of any kind — the topic and event counts full-joined on the
/// keys, each computed once —, 0 (false) where a kind has no rows. Starts a `WITH` list.
pub(crate) fn group_counts(c: Counted<'_>) -> String {
    group_counts_over(c, topic_view(c), "event_facts")
}

/// [`group_counts`] over the given topic and event relations (e.g. CTEs that add a
/// group column to `topic_facts` and `event_facts`).
pub(crate) fn group_counts_over(c: Counted<'_>, topic_facts: &str, event_facts: &str) -> String {
    let [topic_counts, event_counts] = topic_and_event_counts_over(c, topic_facts, event_facts);
    let on = same_keys(c.keys, "t", "e");
    let keys = c.keys.iter().map(|k| format!("COALESCE(t.{k}, e.{k}) AS {k}"));
    let columns: Vec<String> = keys
        .chain(zero_filled("t", &[Kind::Topic]))
        .chain(zero_filled("e", &[Kind::Evaluation, Kind::Rectification]))
        .collect();
    format!(
        "{topic_counts},\n{event_counts},\ngroup_counts AS (SELECT {} FROM topic_counts t FULL JOIN event_counts e ON {on})",
        columns.join(", ")
    )
}

/// `a.k = b.k AND …` for every key `k`: the join condition of two groupings by `keys`.
fn same_keys(keys: &[&str], a: &str, b: &str) -> String {
    keys.iter().map(|k| format!("{a}.{k} = {b}.{k}")).collect::<Vec<_>>().join(" AND ")
}

/// `numerator ÷ denominator`, null when the denominator is 0 (contract: a rate with a
/// zero denominator is null, never 0 or 100%).
pub(crate) fn ratio(numerator: &str, denominator: &str) -> String {
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

/// The interpolation at p = num/den of the sorted array `values` holding `count`
/// non-null values, like PostgreSQL's `percentile_cont` (linear between the closest
/// ranks). Positions are computed in integers — lower = ⌊last·p⌋, weight = (last·p mod 1),
/// last = count − 1 — so 0.9 × 10 cannot land a hair below 9. Null when `count` is 0.
pub(crate) fn percentile(values: &str, count: &str, num: u32, den: u32) -> String {
    let at = |offset: u32| format!("CAST(array_element({values}, ({count} - 1) * {num} / {den} + {offset}) AS DOUBLE)");
    let (lower, upper) = (at(1), at(2));
    let rest = format!("({count} - 1) * {num} % {den}");
    format!(
        "CASE WHEN {rest} = 0 THEN {lower}
              ELSE {lower} + ({upper} - {lower}) * (CAST({rest} AS DOUBLE) / {den}) END"
    )
}

/// The grid of a per-quarter report: every community of the reference table × every
/// quarter of `span` in the years in scope (fine print 10), with its names. The body of
/// a CTE.
///
/// The quarters come first: DataFusion's cross join keeps its left side whole and emits a
/// batch per left row and right batch. With the communities on the left (2,000 rows, its
/// right side a few quarters) the platform's grid came out as 4,000 one-row batches, and
/// every operator above paid per batch (~60 ms of the quarterly analysis); the quarters'
/// size is unknown to the planner, so it keeps this order.
pub(crate) fn quarter_grid(span: Span) -> String {
    format!(
        "SELECT c.county_code, c.county_name, c.community_code, c.community_name, p.year, p.quarter
         FROM (SELECT y.year, q.quarter
               FROM years_in_scope y CROSS JOIN (SELECT unnest(range(1, 5)) AS quarter) q
               WHERE {}) p
         CROSS JOIN communities c",
        span.quarters("y.year", "q.quarter")
    )
}
