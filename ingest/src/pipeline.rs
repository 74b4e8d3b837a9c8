//! Validating a file's rows on every core. The file is cut into chunks (byte ranges of
//! a CSV's text, or runs of rows another reader produced); workers validate chunks into
//! Arrow batches at the same time; one thread puts the results back in file order,
//! rejects rows whose key an earlier row already had (from 128-bit fingerprints), and
//! hands the batches on — to a sink while the rest of the file is still being read, or
//! kept for the caller.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use arrow_array::{BooleanArray, RecordBatch};

use crate::errors::IngestError;
use crate::readers::csv::CsvText;
use crate::readers::{RowSource, Rows};
use crate::validate::{Capacity, Fingerprint, RejectedRow, SkippedRow, Validated, Validator};

/// Rows per chunk of a row-by-row source.
const CHUNK_ROWS: usize = 16 * 1024;

/// Where the validated batches go as soon as they are known to be accepted.
pub trait BatchSink: Sync {
    /// Takes the accepted rows of one partition (the rows share county and year);
    /// returns false when it can take no more (the caller will report why).
    fn accept(&self, batch: RecordBatch) -> bool;
}

/// A run of rows, their cells stored end to end in one string.
pub(crate) struct RowChunk {
    rows: Vec<usize>,
    text: String,
    /// End offset in `text` of every cell, `width` per row.
    ends: Vec<usize>,
    width: usize,
}

impl RowChunk {
    fn new(width: usize) -> RowChunk {
        RowChunk { rows: Vec::new(), text: String::new(), ends: Vec::new(), width }
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

/// A piece of the file for one worker.
enum Chunk {
    /// A byte range of a CSV's text; row numbers are counted from 1 within it.
    Text(Range<usize>),
    /// Rows with their row numbers in the file.
    Rows(RowChunk),
}

/// Everything needed to build a validator for one chunk.
pub(crate) trait MakeValidator: Sync {
    fn make(&self) -> Validator<'_>;
}

/// The rows of a file, validated: the accepted batches (unless a sink took them), the
/// number of accepted rows, the rejects (duplicates included) sorted by row.
pub(crate) struct Outcome {
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) accepted: usize,
    pub(crate) rejected: Vec<RejectedRow>,
    /// Note rows left out, in file order.
    pub(crate) skipped: Vec<SkippedRow>,
}

/// What a worker made of a chunk.
struct ChunkResult {
    index: usize,
    chunk: Chunk,
    /// Records the chunk held (text chunks), for numbering the rows of the next ones.
    records: usize,
    validated: Result<Validated, ChunkError>,
}

/// A chunk that could not be read: the row (within the chunk for text chunks) and why.
struct ChunkError {
    row: usize,
    message: String,
}

/// How the batches leave the pipeline.
#[derive(Clone, Copy)]
pub(crate) struct Delivery<'s> {
    pub(crate) sink: Option<&'s dyn BatchSink>,
    /// Stop handing batches to the sink at the first rejected row (the batch will be
    /// refused); the rest of the file is still validated so every error is listed.
    pub(crate) strict: bool,
    pub(crate) progress: Option<&'s (dyn Fn(usize) + Sync)>,
}

/// Reads and validates every row of `rows` on every core.
pub(crate) fn validate_all(
    rows: Rows<'_>,
    path: &std::path::Path,
    make: &dyn MakeValidator,
    delivery: Delivery<'_>,
) -> Result<Outcome, IngestError> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).clamp(1, 8);
    let width = rows.headers().len();
    let (chunks, chunk_receiver) = sync_channel::<(usize, Chunk)>(workers * 2);
    let chunk_receiver = Mutex::new(chunk_receiver);
    let (results, result_receiver) = sync_channel::<ChunkResult>(workers * 2);
    let stop = AtomicBool::new(false);
    let (csv, source) = match rows {
        Rows::Csv(csv) => (Some(csv), None),
        Rows::Source(source) => (None, Some(source)),
    };
    let csv = csv.as_ref();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let results = results.clone();
            let (receiver, stop) = (&chunk_receiver, &stop);
            scope.spawn(move || work(receiver, &results, make, csv, width, stop));
        }
        drop(results);
        let merger = scope.spawn(|| {
            let merged = merge(result_receiver, make, csv, delivery, path);
            // Whatever happened, the reader and the workers need not go on.
            stop.store(true, Ordering::Relaxed);
            merged
        });
        let read = match (csv, source) {
            (Some(csv), _) => send_ranges(csv.ranges(), &chunks, &stop),
            (None, Some(mut source)) => send_rows(source.as_mut(), width, &chunks, &stop),
            (None, None) => Ok(()),
        };
        drop(chunks);
        let merged = merger.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        read.and(merged)
    })
}

