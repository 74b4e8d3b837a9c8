//! The Delta tables of the ledger: creating and opening them, merging a batch by key,
//! how their Parquet files are written, versions and the batch history. Appending new
//! files is [`crate::appends`]'s, which builds on this module (never the other way).

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use datafusion::prelude::{SessionContext, col, lit};
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{DataType, StructField, Transaction};

use crate::batches::{BatchRecord, COMMIT_KEY};
use crate::errors::{Result, WarehouseError};
use crate::location::Location;
use ingest::Table;

/// Opens a table at its latest version (or an uncreated location).
pub(crate) async fn open(location: &Location, table: Table) -> Result<DeltaTable> {
    let url = location.table_url(table)?;
    DeltaTable::try_from_url_with_storage_options(url, location.storage_options())
        .await
        .map_err(WarehouseError::delta(table))
}

/// Opens a table at an earlier version (Delta time travel).
/// Only the log up to `version` is read (opening the latest first and then going back read
/// the whole log and then that part again).
pub(crate) async fn open_version(location: &Location, table: Table, version: u64) -> Result<DeltaTable> {
    let url = location.table_url(table)?;
    deltalake::DeltaTableBuilder::from_url(url)
        .map_err(WarehouseError::delta(table))?
        .with_storage_options(location.storage_options())
        .with_version(version)
        .load()
        .await
        .map_err(WarehouseError::delta(table))
}

/// Creates the table if it does not exist yet.
pub(crate) async fn create(location: &Location, table: Table) -> Result<DeltaTable> {
    if let Some(dir) = location.local_dir() {
        let dir = dir.join(table.name());
        std::fs::create_dir_all(&dir).map_err(WarehouseError::io(dir.display()))?;
    }
    let existing = open(location, table).await?;
    if existing.version().is_some() {
        return Ok(existing);
    }
    let schema = table.arrow_schema();
    let columns = schema.fields().iter().map(|f| {
        let ty = match f.data_type() {
            ArrowType::Int64 => DataType::LONG,
            ArrowType::Int32 => DataType::INTEGER,
            ArrowType::Date32 => DataType::DATE,
            ArrowType::Boolean => DataType::BOOLEAN,
            _ => DataType::STRING,
        };
        StructField::new(f.name().clone(), ty, f.is_nullable())
    });
    existing
        .create()
        .with_table_name(table.name())
        .with_comment(table.chinese())
        .with_columns(columns.collect::<Vec<_>>())
        .with_partition_columns(table.partition_columns().iter().copied())
        .await
        .map_err(WarehouseError::delta(table))
}

/// The version a table is at; `None` if it was never created.
pub(crate) fn version(t: &DeltaTable) -> Option<u64> {
    t.version()
}

/// ZSTD Parquet, but for the columns ZSTD hardly shrinks (below); no dictionary for the
/// columns whose values hardly repeat within a file
/// (keys, pseudonyms, and the topic an evaluation or a rectification is about — a topic
/// has two or three of them): building a dictionary there costs time and saves nothing.
/// Texts keep theirs — names, comments and outcomes repeat, and the writer falls back to
/// plain values by itself when a dictionary grows too large.
///
/// Column chunks are encoded in one pass of up to 16,384 values (the writer's default
/// stops every 1,024 to check the page size; a county-year file holds about 12,000 rows
/// at 2,000 communities), and their min/max are kept per chunk, not per page: a page
/// index prunes nothing in files of one page per column. Both cut the writers' time by
/// ~6% in a micro-benchmark of the 300 files of the evaluations benchmark.
///
/// Numbers and dates are stored as the differences of consecutive values, bit-packed
/// (`DELTA_BINARY_PACKED`), not through a dictionary: a score is 1–5 and a ledger's dates
/// move by days, so either way takes three or four bits a value, but the writer builds a
/// dictionary value by value and RLE-encodes its indices one at a time. 15% less writing
/// time for the evaluations benchmark's 300 files (0.81 → 0.69 s, micro-benchmark,
/// best of 5), the same 140.6 MB. Packed so, they are left uncompressed: ZSTD took only
/// 3% off the dates and 7% off the scores (0.5 of 141 MB in all) and cost a compressor
/// and a decompressor per column chunk — which libzstd makes with two `cpuid`s each, a
/// trap to the hypervisor on a virtual machine — besides the compression: another 9% of
/// the writing time (0.64 → 0.59 s). The same holds for codes and enumerations, which
/// keep their dictionary: a few distinct values a file, so a few bits a row — ZSTD saved
/// 0.07 MB of community codes and 0.27 MB of verdicts, for 5% of the writing time.
///
/// The pseudonyms are stored uncompressed: they are hex digits of a keyed hash, so ZSTD
/// only halves them (four bits of entropy per byte), at about 420 MB/s — most of all the
/// compression time of an evaluations ingest (0.2 of ~3.2 CPU s for 3.4M rows) for 19
/// bytes a row on disk. No report reads them.
///
/// Statistics only for the columns a query can skip files by: codes (the scope), dates
/// (periods) and numbers.
pub(crate) fn writer_properties(table: Table) -> WriterProperties {
    use ingest::schema::ColumnType;
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_write_batch_size(16 * 1024)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for column in table.columns() {
        let path = || ColumnPath::from(column.name);
        let pseudonym = column.ty == ColumnType::Respondent;
        let unrepeated = column.name == table.key_column() || column.name == "topic_id";
        let packed = matches!(column.ty, ColumnType::Date | ColumnType::Int | ColumnType::Score);
        let coded = matches!(column.ty, ColumnType::Code(_) | ColumnType::Enum(_)) && !unrepeated;
        if pseudonym || unrepeated || packed {
            builder = builder.set_column_dictionary_enabled(path(), false);
        }
        if packed {
            builder = builder.set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
        }
        if pseudonym || packed || coded {
            builder = builder.set_column_compression(path(), Compression::UNCOMPRESSED);
        }
        // The minimum and maximum of an id, a pseudonym, a text or an enumeration prune no
        // file (every county-year file spans them all) but cost two comparisons per value
        // when written and their text in every add action of the Delta log, which every
        // report parses.
        let ranged = matches!(
            column.ty,
            ColumnType::Code(_) | ColumnType::Date | ColumnType::Int | ColumnType::Score | ColumnType::Bool
        );
        if !ranged {
            builder = builder.set_column_statistics_enabled(path(), EnabledStatistics::None);
        }
    }
    builder.build()
}

