//! The quarter cells: the counts of the quarterly report family kept as a small table
//! that the ingest brings up to date ([`crate::aggregates`]), so the reports read a few
//! rows per community and quarter instead of joining and counting the events.
//!
//! One row per community × year × quarter × `dim`:
//!
//! - `dim = 'all'`, `grp` null: every count of the quarterly analysis (topics as rated
//!   topic facts, evaluations, rectifications, sessions), the quarter's closed topics'
//!   days to close (sorted, as text: `"2,14,15"`) and whether an evaluation is backdated;
//! - `dim = 'category' | 'channel' | 'handling_mode'`, `grp` the topic's group: the counts
//!   of a breakdown row (topics, and evaluations and rectifications through their topic as
//!   last ingested), for groups with at least one fact.
//!
//! Every count is one of [`facts::COUNTS`], computed by the same SQL as the reports' own
//! (`fact_counts`, `group_counts_over`) over the same fact views. Only sums and counts are
//! kept: the rates, means, percentiles and flags are computed from them at report time
//! exactly as from the events. `satisfied` is kept strict (verdict `satisfied` only) beside
//! `evaluations_basically_satisfied`, so one table serves both readings of the scheme.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;

use super::facts::{self, Aggregate, COUNTS, Counted, Kind, Span};
use crate::ScopedSession;
use crate::errors::Result;
use crate::scheme::Scheme;

/// The name a session gives the quarter cells (scoped like the ledger tables).
pub(crate) const CELLS: &str = "quarter_cells";

/// The keys of the quarterly analysis's counts.
const QUARTER_KEYS: &[&str] = &["community_code", "year", "quarter"];

/// The topic groups kept, each a `dim` (the breakdowns' and the handling report's
/// groups, and the lead cadre for the cadre assessment).
const DIMS: [&str; 4] = ["category", "channel", "handling_mode", "cadre_id"];

/// What the cells hold, recorded with their versions (see `aggregates`): 2 added the
/// `cadre_id` rows and their backdated flag, 3 partitioned them by `dim` as well (an
/// older warehouse's cells are rebuilt whole on the next ingest or `yishi init`).
pub(crate) const FORMAT: u64 = 3;

/// The kinds counted in a `dim = 'all'` row.
const ALL_KINDS: [Kind; 4] = [Kind::Topic, Kind::Evaluation, Kind::Rectification, Kind::Session];

/// What the quarterly analysis counts (also what a `dim = 'all'` row holds).
pub(crate) fn quarterly_counted<'a>() -> Counted<'a> {
    Counted { keys: QUARTER_KEYS, filter: "TRUE", sessions: true, ratings: true, events: false, days: true }
}

/// The stored schema: keys, every count, the days and the backdated flag.
pub(crate) fn schema() -> SchemaRef {
    let text = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let mut fields = vec![
        text("county_code", false),
        text("community_code", false),
        Field::new("year", DataType::Int64, false),
        Field::new("quarter", DataType::Int64, false),
        text("dim", false),
        text("grp", true),
    ];
    for (_, name, aggregate) in COUNTS.iter().filter(|(kind, _, _)| ALL_KINDS.contains(kind)) {
        let ty = if matches!(aggregate, Aggregate::Any(_)) { DataType::Boolean } else { DataType::Int64 };
        fields.push(Field::new(*name, ty, true));
    }
    fields.push(text("closed_days", true));
    fields.push(Field::new("any_backdated", DataType::Boolean, true));
    Arc::new(Schema::new(fields))
}