fn send_ranges(
    ranges: Vec<Range<usize>>,
    chunks: &SyncSender<(usize, Chunk)>,
    stop: &AtomicBool,
) -> Result<(), IngestError> {
    for (index, range) in ranges.into_iter().enumerate() {
        if stop.load(Ordering::Relaxed) || chunks.send((index, Chunk::Text(range))).is_err() {
            break;
        }
    }
    Ok(())
}

/// Cuts a row-by-row source into chunks of [`CHUNK_ROWS`].
fn send_rows(
    rows: &mut dyn RowSource,
    width: usize,
    chunks: &SyncSender<(usize, Chunk)>,
    stop: &AtomicBool,
) -> Result<(), IngestError> {
    let mut cells = Vec::new();
    let mut chunk = RowChunk::new(width);
    let mut index = 0;
    while let Some(row) = rows.next_row(&mut cells)? {
        chunk.push(row, &cells);
        if chunk.rows.len() == CHUNK_ROWS {
            let full = std::mem::replace(&mut chunk, RowChunk::new(width));
            if stop.load(Ordering::Relaxed) || chunks.send((index, Chunk::Rows(full))).is_err() {
                return Ok(());
            }
            index += 1;
        }
    }
    if !chunk.rows.is_empty() || index == 0 {
        let _ = chunks.send((index, Chunk::Rows(chunk)));
    }
    Ok(())
}

fn work(
    chunks: &Mutex<Receiver<(usize, Chunk)>>,
    results: &SyncSender<ChunkResult>,
    make: &dyn MakeValidator,
    csv: Option<&CsvText<'_>>,
    width: usize,
    stop: &AtomicBool,
) {
    let mut capacity = Capacity::default();
    loop {
        let next = chunks.lock().map(|r| r.recv());
        let Ok(Ok((index, chunk))) = next else { return };
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let mut validator = make.make();
        validator.reserve(capacity.clone());
        let mut records = 0;
        let mut validated = Ok(());
        match (&chunk, csv) {
            (Chunk::Text(range), Some(csv)) => {
                match csv.for_each_record(range.clone(), width, |row, cells| validator.push(row, cells)) {
                    Ok(n) => records = n,
                    Err((row, message)) => validated = Err(ChunkError { row, message }),
                }
            }
            (Chunk::Rows(rows), _) => {
                let mut cells = Vec::with_capacity(width);
                for (i, row) in rows.rows.iter().enumerate() {
                    rows.cells(i, &mut cells);
                    validator.push(*row, &cells);
                }
            }
            (Chunk::Text(_), None) => unreachable!("text chunks come from CSV files"),
        }
        let validated =
            validated.and_then(|()| validator.finish().map_err(|e| ChunkError { row: 0, message: e.to_string() }));
        if let Ok(done) = &validated {
            capacity = done.capacity();
        }
        if results.send(ChunkResult { index, chunk, records, validated }).is_err() {
            return;
        }
    }
}

/// Takes chunk results as they come, and deals with them in file order.
fn merge(
    results: Receiver<ChunkResult>,
    make: &dyn MakeValidator,
    csv: Option<&CsvText<'_>>,
    delivery: Delivery<'_>,
    path: &std::path::Path,
) -> Result<Outcome, IngestError> {
    let mut merger = Merger {
        first_seen: HashMap::default(),
        typical: 0,
        outcome: Outcome { batches: Vec::new(), accepted: 0, rejected: Vec::new(), skipped: Vec::new() },
        // The first record after the header is the row below it (row 2 when the header
        // is the first row).
        offset: csv.map_or(1, |csv| csv.header_row),
        delivering: delivery.sink.is_some(),
        validator: make.make(),
        csv,
        delivery,
    };
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for result in results {
        waiting.insert(result.index, result);
        while let Some(result) = waiting.remove(&next) {
            merger.take(result).map_err(|message| IngestError::Malformed {
                path: path.to_path_buf(),
                format: if csv.is_some() { "CSV" } else { "Arrow" },
                message,
            })?;
            next += 1;
        }
    }
    let mut outcome = merger.outcome;
    outcome.rejected.sort_by_key(|r| r.row);
    Ok(outcome)
}