/// Whether the table holds no data file (a batch can be appended without a merge).
pub(crate) fn is_empty(t: &DeltaTable) -> bool {
    t.snapshot().map(|s| s.log_data().num_files() == 0).unwrap_or(true)
}

/// The batch record as commit metadata, and for a complete file the application
/// transaction by which the same file is recognised again.
pub(crate) fn commit_properties(record: &BatchRecord, complete: bool) -> Result<CommitProperties> {
    let mut commit = CommitProperties::default().with_metadata([(
        COMMIT_KEY.to_string(),
        serde_json::to_value(record).map_err(|e| WarehouseError::Metadata(e.to_string()))?,
    )]);
    if complete {
        commit = commit.with_application_transaction(Transaction::new(file_app_id(&record.file_sha256), 0));
    }
    Ok(commit)
}

/// The application id under which a complete file's ingest is recorded, so the same file
/// again is recognised from the table's own state.
pub(crate) fn file_app_id(sha256: &str) -> String {
    format!("yishi-file-{sha256}")
}

/// Whether a file with this hash was already ingested completely into the table.
pub(crate) async fn already_ingested(t: &DeltaTable, table: Table, sha256: &str) -> Result<bool> {
    let Ok(state) = t.snapshot() else { return Ok(false) };
    let version = state
        .transaction_version(t.log_store().as_ref(), file_app_id(sha256))
        .await
        .map_err(WarehouseError::delta(table))?;
    Ok(version.is_some())
}

/// Outcome of one upsert.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Upserted {
    pub(crate) version: u64,
    pub(crate) inserted: usize,
    pub(crate) updated: usize,
}

/// Upserts `batches` by (`community_code`, key) with a Delta MERGE, in one commit that
/// also carries the batch record. Only the files of `counties` (those of the batch) are
/// searched for matching keys. A table that holds no row of these counties takes a plain
/// append instead ([`crate::appends::append`]): the caller decides, by [`holds_none_of`].
pub(crate) async fn merge(
    t: DeltaTable,
    table: Table,
    batches: Vec<RecordBatch>,
    counties: &BTreeSet<String>,
    record: &BatchRecord,
    complete: bool,
) -> Result<Upserted> {
    let commit = commit_properties(record, complete)?;
    let ctx = SessionContext::new();
    let source = ctx.read_batches(batches)?;
    let key = table.key_column();
    let mut predicate = col("target.community_code")
        .eq(col("source.community_code"))
        .and(col(format!("target.{key}")).eq(col(format!("source.{key}"))));
    // Only the counties of the batch can hold matching keys: prune the rest.
    let county_filter = counties.iter().map(|c| lit(c.as_str())).collect();
    predicate = predicate.and(col("target.county_code").in_list(county_filter, false));
    let names: Vec<String> = table.arrow_schema().fields().iter().map(|f| f.name().clone()).collect();
    let (t, metrics) = t
        .merge(source, predicate)
        .with_source_alias("source")
        .with_target_alias("target")
        .with_writer_properties(writer_properties(table))
        .with_commit_properties(commit)
        // Only rows with a value changed are rewritten, so `updated` counts real changes
        // and a re-exported ledger's untouched rows count as unchanged (as the preview says).
        .when_matched_update(|u| {
            names.iter().fold(u.predicate(changed(table)), |u, n| u.update(n.as_str(), col(format!("source.{n}"))))
        })
        .map_err(WarehouseError::delta(table))?
        .when_not_matched_insert(|i| names.iter().fold(i, |i, n| i.set(n.as_str(), col(format!("source.{n}")))))
        .map_err(WarehouseError::delta(table))?
        .await
        .map_err(WarehouseError::delta(table))?;
    let version = t.version().unwrap_or_default();
    Ok(Upserted { version, inserted: metrics.num_target_rows_inserted, updated: metrics.num_target_rows_updated })
}

