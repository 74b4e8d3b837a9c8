//! Validating a file's rows on every core: the reader cuts the file into chunks of rows,
//! workers validate chunks into Arrow batches at the same time, and the results are put
//! back in file order. Duplicate keys are found afterwards across all chunks, from the
//! 128-bit fingerprints each worker recorded.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use arrow_array::{BooleanArray, RecordBatch};
use arrow_schema::ArrowError;

use crate::errors::IngestError;
use crate::readers::RowSource;
use crate::validate::{RejectedRow, Validated, Validator};

/// Rows per chunk: large enough that handing a chunk over costs nothing, small enough
/// that both cores stay busy on a file of a few chunks.
const CHUNK_ROWS: usize = 16 * 1024;

/// A run of rows, their cells stored end to end in one string.
pub(crate) struct RowChunk {
    index: usize,
    rows: Vec<usize>,
    text: String,
    /// End offset in `text` of every cell, `width` per row.
    ends: Vec<usize>,
    width: usize,
}

impl RowChunk {
    fn new(index: usize, width: usize) -> RowChunk {
        RowChunk { index, rows: Vec::new(), text: String::new(), ends: Vec::new(), width }
    }

    fn push(&mut self, row: usize, cells: &[String]) {
        self.rows.push(row);
        for cell in cells {
            self.text.push_str(cell);
            self.ends.push(self.text.len());
        }
    }

    /// Fills `out` with the cells of the `i`-th row.
    fn cells<'c>(&'c self, i: usize, out: &mut Vec<&'c str>) {
        out.clear();
        let first = i * self.width;
        let mut start = if first == 0 { 0 } else { self.ends[first - 1] };
        for &end in &self.ends[first..first + self.width] {
            out.push(&self.text[start..end]);
            start = end;
        }
    }
}

/// Everything needed to build a validator for one chunk.
pub(crate) trait MakeValidator: Sync {
    fn make(&self) -> Validator<'_>;
}

/// The rows of a file, validated: batches in file order, the rejects (duplicates
/// included) sorted by row.
pub(crate) struct Outcome {
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) accepted: usize,
    pub(crate) rejected: Vec<RejectedRow>,
}

type ChunkResult = (Arc<RowChunk>, Result<Validated, ArrowError>);

/// Reads every row of `rows` and validates them on `workers` threads.
pub(crate) fn validate_all(
    rows: &mut dyn RowSource,
    make: &dyn MakeValidator,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<Outcome, IngestError> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
    let width = rows.headers().len();
    let (sender, receiver) = sync_channel::<Arc<RowChunk>>(workers * 2);
    let receiver = Mutex::new(receiver);
    let results: Mutex<Vec<ChunkResult>> = Mutex::new(Vec::new());
    let read = std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| work(&receiver, &results, make));
        }
        let read = read_chunks(rows, width, |chunk| sender.send(chunk).is_ok(), progress);
        drop(sender);
        read
    });
    read?;
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(chunk, _)| chunk.index);
    merge(results, make)
}

fn work(receiver: &Mutex<Receiver<Arc<RowChunk>>>, results: &Mutex<Vec<ChunkResult>>, make: &dyn MakeValidator) {
    loop {
        let next = receiver.lock().map(|r| r.recv());
        let Ok(Ok(chunk)) = next else { return };
        let mut validator = make.make();
        let mut cells = Vec::with_capacity(chunk.width);
        let mut outcome = Ok(());
        for (i, row) in chunk.rows.iter().enumerate() {
            chunk.cells(i, &mut cells);
            outcome = validator.push(*row, &cells);
            if outcome.is_err() {
                break;
            }
        }
        let validated = outcome.and_then(|()| validator.finish());
        if let Ok(mut all) = results.lock() {
            all.push((chunk, validated));
        }
    }
}

/// Cuts the rows into chunks and hands each to `send`; stops early if nobody listens.
fn read_chunks(
    rows: &mut dyn RowSource,
    width: usize,
    mut send: impl FnMut(Arc<RowChunk>) -> bool,
    progress: Option<&(dyn Fn(usize) + Sync)>,
) -> Result<(), IngestError> {
    let mut cells = Vec::new();
    let mut chunk = RowChunk::new(0, width);
    let mut seen = 0usize;
    while let Some(row) = rows.next_row(&mut cells)? {
        chunk.push(row, &cells);
        seen += 1;
        if chunk.rows.len() == CHUNK_ROWS {
            let next = RowChunk::new(chunk.index + 1, width);
            if !send(Arc::new(std::mem::replace(&mut chunk, next))) {
                return Ok(());
            }
            if let Some(progress) = progress {
                progress(seen);
            }
        }
    }
    if !chunk.rows.is_empty() || chunk.index == 0 {
        send(Arc::new(chunk));
    }
    Ok(())
}

/// Puts chunk results together in file order, rejecting rows whose key an earlier row
/// already had.
fn merge(results: Vec<ChunkResult>, make: &dyn MakeValidator) -> Result<Outcome, IngestError> {
    let mut first_seen: HashMap<u128, usize, foldhash::fast::FixedState> = HashMap::default();
    let mut outcome = Outcome { batches: Vec::new(), accepted: 0, rejected: Vec::new() };
    let validator = make.make();
    for (chunk, validated) in results {
        let mut cells = Vec::new();
        let validated = validated.map_err(|e| IngestError::Malformed {
            path: Default::default(),
            format: "Arrow",
            message: e.to_string(),
        })?;
        let mut keep = Vec::with_capacity(validated.keys.len());
        for (key, row) in &validated.keys {
            match first_seen.get(key) {
                Some(first) => {
                    let i = chunk.rows.binary_search(row).unwrap_or_default();
                    chunk.cells(i, &mut cells);
                    let error = validator.duplicate_error(*row, *first, &cells);
                    let owned = cells.iter().map(|c| c.to_string()).collect();
                    outcome.rejected.push(RejectedRow { row: *row, cells: owned, errors: vec![error] });
                    keep.push(false);
                }
                None => {
                    first_seen.insert(*key, *row);
                    keep.push(true);
                }
            }
        }
        let batch = if keep.iter().all(|k| *k) {
            validated.batch
        } else {
            arrow_select::filter::filter_record_batch(&validated.batch, &BooleanArray::from(keep)).map_err(|e| {
                IngestError::Malformed { path: Default::default(), format: "Arrow", message: e.to_string() }
            })?
        };
        outcome.accepted += batch.num_rows();
        outcome.batches.push(batch);
        outcome.rejected.extend(validated.rejected);
    }
    outcome.rejected.sort_by_key(|r| r.row);
    Ok(outcome)
}
