//! Ingesting one ledger file: read and validate it against what the warehouse holds,
//! then upsert the valid rows in one atomic commit, or refuse the batch.

use std::path::Path;

use datafusion::prelude::SessionContext;
use futures::StreamExt;
use ingest::{LedgerFile, ReadOptions, References, Scope, Table};

use crate::appends::{self, Appender};
use crate::batches::{self, BatchRecord};
use crate::errors::{Result, WarehouseError};
use crate::preview::{self, Preview};
use crate::{Warehouse, tables};

/// How to ingest a file.
#[derive(Clone, Copy)]
pub struct IngestOptions<'a> {
    pub scope: &'a Scope,
    /// Who ingests (recorded in the batch log).
    pub user: &'a str,
    /// Write the valid rows even when some are rejected.
    pub partial: bool,
    pub sheet: Option<&'a str>,
    /// The header's row number as the sheet shows it; `None` finds it.
    pub header_row: Option<usize>,
    pub max_file_bytes: u64,
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
}

impl std::fmt::Debug for IngestOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestOptions")
            .field("scope", &self.scope)
            .field("user", &self.user)
            .field("partial", &self.partial)
            .finish_non_exhaustive()
    }
}

/// What happened to a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Rows were written (all of them, or the valid ones with `partial`).
    Committed,
    /// Strict mode and some rows were bad, or no row was valid: nothing written.
    Refused,
    /// The same file was already ingested completely: nothing to do.
    Unchanged,
}

/// The result of ingesting one file.
#[derive(Debug)]
pub struct IngestReport {
    pub outcome: IngestOutcome,
    pub record: BatchRecord,
    /// The file as read, with its rejected rows; `None` when it was recognised as already
    /// ingested and not read again.
    pub file: Option<LedgerFile>,
}

/// Whether accepted rows may be written while the file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// Into a table without rows (a real ingest).
    IntoEmptyTable,
    /// Never (a preview).
    Never,
}

/// A file read and validated against a table, nothing written yet.
pub(crate) struct Checked {
    pub(crate) target: deltalake::DeltaTable,
    pub(crate) record: BatchRecord,
    /// The file with its accepted and rejected rows, and the writer that already took the
    /// accepted rows; `None` when this exact file was already ingested.
    pub(crate) read: Option<(LedgerFile, Option<Appender>)>,
}

/// Whether a batch commits nothing: no valid row, or rejected rows in strict mode.
pub(crate) fn refused(file: &LedgerFile, options: &IngestOptions<'_>) -> bool {
    file.accepted_rows == 0 || (!file.rejected.is_empty() && !options.partial)
}

/// References being loaded; dropping it (the batch ended early) stops the loading.
struct Loading(tokio::task::JoinHandle<Result<References>>);

