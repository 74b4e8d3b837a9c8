//! Rows from a community's own database instead of a file: `yishi ingest 议题 --from
//! postgres://… --query "SELECT …"`. The answer is written as a UTF-8 CSV in memory and
//! read by the same reader as an uploaded file, so the header aliases, the validation,
//! the row errors and the batch are exactly a file's (columns are named by the query:
//! `SELECT title AS 议题名称 …` where the database's names differ, or by a mapping file,
//! [`ColumnMapping`], that renames the answer's columns before the aliases apply).
//!
//! Values are read as text: PostgreSQL through the simple query protocol and MySQL/MariaDB
//! through the text protocol, whose answers are text whatever the column type (dates as
//! 2025-03-01, numbers as written), inside a read-only session; SQLite opened read-only,
//! its values converted to text by SQLite.

use std::collections::BTreeMap;

use serde::Deserialize;
use sqlx::{Column, Connection, Row};

use crate::schema::Table;

/// Why the rows could not be read from the database.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(
        "不支持的数据库地址“{0}”：可用 postgres://用户:密码@主机/库、mysql://用户:密码@主机/库 或 sqlite://文件路径"
    )]
    Unsupported(String),
    #[error("无法连接数据库 {source_name}：{message}")]
    Connect { source_name: String, message: String },
    #[error("查询出错（{source_name}）：{message}")]
    Query { source_name: String, message: String },
    #[error("查询没有返回任何行（{0}）：没有可导入的数据")]
    Empty(String),
    #[error("查询结果超过 {limit} 字节的上限（{source_name}）：请缩小查询范围，例如按社区或日期分批导入")]
    TooLarge { source_name: String, limit: u64 },
    #[error("第 {row} 行第 {column} 列（{name}）的值无法按文本读出：{message}")]
    Value { row: usize, column: usize, name: String, message: String },
    #[error("映射文件 {path} 有误：{message}")]
    Mapping { path: String, message: String },
    #[error("映射文件 {path} 的 [columns] 中，“{from}”要改成的“{to}”不是{table}表的列；可用的列：{columns}")]
    UnknownTarget { path: String, from: String, to: String, table: &'static str, columns: String },
    #[error("映射文件 {path} 的 [columns] 中的“{from}”不是查询结果的列；查询结果的列：{columns}")]
    MissingSource { path: String, from: String, columns: String },
}

/// A mapping file for a database source (TOML): the database's column names and the
/// table's columns they are (canonical name or any header alias), renamed in the answer's
/// header before the file reader's aliases apply.
///
/// ```toml
/// [columns]
/// shequ = "社区代码"
/// day = "held_on"
/// ```
#[derive(Debug, Clone, Default)]
pub struct ColumnMapping {
    path: String,
    /// The database's column name → the table's column as written in the file.
    columns: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    columns: BTreeMap<String, String>,
}

impl ColumnMapping {
    /// Reads a mapping file for `table`; every target must name one of its columns.
    pub fn from_toml(text: &str, path: &str, table: Table) -> Result<ColumnMapping, DatabaseError> {
        let file: MappingFile = toml::from_str(text)
            .map_err(|e| DatabaseError::Mapping { path: path.to_string(), message: e.to_string() })?;
        for (from, to) in &file.columns {
            if !table.columns().iter().any(|c| c.matches_header(to)) {
                let columns: Vec<String> =
                    table.columns().iter().map(|c| format!("{}({})", c.chinese(), c.name)).collect();
                return Err(DatabaseError::UnknownTarget {
                    path: path.to_string(),
                    from: from.clone(),
                    to: to.clone(),
                    table: table.chinese(),
                    columns: columns.join("、"),
                });
            }
        }
        Ok(ColumnMapping { path: path.to_string(), columns: file.columns })
    }

    /// The answer's header with the mapped columns renamed; a mapped column the answer
    /// lacks is refused (a misspelt name would otherwise be silently ignored). Names
    /// match with surrounding spaces and ASCII case ignored.
    fn rename(&self, names: &[&str]) -> Result<Vec<String>, DatabaseError> {
        let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
        for from in self.columns.keys() {
            if !names.iter().any(|n| same(n, from)) {
                return Err(DatabaseError::MissingSource {
                    path: self.path.clone(),
                    from: from.clone(),
                    columns: names.join("、"),
                });
            }
        }
        Ok(names
            .iter()
            .map(|n| {
                self.columns.iter().find(|(from, _)| same(n, from)).map(|(_, to)| to.clone()).unwrap_or(n.to_string())
            })
            .collect())
    }
}

