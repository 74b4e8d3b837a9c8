//! Read-only ad-hoc SQL for analysts, in a tenant scope.
//!
//! Two guards: the statement is parsed first and only a single query (`SELECT`, `WITH`,
//! `VALUES`, or `EXPLAIN` of one) is let through, with a message naming what was refused;
//! then DataFusion plans it with DDL, DML and statements disallowed. The session never
//! enables URL tables, so `SELECT * FROM '/some/file.parquet'` finds no table. The scope
//! holds below the SQL: the session's tables are views filtered to the caller's rows.

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::execution::context::SQLOptions;
use datafusion::execution::memory_pool::MemoryReservation;
use datafusion::sql::parser::{DFParser, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::Statement;
use futures::StreamExt;
use ingest::Scope;

use crate::Warehouse;
use crate::bounds::{self, Collector, SqlLimits, Truncation};
use crate::errors::{Result, WarehouseError};
use crate::session::Snapshot;

/// Result of a query: its batches (strings as plain Utf8 where DataFusion gave views).
#[derive(Debug)]
pub struct QueryResult {
    pub schema: datafusion::arrow::datatypes::SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Set when the answer was cut at one of its [`SqlLimits`].
    pub truncated: Option<Truncation>,
    /// The answer's memory, held in the query pool until the result is dropped.
    _reservation: Option<MemoryReservation>,
}

impl Warehouse {
    /// Runs one read-only query in `scope` on the latest data, without caps (the CLI).
    pub async fn sql(&self, scope: &Scope, sql: &str) -> Result<QueryResult> {
        self.sql_within(scope, sql, &SqlLimits::UNBOUNDED).await
    }

    /// Runs one read-only query in `scope` on the latest data within `limits`: cancelled
    /// at its deadline, its answer cut at the row and byte caps and counted in the query
    /// memory pool, its series bounded.
    pub async fn sql_within(&self, scope: &Scope, sql: &str, limits: &SqlLimits) -> Result<QueryResult> {
        check_read_only(sql)?;
        let deadline = limits.timeout.map(|t| (tokio::time::Instant::now() + t, t));
        let run = async {
            // The latest versions by name (a listing of the logs), so that a snapshot read
            // before is not read again: opening the six tables at "latest" replayed their
            // logs on every query, ~20 ms of a one-county report's scope check in the server.
            let latest = Snapshot::Versions(self.latest_versions().await?);
            let session = self.session(scope, &latest).await?;
            bounds::bound_session(&session.ctx);
            let options = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
            let df = session.ctx.sql_with_options(sql, options).await.map_err(classify)?;
            let schema = df.schema().inner().clone();
            let plan = bounds::cooperative_everywhere(df.create_physical_plan().await.map_err(classify)?)?;
            let mut stream = datafusion::physical_plan::execute_stream(plan, session.ctx.task_ctx())?;
            let mut answer = Collector::new(&session.ctx, *limits);
            while let Some(batch) = stream.next().await {
                let batch = self.without_paths(crate::plain_strings(&batch.map_err(bounded)?)?);
                if !answer.push(batch) {
                    break;
                }
            }
            let (batches, truncated, reservation) = answer.finish();
            let schema = match batches.first() {
                Some(b) => b.schema(),
                None => crate::plain_strings(&RecordBatch::new_empty(schema))?.schema(),
            };
            Ok::<_, WarehouseError>(QueryResult { schema, batches, truncated, _reservation: Some(reservation) })
        };
        match deadline {
            None => run.await,
            Some((at, limit)) => {
                tokio::time::timeout_at(at, run).await.map_err(|_| WarehouseError::Timeout(limit.as_secs().max(1)))?
            }
        }
    }

    /// `EXPLAIN` names the Parquet files it would read: their paths below the warehouse
    /// root are shown, the server's own folders are not.
    fn without_paths(&self, batch: RecordBatch) -> RecordBatch {
        use datafusion::arrow::array::{Array, AsArray, StringArray};
        use datafusion::arrow::datatypes::DataType;
        let Some(root) = self.location.local_dir() else { return batch };
        let root = root.to_string_lossy().trim_matches('/').to_string();
        if root.is_empty() {
            return batch;
        }
        let columns = batch
            .columns()
            .iter()
            .map(|c| {
                if c.data_type() != &DataType::Utf8 {
                    return c.clone();
                }
                let strings = c.as_string::<i32>();
                if !strings.iter().flatten().any(|s| s.contains(root.as_str())) {
                    return c.clone();
                }
                let cleaned: StringArray = strings
                    .iter()
                    .map(|s| s.map(|s| s.replace(&format!("/{root}/"), "").replace(&format!("{root}/"), "")))
                    .collect();
                std::sync::Arc::new(cleaned) as std::sync::Arc<dyn Array>
            })
            .collect();
        RecordBatch::try_new(batch.schema(), columns).unwrap_or(batch)
    }
}

/// Refuses anything but a single query, naming what was refused.
pub fn check_read_only(sql: &str) -> Result<()> {
    let statements = DFParser::parse_sql(sql).map_err(|e| WarehouseError::SqlRefused(format!("SQL 语法错误：{e}")))?;
    if statements.len() != 1 {
        return Err(WarehouseError::SqlRefused(format!("一次只能执行一条查询语句（收到 {} 条）", statements.len())));
    }
    match refused_kind(&statements[0]) {
        None => Ok(()),
        Some(what) => Err(WarehouseError::SqlRefused(format!("只允许只读查询（SELECT），不允许{what}"))),
    }
}

/// What kind of statement this is, if it is not a read-only query (EXPLAIN of a query is one).
fn refused_kind(statement: &DfStatement) -> Option<&'static str> {
    let what = match statement {
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Query(_) => return None,
            Statement::Insert(_) | Statement::Update(_) | Statement::Delete(_) | Statement::Merge(_) => {
                "写入数据（DML）"
            }
            Statement::Copy { .. } => "COPY",
            Statement::CreateTable(_)
            | Statement::CreateView(_)
            | Statement::Drop { .. }
            | Statement::AlterTable(_)
            | Statement::Truncate(_) => "修改表结构（DDL）",
            _ => "非查询语句",
        },
        DfStatement::Explain(explain) => return refused_kind(&explain.statement),
        DfStatement::CreateExternalTable(_) => "创建外部表（CREATE EXTERNAL TABLE）",
        DfStatement::CopyTo(_) => "COPY TO 写文件",
        DfStatement::Reset(_) => "修改会话设置",
    };
    Some(what)
}

