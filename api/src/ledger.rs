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
    Ok(ledger_table(state, scope, &sql, &headers, &COLUMNS.map(|c| Table::Sessions.column(c))).await?.0)
}

/// Which topics a ledger list shows: a community's of a period, a cadre's of a year, or one.
#[derive(Debug, Clone, Copy)]
pub enum TopicsOf<'a> {
    Period { year: i32, quarter: Option<u32> },
    Cadre { cadre_id: &'a str, year: i32 },
    One { topic_id: &'a str },
}

impl TopicsOf<'_> {
    /// The condition on the topics (as `t`) of the list.
    fn topics(&self) -> String {
        match *self {
            TopicsOf::Period { year, quarter } => period("t.raised_on", year, quarter),
            TopicsOf::Cadre { cadre_id, year } => {
                format!("t.lead_cadre_id = {} AND {}", literal(cadre_id), period("t.raised_on", year, None))
            }
            TopicsOf::One { topic_id } => format!("t.topic_id = {}", literal(topic_id)),
        }
    }

    /// The condition on their evaluations (as `x`): on a cadre's page, those given in the
    /// year to any topic the cadre leads (an evaluation of last year's topic counts in the
    /// year it is given), as the cadre's assessment counts them.
    fn evaluations(&self) -> String {
        self.of_the_year("x.evaluated_on")
    }

    /// The condition on their rectifications (as `x`): on a cadre's page, those opened in
    /// the year, as the assessment counts them.
    fn rectifications(&self) -> String {
        self.of_the_year("x.opened_on")
    }

    /// The topics' condition, or for a cadre: its topics' rows whose `date` lies in the year.
    fn of_the_year(&self, date: &str) -> String {
        match *self {
            TopicsOf::Cadre { cadre_id, year } => {
                format!("t.lead_cadre_id = {} AND {}", literal(cadre_id), period(date, year, None))
            }
            _ => self.topics(),
        }
    }

    /// The year whose pages the list's links lead to.
    fn year(&self, fallback: i32) -> i32 {
        match *self {
            TopicsOf::Period { year, .. } | TopicsOf::Cadre { year, .. } => year,
            TopicsOf::One { .. } => fallback,
        }
    }
}

/// An id from a request as a SQL string literal (quotes doubled); the pages check its
/// length and characters first ([`crate::routes::params`]).
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Topics by date, each with its lead cadre's name (the id when the cadre is missing from
/// the cadres table) and whether it was closed by its deadline; the title leads to the
/// topic's page, the cadre to the cadre's page, and each row is anchored `topic-<id>`.
pub async fn topics(state: &AppState, scope: &Scope, which: TopicsOf<'_>, year: i32) -> AppResult<TextTable> {
    const COLUMNS: [&str; 9] =
        ["topic_id", "title", "category", "channel", "raised_on", "lead_cadre_id", "deadline", "status", "closed_on"];
    let select = COLUMNS.map(|c| match c {
        "lead_cadre_id" => "coalesce(c.cadre_name, t.lead_cadre_id)".to_string(),
        other => format!("t.{other}"),
    });
    let closed = warehouse::analyses::CLOSED;
    let sql = format!(
        "SELECT {}, CASE WHEN NOT (t.{closed}) THEN '未办结' WHEN t.closed_on <= t.deadline THEN '是' ELSE '否' END, \
         t.lead_cadre_id, t.community_code FROM topics t LEFT JOIN cadres c \
         ON c.community_code = t.community_code AND c.cadre_id = t.lead_cadre_id \
         WHERE {} ORDER BY t.raised_on, t.topic_id",
        select.join(", "),
        which.topics()
    );
    let mut headers = COLUMNS.map(|c| if c == "lead_cadre_id" { "责任人" } else { header(Table::Topics, c) }).to_vec();
    headers.push("按时办结");
    let mut columns = COLUMNS.map(|c| Table::Topics.column(c)).to_vec();
    columns.push(None);
    let (mut table, raw) = ledger_table(state, scope, &sql, &headers, &columns).await?;
    let filters = dashboards::pages::Filters { year: which.year(year), ..Default::default() };
    for row in &raw {
        let (topic, cadre, community) = (&row[0], &row[10], &row[11]);
        let mut links = vec![None; headers.len()];
        links[1] = Some(filters.topic_href(community, topic));
        links[5] = Some(filters.cadre_href(community, cadre));
        table.links.push(links);
        table.row_ids.push(format!("topic-{topic}"));
    }
    Ok(table)
}