/// The cells of every community in `session` (a session over the ledger tables of the
/// counties to build, at the versions the cells will record), in [`schema`].
pub(crate) async fn build(session: &ScopedSession) -> Result<Vec<RecordBatch>> {
    // Strict: `evaluations_satisfied` counts `satisfied` only (see the module's doc).
    let strict = Scheme { basically_satisfied_counts_as_satisfied: false, ..Scheme::default() };
    let mut cells = Vec::new();
    let quarters = facts::query(session, &strict, Span::all(), &quarter_cells_sql()).await?;
    for batch in quarters.collect().await? {
        cells.push(conform(&batch)?);
    }
    let fine = facts::query(session, &strict, Span::all(), &fine_counts_sql()).await?;
    let planned = fine.schema().inner().clone();
    let batches = fine.collect().await?;
    // The batches' own schema: nullability can differ from the plan's.
    let schema = batches.first().map_or(planned, |b| b.schema());
    let fine = MemTable::try_new(schema, vec![batches])?;
    session.ctx.register_table(FINE, Arc::new(fine))?;
    // Through `facts::query`: the cadre rows' flag reads `backdated_facts`.
    for batch in facts::query(session, &strict, Span::all(), &group_cells_sql()).await?.collect().await? {
        cells.push(conform(&batch)?);
    }
    session.ctx.deregister_table(FINE)?;
    Ok(cells)
}

/// The `dim = 'all'` rows: the quarterly analysis's `fact_counts` and backdated flag.
/// `closed_days` as text, null without closed topics (as the array is).
fn quarter_cells_sql() -> String {
    let c = quarterly_counted();
    format!(
        "WITH {fact_counts},
         {backdated},
         flagged AS ({flagged})
         SELECT substr(community_code, 1, 6) AS county_code, 'all' AS dim, CAST(NULL AS VARCHAR) AS grp, *,
                CASE WHEN topics_closed > 0 THEN array_to_string(closed_days, ',') END AS closed_days_text
         FROM flagged",
        fact_counts = facts::fact_counts(c),
        backdated = facts::backdated(QUARTER_KEYS),
        flagged = facts::with_backdated("fact_counts", QUARTER_KEYS),
    )
}

/// The in-memory table of [`fine_counts_sql`]'s rows while the group rows are summed.
const FINE: &str = "fine_group_counts";

/// The breakdowns' `group_counts` per community × quarter × category × channel × handling
/// mode: each fact counted once and the events joined to their topics once, for all three
/// dims (events of a missing topic have null groups and are left out of every dim below).
fn fine_counts_sql() -> String {
    let keys: &[&str] = &["community_code", "year", "quarter", "category", "channel", "handling_mode", "cadre_id"];
    let counted = Counted { keys, filter: "TRUE", sessions: false, ratings: false, events: true, days: false };
    format!("WITH {} SELECT * FROM group_counts", facts::group_counts(counted))
}

