//! Writing a batch's accepted rows as new Parquet files while its file is still being
//! read. Rows arrive one partition (county × year) at a time, in file order, and are held
//! per partition until the reader has moved on from it (no row of it among the last
//! [`IDLE_ROWS`] rows) or it holds [`FILE_BYTES`]; then the partition's rows are encoded
//! as one ZSTD Parquet file on one of the writer threads (one per core).
//!
//! Why hold rows instead of streaming every partition into its own open file: a ledger is
//! ordered by community, so a county's partitions fill while its communities pass and
//! then stay complete. Writing each partition once, whole, keeps one Parquet writer (its
//! column encoders and ZSTD contexts) per core alive instead of one per partition — three
//! hundred open writers cost more in memory and page faults than the encoding itself —
//! and gives one file per partition. A partition whose rows come back later (an unsorted
//! file) gets another file; [`HELD_BYTES`] bounds what is held in all.
//!
//! Nothing is visible until the one commit that adds every file with the batch record
//! ([`commit`]); a refused batch deletes the files already written.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int32Type;
use deltalake::DeltaTable;
use deltalake::kernel::scalars::ScalarExt;
use deltalake::kernel::transaction::{CommitBuilder, TableReference};
use deltalake::kernel::{Action, Add};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use indexmap::IndexMap;
use tokio::sync::mpsc;

use crate::batches::BatchRecord;
use crate::errors::{Result, WarehouseError};
use crate::tables;
use ingest::Table;

/// A partition none of whose rows came among this many later rows is taken as complete.
/// A ledger's partition is spread over its county's communities (some tens of thousands
/// of rows); a validation chunk holds about twelve thousand.
const IDLE_ROWS: u64 = 100_000;
/// A partition holding this much Arrow data is written at once (a file of about this
/// many rows' worth).
const FILE_BYTES: usize = 128 << 20;
/// At most this much Arrow data is held in all; beyond it the largest partition is written.
const HELD_BYTES: usize = 512 << 20;

/// County and year (for tables with a year) of a partition.
type PartitionKey = (String, Option<i32>);

/// Rows of one partition waiting to be written.
struct Held {
    batches: Vec<RecordBatch>,
    bytes: usize,
    /// Rows delivered up to this partition's latest batch.
    last_seen: u64,
}

/// What the sink has taken and not yet handed to a writer.
#[derive(Default)]
struct Holding {
    partitions: HashMap<PartitionKey, Held>,
    /// Rows delivered so far.
    rows: u64,
    bytes: usize,
}

impl Holding {
    /// Adds a batch; returns the partitions now ready to be written.
    fn add(&mut self, key: PartitionKey, batch: RecordBatch) -> Vec<Vec<RecordBatch>> {
        let bytes = batch.get_array_memory_size();
        self.rows += batch.num_rows() as u64;
        self.bytes += bytes;
        let held = self.partitions.entry(key).or_insert_with(|| Held { batches: Vec::new(), bytes: 0, last_seen: 0 });
        held.batches.push(batch);
        held.bytes += bytes;
        held.last_seen = self.rows;
        let now = self.rows;
        let ready: Vec<PartitionKey> = self
            .partitions
            .iter()
            .filter(|(_, h)| h.bytes >= FILE_BYTES || now - h.last_seen >= IDLE_ROWS)
            .map(|(k, _)| k.clone())
            .collect();
        let mut files: Vec<Vec<RecordBatch>> = ready.iter().filter_map(|k| self.take(k)).collect();
        while self.bytes > HELD_BYTES {
            let Some(largest) = self.partitions.iter().max_by_key(|(_, h)| h.bytes).map(|(k, _)| k.clone()) else {
                break;
            };
            files.extend(self.take(&largest));
        }
        files
    }

    fn take(&mut self, key: &PartitionKey) -> Option<Vec<RecordBatch>> {
        let held = self.partitions.remove(key)?;
        self.bytes -= held.bytes;
        Some(held.batches)
    }

    /// Everything still held, largest first (so the writers finish together).
    fn drain(&mut self) -> Vec<Vec<RecordBatch>> {
        let mut all: Vec<Held> = self.partitions.drain().map(|(_, h)| h).collect();
        all.sort_by_key(|h| std::cmp::Reverse(h.bytes));
        self.bytes = 0;
        all.into_iter().map(|h| h.batches).collect()
    }
}

