//! Writing a batch into a table that holds no rows yet while its file is still being
//! read: accepted rows arrive one partition (county × year) at a time and are encoded as
//! ZSTD Parquet at once, on one writer per core, each owning its partitions, so that
//! reading, validating and encoding overlap. Nothing is visible until the one commit
//! that adds every file with the batch record; a refused batch aborts the files.

use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int32Type;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::scalars::ScalarExt;
use deltalake::writer::{DeltaWriter, RecordBatchWriter, WriteMode};
use indexmap::IndexMap;
use tokio::sync::mpsc;

use crate::errors::{Result, WarehouseError};
use ingest::Table;

/// Batches waiting per writer: a few partitions' worth, so memory stays bounded when the
/// writers fall behind the readers.
const QUEUE: usize = 8;

/// Parallel writers of one append; the [`ingest::BatchSink`] the reader hands rows to.
pub(crate) struct Appender {
    table: Table,
    senders: Vec<mpsc::Sender<RecordBatch>>,
    writers: Vec<tokio::task::JoinHandle<Result<Vec<Action>>>>,
    /// Set before the senders close: whether the writers finish their files or abort them.
    keep: Arc<AtomicBool>,
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
        let keep = Arc::new(AtomicBool::new(false));
        let mut senders = Vec::with_capacity(count);
        let mut writers = Vec::with_capacity(count);
        for _ in 0..count {
            let writer = RecordBatchWriter::for_table(target)
                .map_err(WarehouseError::delta(table))?
                .with_writer_properties(crate::tables::writer_properties(table));
            let (sender, receiver) = mpsc::channel(QUEUE);
            senders.push(sender);
            writers.push(runtime.spawn(write(writer, receiver, keep.clone(), table)));
        }
        Ok(Appender { table, senders, writers, keep, runtime: Some(runtime) })
    }

    /// Writes batches already in memory (each of one partition), from async code.
    pub(crate) async fn write_all(&self, batches: Vec<RecordBatch>) -> Result<()> {
        for batch in batches {
            let Some(writer) = self.writer_of(&batch) else { continue };
            if self.senders[writer].send(batch).await.is_err() {
                // The writer stopped on an error, which finish() reports.
                break;
            }
        }
        Ok(())
    }

    /// The writer that owns the batch's partition.
    fn writer_of(&self, batch: &RecordBatch) -> Option<usize> {
        let partition = partition_of(batch)?;
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        partition.hash(&mut hasher);
        Some(std::hash::Hasher::finish(&hasher) as usize % self.senders.len())
    }

    /// Aborts the files of an append, if there is one (a refused or unreadable batch).
    pub(crate) async fn abort(appender: Option<Appender>) -> Result<()> {
        match appender {
            Some(appender) => appender.finish(false).await.map(drop),
            None => Ok(()),
        }
    }

    /// Finishes every file and returns their add actions (`keep`), or aborts them.
    pub(crate) async fn finish(mut self, keep: bool) -> Result<Vec<Action>> {
        self.keep.store(keep, Ordering::SeqCst);
        self.senders.clear();
        let mut actions = Vec::new();
        let mut failure = None;
        for writer in std::mem::take(&mut self.writers) {
            match writer.await {
                Ok(Ok(adds)) => actions.extend(adds),
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(e) => failure = failure.or(Some(WarehouseError::Metadata(format!("{}: {e}", self.table)))),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(actions),
        }
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
        let Some(writer) = self.writer_of(&batch) else { return false };
        self.senders[writer].blocking_send(batch).is_ok()
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

/// One writer: streams its partitions' batches into their files, then finishes or
/// aborts them.
async fn write(
    mut writer: RecordBatchWriter,
    mut batches: mpsc::Receiver<RecordBatch>,
    keep: Arc<AtomicBool>,
    table: Table,
) -> Result<Vec<Action>> {
    let partitions = table.partition_columns();
    while let Some(batch) = batches.recv().await {
        let values: IndexMap<String, _> = partitions
            .iter()
            .filter_map(|name| {
                let column = batch.column_by_name(name)?;
                let value = ScalarExt::from_array(column.as_ref(), 0)?;
                Some((name.to_string(), value))
            })
            .collect();
        if let Err(e) = writer.write_partition(batch, &values, WriteMode::Default).await {
            writer.reset();
            return Err(WarehouseError::delta(table)(e));
        }
    }
    if !keep.load(Ordering::SeqCst) {
        writer.reset();
        return Ok(Vec::new());
    }
    let adds = writer.flush().await.map_err(WarehouseError::delta(table))?;
    Ok(adds.into_iter().map(Action::Add).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn a_batch_is_routed_by_its_first_rows_partition() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("county_code", DataType::Utf8, false),
            Field::new("year", DataType::Int32, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![Arc::new(StringArray::from(vec!["141021"; 2])), Arc::new(Int32Array::from(vec![2025; 2]))],
        )
        .expect("batch");
        assert_eq!(partition_of(&batch), Some(("141021", Some(2025))));
        assert_eq!(partition_of(&batch.slice(0, 0)), None);
    }
}