/// A query's answer as CSV bytes (header: the query's column names, renamed by `mapping`),
/// at most `max_bytes`.
pub async fn query_to_csv(
    url: &str,
    query: &str,
    mapping: Option<&ColumnMapping>,
    max_bytes: u64,
) -> Result<Vec<u8>, DatabaseError> {
    let shown = redacted(url);
    let connect = |e: sqlx::Error| DatabaseError::Connect { source_name: shown.clone(), message: e.to_string() };
    let failed = |e: sqlx::Error| DatabaseError::Query { source_name: shown.clone(), message: e.to_string() };
    let mut out = Answer::new(shown.clone(), mapping, max_bytes);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let mut conn = sqlx::PgConnection::connect(url).await.map_err(connect)?;
        // Read only: a mistyped query must not change the community's own data.
        sqlx::raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .execute(&mut conn)
            .await
            .map_err(failed)?;
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(query.to_string())).fetch_all(&mut conn).await.map_err(failed)?;
        for row in &rows {
            out.push(row, |i| row.try_get_unchecked::<Option<String>, _>(i))?;
        }
        let _ = conn.close().await;
    } else if url.starts_with("mysql://") {
        let mut conn = sqlx::MySqlConnection::connect(url).await.map_err(connect)?;
        // Read only as for PostgreSQL; the text protocol (raw SQL, no prepared statement)
        // answers every column as text.
        sqlx::raw_sql("SET SESSION TRANSACTION READ ONLY").execute(&mut conn).await.map_err(failed)?;
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(query.to_string())).fetch_all(&mut conn).await.map_err(failed)?;
        for row in &rows {
            out.push(row, |i| row.try_get_unchecked::<Option<String>, _>(i))?;
        }
        let _ = conn.close().await;
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        let options =
            sqlx::sqlite::SqliteConnectOptions::new().filename(path.split('?').next().unwrap_or(path)).read_only(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options).await.map_err(connect)?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(query.to_string())).fetch_all(&mut conn).await.map_err(failed)?;
        for row in &rows {
            out.push(row, |i| row.try_get_unchecked::<Option<String>, _>(i))?;
        }
        let _ = conn.close().await;
    } else {
        return Err(DatabaseError::Unsupported(shown));
    }
    out.finish()
}

/// The CSV being written, with its size bound.
struct Answer<'m> {
    shown: String,
    mapping: Option<&'m ColumnMapping>,
    limit: u64,
    writer: csv::Writer<Vec<u8>>,
    rows: usize,
}

impl<'m> Answer<'m> {
    fn new(shown: String, mapping: Option<&'m ColumnMapping>, limit: u64) -> Answer<'m> {
        Answer { shown, mapping, limit, writer: csv::Writer::from_writer(Vec::new()), rows: 0 }
    }

    /// Writes the header before the first row, then the row's values as text (NULL as
    /// an empty cell, as a blank cell of a file).
    fn push<R: Row>(
        &mut self,
        row: &R,
        text: impl Fn(usize) -> Result<Option<String>, sqlx::Error>,
    ) -> Result<(), DatabaseError> {
        let columns = row.columns();
        if self.rows == 0 {
            let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
            match self.mapping {
                Some(mapping) => self.write(&mapping.rename(&names)?)?,
                None => self.write(&names)?,
            }
        }
        self.rows += 1;
        let mut values = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            let value = text(i).map_err(|e| DatabaseError::Value {
                row: self.rows,
                column: i + 1,
                name: column.name().to_string(),
                message: e.to_string(),
            })?;
            values.push(value.unwrap_or_default());
        }
        self.write(&values)
    }

    fn write<T: AsRef<[u8]>>(&mut self, record: &[T]) -> Result<(), DatabaseError> {
        let too_large = || DatabaseError::TooLarge { source_name: self.shown.clone(), limit: self.limit };
        self.writer.write_record(record).map_err(|_| too_large())?;
        if self.writer.get_ref().len() as u64 > self.limit {
            return Err(too_large());
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, DatabaseError> {
        if self.rows == 0 {
            return Err(DatabaseError::Empty(self.shown));
        }
        let shown = self.shown;
        self.writer.into_inner().map_err(|e| DatabaseError::Query { source_name: shown, message: e.to_string() })
    }
}

/// The address as it may be shown and recorded: without a password.
pub fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redacted("postgres://yishi:secret@127.0.0.1:5432/db"), "postgres://yishi:***@127.0.0.1:5432/db");
        assert_eq!(redacted("sqlite:///tmp/a.db"), "sqlite:///tmp/a.db");
    }
}
