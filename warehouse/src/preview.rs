//! What a file would do to its table, worked out without writing anything (`yishi ingest
//! --dry-run`, the API's `?dry_run=true`, the upload page before "确认写入"): how many rows
//! are new, how many would change (and, for the first few, which fields from what to
//! what), how many are already there as they are, and how many are rejected.
//!
//! The counts follow the commit's own rules: a key not in the table (or a county the
//! table holds nothing of) is new; a key whose contract columns are all the same is
//! unchanged, and the merge leaves it alone (`tables::merge` updates only changed rows).

use std::fmt::Write;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::SessionContext;
use ingest::schema::{Column, ColumnType};
use ingest::{LedgerFile, Table};
use serde::Serialize;

use crate::errors::{Result, WarehouseError};
use crate::ingesting::{Checked, IngestOptions, refused};
use crate::tables;

/// How many changed rows a preview lists field by field.
pub const LISTED_CHANGES: usize = 10;

/// What ingesting a file would do.
#[derive(Debug, Serialize)]
pub struct Preview {
    pub table: &'static str,
    pub file_name: String,
    /// The same file was already ingested completely: nothing would change.
    pub already_ingested: bool,
    /// Whether the rows would be written: not when no row is valid, nor in strict mode
    /// with rejected rows.
    pub would_commit: bool,
    pub rows_new: usize,
    pub rows_updated: usize,
    pub rows_unchanged: usize,
    pub rows_rejected: usize,
    /// The first [`LISTED_CHANGES`] rows that would change, by key.
    pub changes: Vec<RowChange>,
    /// The file as read, with its rejected rows (`None` when already ingested).
    #[serde(skip)]
    pub file: Option<LedgerFile>,
}

/// One row that would change.
#[derive(Debug, Clone, Serialize)]
pub struct RowChange {
    pub community_code: String,
    /// The row's id (its key within the community).
    pub key: String,
    pub fields: Vec<FieldChange>,
}

/// One changed value, as a clerk reads it (enumerations and 是/否 in Chinese).
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// The contract's column name.
    pub column: &'static str,
    /// Its Chinese header.
    pub header: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl Preview {
    /// "新增 2、更新 1、不变 3、不合格 0" and, when nothing would be written, why.
    pub fn summary(&self) -> String {
        if self.already_ingested {
            return "该文件已导入过（SHA-256 相同），不会有任何更改".into();
        }
        let mut text = format!(
            "新增 {}、更新 {}、不变 {}、不合格 {}",
            self.rows_new, self.rows_updated, self.rows_unchanged, self.rows_rejected
        );
        if !self.would_commit {
            text.push_str(if self.rows_rejected > 0 && self.rows_new + self.rows_updated + self.rows_unchanged > 0 {
                "；有不合格的行，按整批检查不会写入（可选择只导入合格的行）"
            } else {
                "；没有合格的行，不会写入"
            });
        }
        text
    }
}

impl RowChange {
    /// "141026100001 / YT001：办理状态 办理中 → 已办结；办结日期 （空） → 2025-03-25"
    pub fn describe(&self) -> String {
        let mut text = format!("{} / {}：", self.community_code, self.key);
        for (i, f) in self.fields.iter().enumerate() {
            let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "（空）".into());
            let sep = if i == 0 { "" } else { "；" };
            let _ = write!(text, "{sep}{} {} → {}", f.header, shown(&f.old), shown(&f.new));
        }
        text
    }
}

/// Compares a checked file with its table.
pub(crate) async fn compare(checked: Checked, table: Table, options: &IngestOptions<'_>) -> Result<Preview> {
    let Checked { target, record, read } = checked;
    let mut preview = Preview {
        table: table.name(),
        file_name: record.file_name,
        already_ingested: read.is_none(),
        would_commit: false,
        rows_new: 0,
        rows_updated: 0,
        rows_unchanged: 0,
        rows_rejected: 0,
        changes: Vec::new(),
        file: None,
    };
    let Some((file, _)) = read else { return Ok(preview) };
    preview.rows_rejected = file.rejected.len();
    preview.would_commit = !refused(&file, options);
    let counties = tables::counties_of(&file.batches);
    let fresh = file.accepted_rows == 0
        || tables::is_empty(&target)
        || tables::holds_none_of(&target, table, &counties).await?;
    if fresh {
        preview.rows_new = file.accepted_rows;
    } else {
        let ctx = SessionContext::new();
        ctx.register_table("target", tables::provider(&target, table).await?)?;
        ctx.register_table("source", ctx.read_batches(file.batches.clone())?.into_view())?;
        let sql = Sql::new(table, &counties);
        let counts = ctx.sql(&sql.counts()).await?.collect().await?;
        let (new, changed) = (number(&counts, 0), number(&counts, 1));
        preview.rows_new = new;
        preview.rows_updated = changed;
        preview.rows_unchanged = file.accepted_rows.saturating_sub(new + changed);
        let details = ctx.sql(&sql.changes()).await?.collect().await?;
        preview.changes = changes(table, &details)?;
    }
    preview.file = Some(file);
    Ok(preview)
}