/// Row of the first occurrence of each key fingerprint, in 16-byte entries: the first 64
/// bits of the fingerprint are the map's key, 32 more bits sit beside the row. The maps of
/// a file's keys are among the largest allocations of an ingest (every fresh page costs a
/// fault and zeroing), and 96 bits still make a false duplicate among a county's tens of
/// thousands of keys a 2^-67 event. Fingerprints alike in their first 64 bits but not the
/// next 32 are kept whole in a side map, so none is mistaken for another. A row number
/// past `u32::MAX`, in a file of tens of gigabytes, is kept as `u32::MAX`.
#[derive(Default)]
struct FirstSeen {
    rows: HashMap<u64, (u32, u32), foldhash::fast::FixedState>,
    clashes: HashMap<Fingerprint, u32, foldhash::fast::FixedState>,
}

impl FirstSeen {
    fn with_capacity(capacity: usize) -> FirstSeen {
        FirstSeen { rows: HashMap::with_capacity_and_hasher(capacity, Default::default()), clashes: HashMap::default() }
    }

    fn len(&self) -> usize {
        self.rows.len() + self.clashes.len()
    }

    /// The row where `fingerprint` was first seen, or `None` after noting `row` as that.
    fn first_or_insert(&mut self, fingerprint: Fingerprint, row: usize) -> Option<usize> {
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        let tail = fingerprint[1] as u32;
        match self.rows.entry(fingerprint[0]) {
            Entry::Vacant(slot) => {
                slot.insert((tail, row));
                None
            }
            Entry::Occupied(first) if first.get().0 == tail => Some(first.get().1 as usize),
            Entry::Occupied(_) => match self.clashes.entry(fingerprint) {
                Entry::Vacant(slot) => {
                    slot.insert(row);
                    None
                }
                Entry::Occupied(first) => Some(*first.get() as usize),
            },
        }
    }
}

struct Merger<'v, 'c, 's> {
    /// Per county: a key repeats only within its county, and a ledger passes county by
    /// county, so the map being filled stays small enough for the CPU's caches (one map
    /// of millions of keys made every insert a cache miss).
    first_seen: HashMap<u32, FirstSeen, foldhash::fast::FixedState>,
    /// The size of the largest county's map so far: counties are about the same size, so
    /// a new county's map starts there instead of growing (and rehashing) from nothing.
    typical: usize,
    outcome: Outcome,
    /// Records before the current text chunk.
    offset: usize,
    /// Whether batches still go to the sink.
    delivering: bool,
    validator: Validator<'v>,
    csv: Option<&'c CsvText<'c>>,
    delivery: Delivery<'s>,
}