impl Loading {
    async fn finish(mut self) -> Result<References> {
        match (&mut self.0).await {
            Ok(loaded) => loaded,
            Err(e) => Err(WarehouseError::Metadata(format!("loading the referenced keys: {e}"))),
        }
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Warehouse {
    /// Ingests one file into `table` within `options.scope`.
    pub async fn ingest_file(&self, table: Table, path: &Path, options: &IngestOptions<'_>) -> Result<IngestReport> {
        let _turn = self.writer(table).await;
        let references = self.load_references(table, options.scope);
        let file = ingest::read_file(path, options.max_file_bytes)?;
        let hash = || file.sha256(path);
        let checked = self.check(table, path, &file, &hash, options, references, Stream::IntoEmptyTable).await?;
        self.commit(checked, table, options).await
    }

    /// Ingests a file already in memory (an upload); `name` is its file name.
    pub async fn ingest_bytes(
        &self,
        table: Table,
        name: &Path,
        bytes: &[u8],
        options: &IngestOptions<'_>,
    ) -> Result<IngestReport> {
        let _turn = self.writer(table).await;
        let references = self.load_references(table, options.scope);
        let hash = || Ok(ingest::sha256_hex(bytes));
        let checked = self.check(table, name, bytes, &hash, options, references, Stream::IntoEmptyTable).await?;
        self.commit(checked, table, options).await
    }

    /// Ingests rows converted to CSV from another source — the answer of a query to a
    /// community's own database (`ingest::database`), work orders (`ingest::open311`):
    /// read, checked and committed exactly like an uploaded CSV file, and recorded in the
    /// batch log with `source` (the database address without its password and the query,
    /// or the work-order file's name) in place of a file name. The same rows again change
    /// nothing (the hash is the CSV's).
    pub async fn ingest_converted(
        &self,
        table: Table,
        source: &str,
        csv: &[u8],
        options: &IngestOptions<'_>,
    ) -> Result<IngestReport> {
        let _turn = self.writer(table).await;
        let references = self.load_references(table, options.scope);
        let hash = || Ok(ingest::sha256_hex(csv));
        let name = Path::new("converted.csv");
        let mut checked = self.check(table, name, csv, &hash, options, references, Stream::IntoEmptyTable).await?;
        checked.record.file_name = source.to_string();
        self.commit(checked, table, options).await
    }

    /// Starts loading the keys `table` refers to, on another task: reading and hashing a
    /// large file takes as long, and neither needs the other.
    fn load_references(&self, table: Table, scope: &Scope) -> Loading {
        let (warehouse, scope) = (self.clone(), scope.clone());
        Loading(tokio::spawn(async move { warehouse.references(table, &scope).await }))
    }

    /// Writes a checked file's accepted rows in one commit, or records the batch refused.
    async fn commit(&self, checked: Checked, table: Table, options: &IngestOptions<'_>) -> Result<IngestReport> {
        let Checked { target, mut record, read } = checked;
        let Some((file, appender)) = read else {
            return Ok(IngestReport { outcome: IngestOutcome::Unchanged, record, file: None });
        };
        if refused(&file, options) {
            Appender::abort(appender).await?;
            record.outcome = "refused".into();
            batches::append_refused(&self.meta, &record).await?;
            return Ok(IngestReport { outcome: IngestOutcome::Refused, record, file: Some(file) });
        }
        record.outcome = "committed".into();
        let complete = file.rejected.is_empty();
        let started = std::time::Instant::now();
        // The counties the batch touched, for the aggregates; rows streamed into an empty
        // table were not kept, so all counties are rebuilt then.
        let counties = appender.is_none().then(|| tables::counties_of(&file.batches));
        let upserted = match appender {
            Some(appender) => {
                let actions = appender.finish(true).await?;
                tracing::info!(files = actions.len(), ms = started.elapsed().as_millis() as u64, "files finished");
                let version = appends::commit(&target, table, actions, &record, complete).await?;
                tables::Upserted { version, inserted: file.accepted_rows, updated: 0 }
            }
            None => upsert(target, table, file.batches.clone(), &record, complete).await?,
        };
        tracing::info!(ms = started.elapsed().as_millis() as u64, "rows committed");
        // After the batch's own commit: a kill here leaves the aggregates behind the
        // tables, which the reports notice by the versions (see `aggregates`).
        self.refresh_cells(table, upserted.version, counties).await;
        record.version = Some(upserted.version);
        record.rows_inserted = upserted.inserted;
        record.rows_updated = upserted.updated;
        record.rows_unchanged = file.accepted_rows.saturating_sub(upserted.inserted + upserted.updated);
        tracing::info!(table = table.name(), version = upserted.version, rows = file.accepted_rows, "batch committed");
        Ok(IngestReport { outcome: IngestOutcome::Committed, record, file: Some(file) })
    }

    /// What ingesting the file at `path` would do, writing nothing (`--dry-run`).
    pub async fn preview_file(&self, table: Table, path: &Path, options: &IngestOptions<'_>) -> Result<Preview> {
        let references = self.load_references(table, options.scope);
        let file = ingest::read_file(path, options.max_file_bytes)?;
        let checked = self.check(table, path, &file, &|| file.sha256(path), options, references, Stream::Never).await?;
        preview::compare(checked, table, options).await
    }

    /// What ingesting an upload would do, writing nothing.
    pub async fn preview_bytes(
        &self,
        table: Table,
        name: &Path,
        bytes: &[u8],
        options: &IngestOptions<'_>,
    ) -> Result<Preview> {
        let references = self.load_references(table, options.scope);
        let hash = || Ok(ingest::sha256_hex(bytes));
        let checked = self.check(table, name, bytes, &hash, options, references, Stream::Never).await?;
        preview::compare(checked, table, options).await
    }

    /// Reads and validates a file against the table and the keys it refers to; `None` as
    /// the read file when this exact file was already ingested completely.
    #[allow(clippy::too_many_arguments)]
    async fn check(
        &self,
        table: Table,
        name: &Path,
        bytes: &[u8],
        hash: &(dyn Fn() -> std::result::Result<String, ingest::IngestError> + Sync),
        options: &IngestOptions<'_>,
        references: Loading,
        stream: Stream,
    ) -> Result<Checked> {
        let started_at = chrono::Utc::now().to_rfc3339();
        let target = tables::open(&self.location, table).await?;
        if target.version().is_none() {
            return Err(WarehouseError::NotInitialised(self.location.to_string()));
        }
        // The file is hashed on another thread while its text is checked and its header
        // read; neither needs the other, nor the keys still loading.
        let mut text = None;
        let (scope, sheet, limit) = (options.scope, options.sheet, options.max_file_bytes);
        let layout = ingest::Layout { sheet, header_row: options.header_row };
        let (sha256, opened) = std::thread::scope(|threads| {
            let hashing = threads.spawn(hash);
            let opened = ingest::open_ledger(table, name, bytes, scope, layout, limit, &mut text);
            (hashing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), opened)
        });
        let sha256 = sha256?;
        let mut record = BatchRecord {
            table: table.name().to_string(),
            user: options.user.to_string(),
            scope: options.scope.to_string(),
            file_name: name.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            file_sha256: sha256.clone(),
            started_at,
            rows_accepted: 0,
            rows_rejected: 0,
            rows_inserted: 0,
            rows_updated: 0,
            rows_unchanged: 0,
            version: target.version(),
            outcome: "unchanged".into(),
        };
        if tables::already_ingested(&target, table, &sha256).await? {
            tracing::info!(table = table.name(), file = %name.display(), "same file already ingested");
            return Ok(Checked { target, record, read: None });
        }
        let opened = opened?;
        let started = std::time::Instant::now();
        let references = references.finish().await?;
        tracing::info!(keys = references.len(), waited_ms = started.elapsed().as_millis() as u64, "references loaded");
        // Into a table without rows the accepted rows are written while the file is read.
        let appender = match stream {
            Stream::IntoEmptyTable if tables::is_empty(&target) => Some(Appender::new(&target, table)?),
            _ => None,
        };
        let read = ReadOptions {
            scope,
            references: &references,
            respondent_secret: self.secret(),
            sheet,
            header_row: options.header_row,
            max_file_bytes: limit,
            progress: options.progress,
            sink: appender.as_ref().map(|a| a as &dyn ingest::BatchSink),
            strict: !options.partial,
        };
        let started = std::time::Instant::now();
        let file = opened.validate(sha256.clone(), &read);
        tracing::info!(ms = started.elapsed().as_millis() as u64, "file read and validated");
        let file = match file {
            Ok(file) => file,
            Err(e) => {
                Appender::abort(appender).await?;
                return Err(e.into());
            }
        };
        record.rows_accepted = file.accepted_rows;
        record.rows_rejected = file.rejected.len();
        Ok(Checked { target, record, read: Some((file, appender)) })
    }

    /// Keys of the tables `table` refers to, within the scope.
    pub async fn references(&self, table: Table, scope: &Scope) -> Result<References> {
        let needed: &[(Table, &str)] = match table {
            Table::Topics => &[(Table::Cadres, "cadre_id"), (Table::Sessions, "session_id")],
            Table::Evaluations | Table::Rectifications => &[(Table::Topics, "topic_id, raised_on")],
            _ => &[],
        };
        let mut references = References::default();
        for (source, columns) in needed {
            let started = std::time::Instant::now();
            let t = tables::open(&self.location, *source).await?;
            if t.version().is_none() {
                continue;
            }
            let ctx = SessionContext::new();
            ctx.register_table(source.name(), tables::provider(&t, *source).await?)?;
            let sql = format!(
                "SELECT community_code, {columns} FROM {} WHERE {}",
                source.name(),
                Warehouse::scope_predicate(scope)
            );
            // Taken batch by batch: the keys go into the maps while the scan goes on.
            let mut batches = ctx.sql(&sql).await?.execute_stream().await?;
            let mut first = None;
            while let Some(batch) = batches.next().await {
                first.get_or_insert_with(|| started.elapsed());
                references.absorb(*source, &[batch?]);
            }
            let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
            tracing::debug!(
                table = source.name(),
                first_batch_ms = first.map(ms),
                ms = ms(started.elapsed()),
                "keys read"
            );
        }
        Ok(references)
    }
}

/// Upserts `batches` by (`community_code`, key) in one Delta commit that also carries the
/// batch record. When the table holds no row of the batch's counties (a county's first
/// batch) no key can match: the rows are appended as new files written on every core,
/// instead of a merge.
async fn upsert(
    t: deltalake::DeltaTable,
    table: Table,
    batches: Vec<datafusion::arrow::record_batch::RecordBatch>,
    record: &BatchRecord,
    complete: bool,
) -> Result<tables::Upserted> {
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let counties = tables::counties_of(&batches);
    if tables::is_empty(&t) || tables::holds_none_of(&t, table, &counties).await? {
        let version = appends::append(&t, table, batches, record, complete).await?;
        return Ok(tables::Upserted { version, inserted: rows, updated: 0 });
    }
    tables::merge(t, table, batches, &counties, record, complete).await
}