/// The comparing SQL: the file's rows (`source`) left-joined to the table's (`target`) by
/// community and key, within the file's counties.
struct Sql {
    table: Table,
    join: String,
    differs: String,
}

impl Sql {
    fn new(table: Table, counties: &std::collections::BTreeSet<String>) -> Sql {
        let key = quoted(table.key_column());
        // County codes are six digits (checked on ingest), safe to inline.
        let list: Vec<String> = counties.iter().map(|c| format!("'{}'", c.replace('\'', ""))).collect();
        let join = format!(
            "FROM source s LEFT JOIN target t ON t.community_code = s.community_code AND t.{key} = s.{key} \
             AND t.county_code IN ({})",
            list.join(", ")
        );
        let differs: Vec<String> =
            table.columns().iter().map(|c| format!("(s.{0} IS DISTINCT FROM t.{0})", quoted(c.name))).collect();
        Sql { table, join, differs: differs.join(" OR ") }
    }

    /// New rows, then changed rows.
    fn counts(&self) -> String {
        let key = quoted(self.table.key_column());
        format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN t.{key} IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN t.{key} IS NOT NULL AND ({}) THEN 1 ELSE 0 END), 0) AS BIGINT) {}",
            self.differs, self.join
        )
    }

    /// The first changed rows: community, key, then every column's old and new value as text.
    fn changes(&self) -> String {
        let key = quoted(self.table.key_column());
        let mut select = format!("SELECT CAST(s.community_code AS VARCHAR) AS k0, CAST(s.{key} AS VARCHAR) AS k1");
        for (i, c) in self.table.columns().iter().enumerate() {
            let c = quoted(c.name);
            let _ = write!(select, ", CAST(t.{c} AS VARCHAR) AS old{i}, CAST(s.{c} AS VARCHAR) AS new{i}");
        }
        format!(
            "{select} {} WHERE t.{key} IS NOT NULL AND ({}) ORDER BY 1, 2 LIMIT {LISTED_CHANGES}",
            self.join, self.differs
        )
    }
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

fn number(batches: &[RecordBatch], column: usize) -> usize {
    use datafusion::arrow::datatypes::Int64Type;
    let Some(batch) = batches.first().filter(|b| b.num_rows() > 0) else { return 0 };
    let array = batch.column(column).as_primitive::<Int64Type>();
    if array.is_null(0) { 0 } else { usize::try_from(array.value(0)).unwrap_or(0) }
}

/// The changed rows of the details query, with only the fields that differ.
fn changes(table: Table, batches: &[RecordBatch]) -> Result<Vec<RowChange>> {
    let mut out = Vec::new();
    for batch in batches {
        let texts: Vec<_> = batch
            .columns()
            .iter()
            .map(|a| datafusion::arrow::compute::cast(a, &DataType::Utf8))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| WarehouseError::Metadata(format!("comparing rows: {e}")))?;
        let text = |column: usize, row: usize| {
            let a = texts[column].as_string::<i32>();
            (!a.is_null(row)).then(|| a.value(row).to_string())
        };
        for row in 0..batch.num_rows() {
            let mut fields = Vec::new();
            for (i, column) in table.columns().iter().enumerate() {
                let (old, new) = (text(2 + 2 * i, row), text(3 + 2 * i, row));
                if old != new {
                    fields.push(FieldChange {
                        column: column.name,
                        header: column.chinese(),
                        old: old.map(|v| shown(column, v)),
                        new: new.map(|v| shown(column, v)),
                    });
                }
            }
            let (community_code, key) = (text(0, row).unwrap_or_default(), text(1, row).unwrap_or_default());
            out.push(RowChange { community_code, key, fields });
        }
    }
    Ok(out)
}

/// A stored value as a clerk reads it.
fn shown(column: &Column, value: String) -> String {
    match column.ty {
        ColumnType::Enum(e) => e.chinese(&value).map(str::to_string).unwrap_or(value),
        ColumnType::Bool => if value == "true" { "是" } else { "否" }.to_string(),
        ColumnType::Respondent => "（已脱敏）".to_string(),
        _ => value,
    }
}