/// Whether a source row differs from its target row in any of the contract's columns
/// (nulls compare equal to nulls).
fn changed(table: Table) -> datafusion::prelude::Expr {
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};
    let differs = |name: &str| {
        let (source, target) = (col(format!("source.{name}")), col(format!("target.{name}")));
        Expr::BinaryExpr(BinaryExpr::new(Box::new(source), Operator::IsDistinctFrom, Box::new(target)))
    };
    let mut columns = table.columns().iter().map(|c| differs(c.name));
    let first = columns.next().unwrap_or_else(|| lit(true));
    columns.fold(first, |any, next| any.or(next))
}

/// Whether the table holds no file of any of these counties.
pub(crate) async fn holds_none_of(t: &DeltaTable, table: Table, counties: &BTreeSet<String>) -> Result<bool> {
    let set = counties.iter().map(String::as_str).collect();
    let filter = ("county_code", deltalake::FilterOp::In, deltalake::FilterValue::Set(set));
    let files = t.get_files_by_partitions(&[filter]).await.map_err(WarehouseError::delta(table))?;
    Ok(files.is_empty())
}

/// The counties (first six digits of `community_code`) of the rows of `batches`.
pub(crate) fn counties_of(batches: &[RecordBatch]) -> BTreeSet<String> {
    use datafusion::arrow::array::{Array, AsArray};
    let mut set = BTreeSet::new();
    for batch in batches {
        if let Some(a) = batch.column_by_name("community_code") {
            let a = a.as_string::<i32>();
            for i in 0..a.len() {
                if !a.is_null(i) {
                    set.insert(a.value(i)[..6].to_string());
                }
            }
        }
    }
    set
}

/// Batch records of a table's commits, newest first.
pub(crate) async fn batch_history(t: &DeltaTable, table: Table) -> Result<Vec<BatchRecord>> {
    use futures::TryStreamExt;
    let commits: Vec<_> = t.history(None).try_collect().await.map_err(WarehouseError::delta(table))?;
    let mut records = Vec::new();
    for (index, info) in commits.iter().enumerate() {
        if let Some(value) = info.info.get(COMMIT_KEY) {
            if let Ok(mut record) = serde_json::from_value::<BatchRecord>(value.clone()) {
                // history is newest first; versions count down from the latest.
                let latest = t.version().unwrap_or_default();
                record.version = Some(latest.saturating_sub(index as u64));
                if info.operation.as_deref() == Some("MERGE") {
                    merged_counts(&mut record, info.info.get("operationMetrics"));
                }
                records.push(record);
            }
        }
    }
    Ok(records)
}

/// A MERGE's new, updated and unchanged rows, from the commit's own metrics: the batch
/// record travels in the same commit and so is written before the MERGE has counted them.
fn merged_counts(record: &mut BatchRecord, metrics: Option<&serde_json::Value>) {
    let count = |name: &str| metrics.and_then(|m| m.get(name)).and_then(serde_json::Value::as_u64);
    if let (Some(inserted), Some(updated)) = (count("num_target_rows_inserted"), count("num_target_rows_updated")) {
        record.rows_inserted = usize::try_from(inserted).unwrap_or(usize::MAX);
        record.rows_updated = usize::try_from(updated).unwrap_or(usize::MAX);
        record.rows_unchanged = record.rows_accepted.saturating_sub(record.rows_inserted + record.rows_updated);
    }
}

/// The provider DataFusion scans for a table.
pub(crate) async fn provider(t: &DeltaTable, table: Table) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    t.table_provider().await.map_err(|e| WarehouseError::Metadata(format!("{}: {e}", table.name())))
}