impl Merger<'_, '_, '_> {
    /// One chunk's result, in file order: row numbers made absolute, later duplicates of a
    /// key rejected, the batches delivered or kept.
    fn take(&mut self, result: ChunkResult) -> Result<(), String> {
        let offset = if matches!(result.chunk, Chunk::Text(_)) { self.offset } else { 0 };
        let mut validated = result.validated.map_err(|e| format!("第{}行：{}", e.row + offset, e.message))?;
        self.offset += result.records;
        for key in &mut validated.keys {
            key.row += offset;
        }
        for rejected in &mut validated.rejected {
            rejected.row += offset;
            rejected.errors.iter_mut().for_each(|e| e.row += offset);
        }
        for skipped in &mut validated.skipped {
            skipped.row += offset;
        }
        self.outcome.skipped.append(&mut validated.skipped);
        let mut keep: Vec<Vec<bool>> = validated.batches.iter().map(|b| vec![true; b.num_rows()]).collect();
        let mut position = vec![0usize; keep.len()];
        let mut duplicates = Vec::new();
        let typical = self.typical;
        let mut keys = validated.keys.iter().peekable();
        // A run of keys of one county goes into its map, found once for the run.
        while let Some(county) = keys.peek().map(|k| k.county) {
            let seen = self.first_seen.entry(county).or_insert_with(|| FirstSeen::with_capacity(typical));
            while let Some(key) = keys.next_if(|k| k.county == county) {
                let bucket = key.bucket as usize;
                if let Some(first) = seen.first_or_insert(key.fingerprint, key.row) {
                    keep[bucket][position[bucket]] = false;
                    duplicates.push((key.row, first));
                }
                position[bucket] += 1;
            }
        }
        self.typical = self.first_seen.values().map(FirstSeen::len).max().unwrap_or(0);
        if !duplicates.is_empty() {
            self.reject_duplicates(&result.chunk, offset, &duplicates);
        }
        let rejected_before = self.outcome.rejected.len();
        self.outcome.rejected.extend(validated.rejected);
        let mut batches = Vec::with_capacity(validated.batches.len());
        for (batch, keep) in validated.batches.into_iter().zip(keep) {
            let batch = if keep.iter().all(|k| *k) {
                batch
            } else {
                arrow_select::filter::filter_record_batch(&batch, &BooleanArray::from(keep))
                    .map_err(|e| e.to_string())?
            };
            if batch.num_rows() > 0 {
                self.outcome.accepted += batch.num_rows();
                batches.push(batch);
            }
        }
        self.deliver(batches, rejected_before == self.outcome.rejected.len());
        if let Some(progress) = self.delivery.progress {
            progress(self.outcome.accepted + self.outcome.rejected.len());
        }
        Ok(())
    }

    fn deliver(&mut self, batches: Vec<RecordBatch>, clean: bool) {
        let Some(sink) = self.delivery.sink else {
            self.outcome.batches.extend(batches);
            return;
        };
        if self.delivery.strict && !clean {
            self.delivering = false;
        }
        for batch in batches {
            if self.delivering && !sink.accept(batch) {
                self.delivering = false;
            }
        }
    }

    /// Rejects rows whose key an earlier row had: `(row, first row)` pairs, in row order.
    fn reject_duplicates(&mut self, chunk: &Chunk, offset: usize, duplicates: &[(usize, usize)]) {
        let wanted: Vec<usize> = duplicates.iter().map(|(row, _)| row - offset).collect();
        let cells = match chunk {
            Chunk::Text(range) => self.csv.map(|csv| text_rows(csv, range, &wanted)).unwrap_or_default(),
            Chunk::Rows(rows) => chunk_rows(rows, &wanted),
        };
        for ((row, first), cells) in duplicates.iter().zip(cells) {
            let borrowed: Vec<&str> = cells.iter().map(String::as_str).collect();
            let error = self.validator.duplicate_error(*row, *first, &borrowed);
            self.outcome.rejected.push(RejectedRow { row: *row, cells, errors: vec![error] });
        }
    }
}

/// The cells of the given rows (numbers within the range, ascending) of a CSV range.
fn text_rows(csv: &CsvText<'_>, range: &Range<usize>, wanted: &[usize]) -> Vec<Vec<String>> {
    let mut found = Vec::with_capacity(wanted.len());
    let width = csv.headers.len();
    let _ = csv.for_each_record(range.clone(), width, |row, cells| {
        if wanted.binary_search(&row).is_ok() {
            found.push(cells.iter().map(|c| c.to_string()).collect());
        }
    });
    found
}

fn chunk_rows(rows: &RowChunk, wanted: &[usize]) -> Vec<Vec<String>> {
    let mut cells = Vec::new();
    wanted
        .iter()
        .map(|row| {
            let i = rows.rows.binary_search(row).unwrap_or_default();
            rows.cells(i, &mut cells);
            cells.iter().map(|c| c.to_string()).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::FirstSeen;

    #[test]
    fn first_seen_tells_fingerprints_apart_that_share_their_first_64_bits() {
        let mut seen = FirstSeen::with_capacity(4);
        assert_eq!(seen.first_or_insert([7, 0x1_0000_0001], 2), None);
        // Same first 64 bits, different next 32: another key.
        assert_eq!(seen.first_or_insert([7, 0x1_0000_0002], 3), None);
        // Same first 96 bits as row 2's (the rest differs): taken for row 2's key.
        assert_eq!(seen.first_or_insert([7, 0x2_0000_0001], 4), Some(2));
        assert_eq!(seen.first_or_insert([7, 0x1_0000_0002], 5), Some(3));
        assert_eq!(seen.first_or_insert([8, 0x1_0000_0002], 6), None);
        assert_eq!(seen.first_or_insert([8, 0x1_0000_0002], 7), Some(6));
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.first_or_insert([9, 1], 1 << 40), None);
        assert_eq!(seen.first_or_insert([9, 1], 3), Some(u32::MAX as usize));
    }
}
