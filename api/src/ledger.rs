//! Ledger rows the pages list beside the reports, read in the caller's scope: the topics
//! behind each cadre's assessment, and a community's sessions and topics of a period.

use dashboards::encoding::text;
use dashboards::pages::{Evidence, TextTable};
use ingest::schema::Column;
use ingest::{Scope, Table};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::error::AppResult;
use crate::state::AppState;

/// Each cadre's topics of the year with their ratings of the year (the cadres page's
/// 考核依据).
pub async fn cadre_evidence(state: &AppState, scope: &Scope, year: i32) -> AppResult<Vec<Evidence>> {
    let sql = format!(
        "SELECT t.community_code, t.lead_cadre_id, t.topic_id, t.title, t.status, \
         CAST(count(e.evaluation_id) AS BIGINT) AS evaluations, \
         CAST(sum(CASE WHEN e.verdict IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END) AS BIGINT) AS satisfied, \
         avg(CAST(e.attitude + e.efficiency + e.result + e.effect AS DOUBLE) / 4.0) AS mean_rating \
         FROM topics t LEFT JOIN evaluations e ON e.community_code = t.community_code AND e.topic_id = t.topic_id \
         AND date_part('year', e.evaluated_on) = {year} \
         WHERE date_part('year', t.raised_on) = {year} \
         GROUP BY t.community_code, t.lead_cadre_id, t.topic_id, t.title, t.status ORDER BY t.topic_id"
    );
    let result = state.query(scope, &sql).await?;
    let mut out = Vec::new();
    for batch in &result.batches {
        let text = |i: usize, r: usize| text::plain(batch.column(i), r);
        let int = |i: usize, r: usize| {
            let a = batch.column(i);
            (a.data_type() == &DataType::Int64 && a.is_valid(r)).then(|| a.as_primitive::<Int64Type>().value(r))
        };
        for r in 0..batch.num_rows() {
            let mean = batch.column(7);
            out.push(Evidence {
                community_code: text(0, r),
                cadre_id: text(1, r),
                topic_id: text(2, r),
                title: text(3, r),
                status: text(4, r),
                evaluations: int(5, r).unwrap_or(0),
                satisfied: int(6, r).unwrap_or(0),
                mean_rating: (mean.data_type() == &DataType::Float64 && mean.is_valid(r))
                    .then(|| mean.as_primitive::<Float64Type>().value(r)),
            });
        }
    }
    Ok(out)
}

/// The community's sessions of the year or quarter, by date.
pub async fn community_sessions(
    state: &AppState,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<TextTable> {
    const COLUMNS: [&str; 5] = ["session_id", "held_on", "kind", "form", "attendees"];
    let sql = format!(
        "SELECT {} FROM sessions WHERE {} ORDER BY held_on",
        COLUMNS.join(", "),
        period("held_on", year, quarter)
    );
    let headers = COLUMNS.map(|c| header(Table::Sessions, c));
    ledger_table(state, scope, &sql, &headers, &COLUMNS.map(|c| Table::Sessions.column(c))).await
}

/// The community's topics raised in the year or quarter, by date, each with its lead
/// cadre's name (the id when the cadre is missing from the cadres table).
pub async fn community_topics(
    state: &AppState,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<TextTable> {
    const COLUMNS: [&str; 9] =
        ["topic_id", "title", "category", "channel", "raised_on", "lead_cadre_id", "deadline", "status", "closed_on"];
    let select = COLUMNS.map(|c| match c {
        "lead_cadre_id" => "coalesce(c.cadre_name, t.lead_cadre_id)".to_string(),
        other => format!("t.{other}"),
    });
    let sql = format!(
        "SELECT {} FROM topics t LEFT JOIN cadres c \
         ON c.community_code = t.community_code AND c.cadre_id = t.lead_cadre_id \
         WHERE {} ORDER BY t.raised_on, t.topic_id",
        select.join(", "),
        period("t.raised_on", year, quarter)
    );
    let headers = COLUMNS.map(|c| if c == "lead_cadre_id" { "责任人" } else { header(Table::Topics, c) });
    ledger_table(state, scope, &sql, &headers, &COLUMNS.map(|c| Table::Topics.column(c))).await
}

/// The contract's Chinese header of a column.
fn header(table: Table, column: &str) -> &'static str {
    table.column(column).map_or("", |c| c.chinese())
}

/// The condition that the date column `date` lies in the year or quarter.
fn period(date: &str, year: i32, quarter: Option<u32>) -> String {
    match quarter {
        Some(q) => format!("date_part('year', {date}) = {year} AND date_part('quarter', {date}) = {q}"),
        None => format!("date_part('year', {date}) = {year}"),
    }
}

/// A query's rows as text under the given headers, each cell of an enumeration column
/// as its Chinese value (the contract's labels, [`ingest::schema::Column::label`]).
async fn ledger_table(
    state: &AppState,
    scope: &Scope,
    sql: &str,
    headers: &[&str],
    columns: &[Option<&Column>],
) -> AppResult<TextTable> {
    let result = state.query(scope, sql).await?;
    let mut table = TextTable { headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() };
    for batch in &result.batches {
        for r in 0..batch.num_rows() {
            let cells = batch.columns().iter().zip(columns).map(|(a, column)| {
                let value = text::plain(a, r);
                column.map_or_else(|| value.clone(), |c| c.label(&value).to_string())
            });
            table.rows.push(cells.collect());
        }
    }
    Ok(table)
}