/// A query stopped by one of its bounds, with the bound's own message and token.
fn bounded(e: datafusion::error::DataFusionError) -> WarehouseError {
    let text = e.to_string();
    for token in [bounds::SERIES_TOO_LARGE, bounds::VALUE_TOO_LARGE] {
        if let Some(end) = text.find(&format!("({token})")) {
            let start = text[..end].rfind(": ").map_or(0, |i| i + 2);
            return WarehouseError::Bounded(text[start..end + token.len() + 2].to_string());
        }
    }
    WarehouseError::Query(e)
}

fn classify(e: datafusion::error::DataFusionError) -> WarehouseError {
    let text = e.to_string();
    if text.contains(bounds::SERIES_TOO_LARGE) || text.contains(bounds::VALUE_TOO_LARGE) {
        bounded(e)
    } else if text.contains("not supported") || text.contains("not allowed") {
        WarehouseError::SqlRefused(format!("只允许只读查询（SELECT）：{text}"))
    } else {
        WarehouseError::Query(e)
    }
}

#[cfg(test)]
mod tests {
    use super::check_read_only;

    #[test]
    fn only_single_queries_pass() {
        assert!(check_read_only("SELECT 1").is_ok());
        assert!(check_read_only("WITH t AS (SELECT 1 AS a) SELECT a FROM t").is_ok());
        assert!(check_read_only("EXPLAIN SELECT 1").is_ok());
        for (sql, word) in [
            ("INSERT INTO topics VALUES (1)", "DML"),
            ("DELETE FROM topics", "DML"),
            ("UPDATE topics SET status = 'resolved'", "DML"),
            ("CREATE TABLE x AS SELECT 1", "DDL"),
            ("DROP TABLE topics", "DDL"),
            ("CREATE EXTERNAL TABLE x STORED AS PARQUET LOCATION '/etc'", "外部表"),
            ("COPY topics TO '/tmp/x.csv'", "COPY"),
            ("SET datafusion.execution.batch_size = 1", "非查询"),
            ("SELECT 1; DROP TABLE topics", "一次只能"),
        ] {
            let err = check_read_only(sql).expect_err(sql).to_string();
            assert!(err.contains(word), "{sql}: {err}");
        }
    }
}