/// Parallel writers of one append; the [`ingest::BatchSink`] the reader hands rows to.
pub(crate) struct Appender {
    table: Table,
    target: DeltaTable,
    holding: Mutex<Holding>,
    /// Whole partitions to encode; taken (closing the writers' queue) when finishing.
    files: Option<mpsc::Sender<Vec<RecordBatch>>>,
    writers: Vec<tokio::task::JoinHandle<Written>>,
    /// Set when the batch is refused or a writer failed: files not yet begun are skipped.
    abort: Arc<AtomicBool>,
    /// The writers' own runtime: the reader blocks its caller's thread, and the writers
    /// must make progress whatever runtime (even a single-threaded one) the caller has.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Appender {
    pub(crate) fn new(target: &DeltaTable, table: Table) -> Result<Appender> {
        let count = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(count)
            .thread_name("yishi-writer")
            .enable_all()
            .build()
            .map_err(WarehouseError::io("the writer threads"))?;
        let abort = Arc::new(AtomicBool::new(false));
        // A file waiting per writer: the reader blocks rather than hold more in memory.
        let (sender, receiver) = mpsc::channel(count);
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let writers = (0..count)
            .map(|_| runtime.spawn(write_files(target.clone(), table, receiver.clone(), abort.clone())))
            .collect();
        Ok(Appender {
            table,
            target: target.clone(),
            holding: Mutex::new(Holding::default()),
            files: Some(sender),
            writers,
            abort,
            runtime: Some(runtime),
        })
    }