/// The topic-group rows: the fine counts summed per group of each dim (a group exists
/// when any of its fine rows does, as in the breakdowns' full join).
fn group_cells_sql() -> String {
    let sums = COUNTS
        .iter()
        .filter(|(kind, _, _)| [Kind::Topic, Kind::Evaluation, Kind::Rectification].contains(kind))
        .map(|(_, name, aggregate)| match aggregate {
            Aggregate::Any(_) => format!("bool_or({name}) AS {name}"),
            _ => format!("sum({name}) AS {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    DIMS.iter()
        .map(|d| {
            let grouped = format!(
                "SELECT substr(community_code, 1, 6) AS county_code, community_code, year, quarter,
                        '{d}' AS dim, {d} AS grp, {sums}
                 FROM {FINE} WHERE {d} IS NOT NULL GROUP BY community_code, year, quarter, {d}"
            );
            if *d == "cadre_id" {
                cadre_backdated(&grouped)
            } else {
                format!("SELECT *, CAST(NULL AS BOOLEAN) AS any_backdated FROM ({grouped})")
            }
        })
        .collect::<Vec<_>>()
        .join("\n UNION ALL\n")
}

/// The cadre rows `grouped` with `any_backdated`: a backdated evaluation of a topic the
/// cadre leads (as last ingested), dated in the quarter — the cadre assessment's flag.
fn cadre_backdated(grouped: &str) -> String {
    format!(
        "SELECT g.*, COALESCE(b.any_backdated, false) AS any_backdated
         FROM ({grouped}) g
         LEFT JOIN (SELECT community_code, cadre_id, year, quarter, true AS any_backdated
                    FROM backdated_facts GROUP BY community_code, cadre_id, year, quarter) b
           ON g.community_code = b.community_code AND g.grp = b.cadre_id
          AND g.year = b.year AND g.quarter = b.quarter"
    )
}

/// A computed batch in the stored [`schema`]: columns by name, cast to the stored type
/// (strings come back as views), null where a kind of row has no such column.
fn conform(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = schema();
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let name = if field.name() == "closed_days" { "closed_days_text" } else { field.name().as_str() };
            match batch.column_by_name(name) {
                Some(column) => Ok(datafusion::arrow::compute::cast(column, field.data_type())?),
                None => Ok(new_null_array(field.data_type(), batch.num_rows())),
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// The stored `evaluations_satisfied` read under `scheme`: with 基本满意 counting as
/// satisfied, the strict count plus the 基本满意 ones.
fn satisfied(scheme: &Scheme) -> &'static str {
    if scheme.basically_satisfied_counts_as_satisfied {
        "evaluations_satisfied + evaluations_basically_satisfied AS evaluations_satisfied"
    } else {
        "evaluations_satisfied"
    }
}

/// The counts of `kinds` as stored, `evaluations_satisfied` read under `scheme`.
fn stored_counts(kinds: &[Kind], scheme: &Scheme) -> String {
    COUNTS
        .iter()
        .filter(|(kind, _, _)| kinds.contains(kind))
        .map(|(_, name, _)| if *name == "evaluations_satisfied" { satisfied(scheme) } else { name })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The quarterly analysis's `fact_counts`, `counts` and `backdated` CTEs read from the
/// cells of `span` (put after `WITH grid AS (…),`), in place of [`facts::counts`] and
/// [`facts::backdated`] over the events.
pub(crate) fn quarterly_counts(span: Span, scheme: &Scheme) -> [String; 2] {
    let c = quarterly_counted();
    let in_span = span.quarters("year", "quarter");
    let counts = format!(
        "fact_counts AS (
            SELECT community_code, year, quarter, {counts}, string_to_array(closed_days, ',') AS closed_days
            FROM {CELLS} WHERE dim = 'all' AND {in_span}),
         {grid_counts}",
        counts = stored_counts(&ALL_KINDS, scheme),
        grid_counts = facts::grid_counts(c),
    );
    let backdated = format!(
        "backdated AS (SELECT community_code, year, quarter, true AS any_backdated
                       FROM {CELLS} WHERE dim = 'all' AND any_backdated AND {in_span})"
    );
    [counts, backdated]
}

/// A breakdown's `group_counts` CTE (starts a `WITH` list) read from the cells of group
/// column `g` in the period `filter` (`year = … [AND quarter = …]`), in place of
/// [`facts::group_counts`] over the events.
pub(crate) fn group_counts(g: &str, filter: &str, scheme: &Scheme) -> String {
    let counts = stored_counts(&[Kind::Topic, Kind::Evaluation, Kind::Rectification], scheme);
    format!(
        "group_counts AS (
            SELECT community_code, year, quarter, grp AS {g}, {counts}
            FROM {CELLS} WHERE dim = '{g}' AND grp IS NOT NULL AND {filter})"
    )
}

/// The counts of `kinds` summed over the cells of a group's quarters (`… AS name`),
/// `evaluations_satisfied` read under `scheme`: every count is a count or sum of facts
/// each in exactly one quarter (or a flag), so a year's is the sum of its quarters'.
fn summed_counts(kinds: &[Kind], scheme: &Scheme) -> String {
    COUNTS
        .iter()
        .filter(|(kind, _, _)| kinds.contains(kind))
        .map(|(_, name, aggregate)| match aggregate {
            Aggregate::Any(_) => format!("bool_or({name}) AS {name}"),
            _ if *name == "evaluations_satisfied" && scheme.basically_satisfied_counts_as_satisfied => {
                format!("sum(evaluations_satisfied + evaluations_basically_satisfied) AS {name}")
            }
            _ => format!("sum({name}) AS {name}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the community assessment counts per community and year.
pub(crate) fn yearly_counted<'a>(filter: &'a str) -> Counted<'a> {
    Counted { keys: &["community_code", "year"], filter, sessions: true, ratings: true, events: false, days: false }
}

/// The community assessment's `counts` CTE for `year` read from the cells (its quarters
/// summed), in place of [`facts::counts`] over the events (put after `WITH grid AS (…),`),
/// carrying [`CELL_BACKDATED`] in place of [`facts::backdated`]: one scan of the year's
/// cells where a second one for the flag took a fifth of the platform's assessment.
pub(crate) fn yearly_counts(year: i32, scheme: &Scheme) -> String {
    format!(
        "fact_counts AS (
            SELECT community_code, year, {counts}, bool_or(any_backdated) AS {CELL_BACKDATED}
            FROM {CELLS} WHERE dim = 'all' AND year = {year} GROUP BY community_code, year),
         {grid_counts}",
        counts = summed_counts(&ALL_KINDS, scheme),
        grid_counts = facts::grid_counts_carrying(yearly_counted(""), &[CELL_BACKDATED]),
    )
}

/// The column of [`yearly_counts`]'s `counts` that says whether any of the community's
/// evaluations in the year is backdated (null: it has no cells).
pub(crate) const CELL_BACKDATED: &str = "cell_backdated";

/// How an assessment gets its `counts` and backdated flag, as pieces of its query.
pub(crate) struct Flagging {
    /// The `counts` CTE (after `WITH grid AS (…),`).
    pub(crate) counted: String,
    /// Appended to the figures' columns: `, cell_backdated` from the cells, else nothing.
    pub(crate) carried: String,
    /// The `backdated` CTE and its comma from the events, else nothing.
    pub(crate) backdated: String,
    /// The body of `flagged`: `relation` with `any_backdated`.
    pub(crate) flagged: String,
}

/// [`Flagging`] from the cells' `counts` (`from_cells`, carrying [`CELL_BACKDATED`]) when
/// the session reads cells, else from the events counted by `events`, the flag joined on
/// `keys`; `flagged` reads `relation`.
pub(crate) fn flagging(from_cells: Option<String>, events: Counted<'_>, keys: &[&str], relation: &str) -> Flagging {
    match from_cells {
        Some(counted) => Flagging {
            counted,
            carried: format!(", {CELL_BACKDATED}"),
            backdated: String::new(),
            flagged: format!(
                "SELECT * EXCLUDE ({CELL_BACKDATED}), COALESCE({CELL_BACKDATED}, false) AS any_backdated FROM {relation}"
            ),
        },
        None => Flagging {
            counted: facts::counts(events),
            carried: String::new(),
            backdated: format!("{},", facts::backdated(keys)),
            flagged: facts::with_backdated(relation, keys),
        },
    }
}

/// The keys of the cadre assessment's counts.
const CADRE_KEYS: &[&str] = &["community_code", "cadre_id", "year"];

/// What the cadre assessment counts per cadre and year (topics unrated, as on the events).
pub(crate) fn cadre_counted<'a>(filter: &'a str) -> Counted<'a> {
    Counted { keys: CADRE_KEYS, filter, sessions: false, ratings: false, events: true, days: false }
}

/// The cadre assessment's `counts` CTE for `year` read from the cadre cells (its quarters
/// summed), in place of [`facts::counts`] over the events (put after `WITH grid AS (…),`),
/// carrying [`CELL_BACKDATED`] in place of [`facts::backdated`] (one scan of the cells).
pub(crate) fn cadre_counts(year: i32, scheme: &Scheme) -> String {
    let kinds = [Kind::Topic, Kind::Evaluation, Kind::Rectification];
    // `grid_counts` of keys grouped by their own facts: the same columns, in the same
    // order, as the events' topic and event counts joined to the grid.
    let own = Counted { events: false, ..cadre_counted("") };
    format!(
        "fact_counts AS (
            SELECT community_code, grp AS cadre_id, year, {counts}, bool_or(any_backdated) AS {CELL_BACKDATED}
            FROM {CELLS} WHERE dim = 'cadre_id' AND year = {year} GROUP BY community_code, grp, year),
         {grid_counts}",
        counts = summed_counts(&kinds, scheme),
        grid_counts = facts::grid_counts_carrying(own, &[CELL_BACKDATED]),
    )
}