/// The evaluations of the topics, by date: scores and verdict, never the respondent or
/// the comment (which may name them).
pub async fn evaluations(state: &AppState, scope: &Scope, which: TopicsOf<'_>) -> AppResult<TextTable> {
    const COLUMNS: [&str; 8] =
        ["evaluation_id", "topic_id", "evaluated_on", "attitude", "efficiency", "result", "effect", "verdict"];
    of_topics(state, scope, Table::Evaluations, &COLUMNS, &which.evaluations()).await
}

/// The rectifications of the topics, by opening date.
pub async fn rectifications(state: &AppState, scope: &Scope, which: TopicsOf<'_>) -> AppResult<TextTable> {
    const COLUMNS: [&str; 6] = ["rectification_id", "topic_id", "opened_on", "deadline", "closed_on", "outcome"];
    of_topics(state, scope, Table::Rectifications, &COLUMNS, &which.rectifications()).await
}

/// The `columns` of the rows of `table` (as `x`; its first three columns are the id, the
/// topic and the date it is ordered by) whose topic (as `t`) meets `condition`.
async fn of_topics(
    state: &AppState,
    scope: &Scope,
    table: Table,
    columns: &[&str],
    condition: &str,
) -> AppResult<TextTable> {
    let sql = format!(
        "SELECT {} FROM {} x JOIN topics t ON t.community_code = x.community_code AND t.topic_id = x.topic_id \
         WHERE {condition} ORDER BY x.{}, x.{}",
        columns.iter().map(|c| format!("x.{c}")).collect::<Vec<_>>().join(", "),
        table.name(),
        columns[2],
        columns[0]
    );
    let headers: Vec<&str> = columns.iter().map(|c| header(table, c)).collect();
    let kinds: Vec<Option<&Column>> = columns.iter().map(|c| table.column(c)).collect();
    Ok(ledger_table(state, scope, &sql, &headers, &kinds).await?.0)
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
/// as its Chinese value (the contract's labels, [`ingest::schema::Column::label`]); and
/// every column of each row as stored (ids for links, also of columns after the headers').
async fn ledger_table(
    state: &AppState,
    scope: &Scope,
    sql: &str,
    headers: &[&str],
    columns: &[Option<&Column>],
) -> AppResult<(TextTable, Vec<Vec<String>>)> {
    let result = state.query(scope, sql).await?;
    let mut table = TextTable { headers: headers.iter().map(|h| h.to_string()).collect(), ..TextTable::default() };
    let mut raw = Vec::new();
    for batch in &result.batches {
        for r in 0..batch.num_rows() {
            let stored: Vec<String> = batch.columns().iter().map(|a| text::plain(a, r)).collect();
            let cells = stored
                .iter()
                .zip(columns)
                .map(|(value, column)| column.map_or_else(|| value.clone(), |c| c.label(value).to_string()));
            table.rows.push(cells.collect());
            raw.push(stored);
        }
    }
    Ok((table, raw))
}

/// A topic's status timeline from the topics table's Delta versions
/// (`Warehouse::topic_history`, bounded to its latest versions); `None` outside `scope` or
/// when no version read holds the topic. The caller checks the codes first.
pub async fn topic_history(
    state: &AppState,
    scope: &Scope,
    community: &str,
    topic: &str,
) -> AppResult<Option<warehouse::TopicHistory>> {
    let (wh, scope) = (state.warehouse.clone(), scope.clone());
    let (community, topic) = (community.to_string(), topic.to_string());
    state.on_query_threads(async move { Ok(wh.topic_history(&scope, &community, &topic).await?) }).await
}

/// The timeline as the topic page's 处理经过 table: each status, when it first appeared
/// (the commit time, in UTC, and the data version) and the file that brought it.
pub fn history_table(history: Option<&warehouse::TopicHistory>) -> TextTable {
    let headers = ["办理状态", "首次出现（入库时间）", "数据版本", "导入文件"];
    let mut table = TextTable { headers: headers.iter().map(|h| h.to_string()).collect(), ..TextTable::default() };
    for step in history.map(|h| h.steps.as_slice()).unwrap_or_default() {
        table.rows.push(vec![
            step.status_label.clone(),
            step.committed_at.as_deref().map_or_else(|| "—".to_string(), |t| t.replace('T', " ").replace('Z', " UTC")),
            step.version.to_string(),
            step.file_name.clone().unwrap_or_else(|| "—".to_string()),
        ]);
    }
    table
}