    /// Writes batches already in memory (each of one partition), from async code.
    pub(crate) async fn write_all(&self, batches: Vec<RecordBatch>) -> Result<()> {
        let Some(sender) = &self.files else { return Ok(()) };
        for batch in batches {
            for file in self.hold(batch) {
                // A closed queue means the writers stopped on an error, which finish() reports.
                if sender.send(file).await.is_err() {
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Holds a batch; returns the partitions that are now ready to be written.
    fn hold(&self, batch: RecordBatch) -> Vec<Vec<RecordBatch>> {
        let Some((county, year)) = partition_of(&batch) else { return Vec::new() };
        let key = (county.to_string(), year);
        self.holding.lock().unwrap_or_else(PoisonError::into_inner).add(key, batch)
    }

    /// Aborts the files of an append, if there is one (a refused or unreadable batch).
    pub(crate) async fn abort(appender: Option<Appender>) -> Result<()> {
        match appender {
            Some(appender) => appender.finish(false).await.map(drop),
            None => Ok(()),
        }
    }

    /// Writes what is still held and returns the add actions of every file (`keep`), or
    /// deletes the files already written.
    pub(crate) async fn finish(mut self, keep: bool) -> Result<Vec<Action>> {
        if !keep {
            self.abort.store(true, Ordering::SeqCst);
        }
        let rest = self.holding.lock().unwrap_or_else(PoisonError::into_inner).drain();
        if let (true, Some(sender)) = (keep, self.files.take()) {
            for file in rest {
                if sender.send(file).await.is_err() {
                    break;
                }
            }
        }
        let mut adds = Vec::new();
        let mut failure = None;
        for writer in std::mem::take(&mut self.writers) {
            match writer.await {
                Ok(written) => {
                    adds.extend(written.adds);
                    failure = failure.or(written.error);
                }
                Err(e) => failure = failure.or(Some(WarehouseError::Metadata(format!("{}: {e}", self.table)))),
            }
        }
        if keep && failure.is_none() {
            return Ok(adds.into_iter().map(Action::Add).collect());
        }
        self.delete(&adds).await;
        failure.map_or(Ok(Vec::new()), Err)
    }

    async fn delete(&self, adds: &[Add]) {
        delete_files(&self.target, self.table, adds).await;
    }
}

/// Appends `batches` (rows of keys the table cannot hold yet) as new files, written on
/// every core, in one commit that carries the batch record; returns the new version.
pub(crate) async fn append(
    t: &DeltaTable,
    table: Table,
    batches: Vec<RecordBatch>,
    record: &BatchRecord,
    complete: bool,
) -> Result<u64> {
    let appender = Appender::new(t, table)?;
    appender.write_all(batches).await?;
    let actions = appender.finish(true).await?;
    commit(t, table, actions, record, complete).await
}

/// Commits files already written (by an [`Appender`]) as one append that carries the
/// batch record; returns the new version. A refused commit deletes the files.
pub(crate) async fn commit(
    t: &DeltaTable,
    table: Table,
    actions: Vec<Action>,
    record: &BatchRecord,
    complete: bool,
) -> Result<u64> {
    let properties = tables::commit_properties(record, complete)?;
    let operation = DeltaOperation::Write {
        mode: SaveMode::Append,
        partition_by: Some(table.partition_columns().iter().map(|c| c.to_string()).collect()),
        predicate: None,
    };
    let snapshot = t.snapshot().ok().map(|s| s as &dyn TableReference);
    let adds: Vec<_> =
        actions.iter().filter_map(|a| if let Action::Add(add) = a { Some(add.clone()) } else { None }).collect();
    match CommitBuilder::from(properties).with_actions(actions).build(snapshot, t.log_store(), operation).await {
        Ok(commit) => Ok(commit.version()),
        Err(e) => {
            // The files are in no commit: nothing will ever read them.
            delete_files(t, table, &adds).await;
            Err(WarehouseError::delta(table)(e))
        }
    }
}

/// Deletes files written for a batch that will not be committed. They were never in the
/// table's log, so a file left behind (the store refusing) is only unused space.
async fn delete_files(target: &DeltaTable, table: Table, adds: &[Add]) {
    use futures::StreamExt;
    let paths: Vec<_> = adds.iter().filter_map(|add| deltalake::Path::parse(&add.path).ok().map(Ok)).collect();
    let mut deleted = target.object_store().delete_stream(futures::stream::iter(paths).boxed());
    while let Some(result) = deleted.next().await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "an unused data file was not deleted");
        }
    }
    if !adds.is_empty() {
        tracing::info!(table = table.name(), files = adds.len(), "files of a batch not committed removed");
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        // Dropping a runtime may block, which an async caller's thread must not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl ingest::BatchSink for Appender {
    fn accept(&self, batch: RecordBatch) -> bool {
        let Some(sender) = &self.files else { return false };
        self.hold(batch).into_iter().all(|file| sender.blocking_send(file).is_ok())
    }
}

/// County and year (if the table has one) of a batch whose rows share them.
fn partition_of(batch: &RecordBatch) -> Option<(&str, Option<i32>)> {
    if batch.num_rows() == 0 {
        return None;
    }
    let county = batch.column_by_name("county_code")?.as_string_opt::<i32>()?.value(0);
    let year = batch.column_by_name("year").and_then(|y| y.as_primitive_opt::<Int32Type>()).map(|y| y.value(0));
    Some((county, year))
}

/// What one writer thread wrote, and the error it stopped on: the files written before an
/// error (a full disk) are deleted with the rest when the batch is not committed.
struct Written {
    adds: Vec<Add>,
    error: Option<WarehouseError>,
}

/// One writer thread: encodes whole partitions as files until there are no more.
async fn write_files(
    target: DeltaTable,
    table: Table,
    files: Arc<tokio::sync::Mutex<mpsc::Receiver<Vec<RecordBatch>>>>,
    abort: Arc<AtomicBool>,
) -> Written {
    let mut adds = Vec::new();
    loop {
        let next = files.lock().await.recv().await;
        let Some(batches) = next else { return Written { adds, error: None } };
        if abort.load(Ordering::SeqCst) {
            continue;
        }
        match write_file(&target, table, batches).await {
            Ok(written) => adds.extend(written),
            Err(error) => {
                // The batch cannot be committed now: the other writers skip what is left.
                abort.store(true, Ordering::SeqCst);
                return Written { adds, error: Some(error) };
            }
        }
    }
}

/// One partition's rows as one Parquet file (or more if the writer's file size limit is
/// reached).
async fn write_file(target: &DeltaTable, table: Table, batches: Vec<RecordBatch>) -> Result<Vec<Add>> {
    let Some(first) = batches.first() else { return Ok(Vec::new()) };
    let values: IndexMap<String, _> = table
        .partition_columns()
        .iter()
        .filter_map(|name| {
            let column = first.column_by_name(name)?;
            Some((name.to_string(), ScalarExt::from_array(column.as_ref(), 0)?))
        })
        .collect();
    let mut writer = RecordBatchWriter::for_table(target)
        .map_err(WarehouseError::delta(table))?
        .with_writer_properties(tables::writer_properties(table));
    for batch in batches {
        if let Err(e) = writer.write_partition(batch, &values, WriteMode::Default).await {
            writer.reset();
            return Err(WarehouseError::delta(table)(e));
        }
    }
    writer.flush().await.map_err(WarehouseError::delta(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    fn batch(county: &str, year: i32, rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("county_code", DataType::Utf8, false),
            Field::new("year", DataType::Int32, false),
        ]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec![county; rows])), Arc::new(Int32Array::from(vec![year; rows]))],
        )
        .expect("batch")
    }

    #[test]
    fn a_batch_is_routed_by_its_first_rows_partition() {
        let b = batch("141021", 2025, 2);
        assert_eq!(partition_of(&b), Some(("141021", Some(2025))));
        assert_eq!(partition_of(&b.slice(0, 0)), None);
    }

    #[test]
    fn a_partition_is_written_once_the_reader_has_moved_on() {
        let mut holding = Holding::default();
        let key = |c: &str| (c.to_string(), Some(2025));
        assert!(holding.add(key("141021"), batch("141021", 2025, 1000)).is_empty());
        // The same partition again: still held, with both batches.
        assert!(holding.add(key("141021"), batch("141021", 2025, 1000)).is_empty());
        // Other partitions' rows, fewer than IDLE_ROWS since its last row: still held.
        assert!(holding.add(key("141022"), batch("141022", 2025, (IDLE_ROWS - 1) as usize)).is_empty());
        // One more row of another partition: the first is now complete, both its batches.
        let ready = holding.add(key("141023"), batch("141023", 2025, 1));
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].iter().map(RecordBatch::num_rows).sum::<usize>(), 2000);
        assert_eq!(partition_of(&ready[0][0]), Some(("141021", Some(2025))));
        // What is left comes out at the end, largest first.
        let rest = holding.drain();
        assert_eq!(rest.iter().map(|f| f[0].num_rows()).collect::<Vec<_>>(), vec![(IDLE_ROWS - 1) as usize, 1]);
        assert_eq!(holding.bytes, 0);
    }
}
