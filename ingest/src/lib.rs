//! Reading community ledger files into validated Arrow batches.
//!
//! A ledger file (CSV in UTF-8 or GB18030, XLSX, JSON lines) for one of the six tables of
//! the data contract is decoded, its headers matched by canonical name or Chinese alias,
//! every value normalised and checked against the contract's rules, and the valid rows
//! returned as Arrow record batches with the table's canonical schema. Every invalid row
//! is reported with the row number a spreadsheet shows, the column, the value and the
//! reason in Chinese with an English token.
//!
//! The crate also holds the synthetic-county generator ([`generator`]).

pub mod database;
pub mod encoding;
pub mod errors;
pub mod files;
pub mod generator;
pub mod guide;
pub mod headers;
pub mod open311;
mod pipeline;
mod pseudonyms;
mod readers;
pub mod references;
pub mod rejects;
pub mod schema;
pub mod scope;
mod suggestions;
mod validate;
pub mod values;

use std::path::{Path, PathBuf};

pub use arrow_array::RecordBatch;
use sha2::{Digest, Sha256};

pub use encoding::TextEncoding;
pub use errors::{IngestError, RowError, RowErrorKind};
pub use files::{FileBytes, read_file};
pub use pipeline::BatchSink;
pub use readers::FileFormat;
pub use references::References;
pub use rejects::spreadsheet_safe;
pub use schema::Table;
pub use scope::Scope;
pub use validate::{MAX_FIELD_CHARS, RejectedRow, SkippedRow};

/// Default upper bound on a ledger file's size: a county's whole year of evaluations as
/// CSV is a few hundred megabytes; anything far beyond is a wrong file.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// How to read a file: whose it is, what other tables hold, and the limits.
#[derive(Clone, Copy)]
pub struct ReadOptions<'a> {
    /// The uploader's scope: rows of other communities are rejected.
    pub scope: &'a Scope,
    /// Keys already in the warehouse, for the reference rules.
    pub references: &'a References,
    /// The installation's secret for pseudonymising respondents.
    pub respondent_secret: &'a [u8],
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<&'a str>,
    /// CSV and XLSX: the header's row number as the sheet shows it (1-based); `None`
    /// finds it among the first rows ([`headers`]).
    pub header_row: Option<usize>,
    pub max_file_bytes: u64,
    /// Called now and then with the number of rows read so far.
    pub progress: Option<&'a (dyn Fn(usize) + Sync)>,
    /// Where accepted rows go while the file is still being read (the warehouse writes
    /// them as they come); `None` keeps them in [`LedgerFile::batches`].
    pub sink: Option<&'a dyn BatchSink>,
    /// With a sink: stop handing it rows at the first rejected row, since the batch will
    /// be refused (the rest of the file is still checked, so every error is listed).
    pub strict: bool,
}

impl std::fmt::Debug for ReadOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("scope", &self.scope)
            .field("references", &self.references.len())
            .field("sheet", &self.sheet)
            .field("max_file_bytes", &self.max_file_bytes)
            .finish_non_exhaustive()
    }
}

/// A ledger file read and validated: the valid rows as Arrow batches, the invalid ones
/// with every error.
#[derive(Debug)]
pub struct LedgerFile {
    pub table: Table,
    pub path: PathBuf,
    pub format: FileFormat,
    pub encoding: Option<TextEncoding>,
    /// SHA-256 of the file's bytes, hex: the same file twice is recognised by it.
    pub sha256: String,
    pub bytes: u64,
    /// The headers as written in the file.
    pub headers: Vec<String>,
    /// The header's row number as the sheet shows it (`None` for JSON lines).
    pub header_row: Option<usize>,
    /// Note rows (合计, 备注, 制表人, …) that were skipped, in file order.
    pub skipped: Vec<SkippedRow>,
    /// Headers that name no column of the table; their cells are ignored.
    pub ignored_headers: Vec<String>,
    /// The accepted rows, one batch per partition (county, year) and chunk of the file;
    /// empty when [`ReadOptions::sink`] took them.
    pub batches: Vec<RecordBatch>,
    pub accepted_rows: usize,
    pub rejected: Vec<RejectedRow>,
}

impl LedgerFile {
    /// Every error of every rejected row, in file order.
    pub fn errors(&self) -> impl Iterator<Item = &RowError> {
        self.rejected.iter().flat_map(|r| r.errors.iter())
    }

    /// The rejects as a CSV the clerk can fix and ingest again.
    pub fn rejects_csv(&self) -> Vec<u8> {
        rejects::rejects_csv(&self.headers, &self.rejected)
    }
}

/// Reads and validates a ledger file of `table` from disk.
pub fn read_ledger(table: Table, path: &Path, options: &ReadOptions<'_>) -> Result<LedgerFile, IngestError> {
    let file = read_file(path, options.max_file_bytes)?;
    let sha256 = file.sha256(path)?;
    read_ledger_hashed(table, path, &file, sha256, options)
}

/// Reads and validates a ledger file already in memory (an upload); `name` is the file
/// name shown in messages and used to guess the format.
pub fn read_ledger_bytes(
    table: Table,
    name: &Path,
    bytes: &[u8],
    options: &ReadOptions<'_>,
) -> Result<LedgerFile, IngestError> {
    read_ledger_hashed(table, name, bytes, sha256_hex(bytes), options)
}

/// The SHA-256 of a file's bytes, hex: how the same file is recognised again.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// [`read_ledger_bytes`] for a caller that already hashed the bytes (to check whether the
/// file was ingested before) and need not hash hundreds of megabytes twice.
pub fn read_ledger_hashed(
    table: Table,
    name: &Path,
    bytes: &[u8],
    sha256: String,
    options: &ReadOptions<'_>,
) -> Result<LedgerFile, IngestError> {
    let mut text = None;
    let layout = Layout { sheet: options.sheet, header_row: options.header_row };
    let opened = open_ledger(table, name, bytes, options.scope, layout, options.max_file_bytes, &mut text)?;
    opened.validate(sha256, options)
}

/// A ledger file opened — decoded, its header read and matched to the table's columns —
/// with its rows not yet read. Opening needs nothing of the warehouse, so a caller can
/// open the file while the keys its rows refer to are still loading.
pub struct OpenedLedger<'a> {
    table: Table,
    name: PathBuf,
    size: u64,
    opened: readers::Opened<'a>,
    headers: Vec<String>,
    mapping: Vec<Option<usize>>,
    ignored_headers: Vec<String>,
}

impl std::fmt::Debug for OpenedLedger<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedLedger")
            .field("table", &self.table)
            .field("name", &self.name)
            .field("format", &self.opened.format)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Where an opened ledger keeps its decoded text (its rows borrow from it).
pub type DecodedText<'a> = Option<std::borrow::Cow<'a, str>>;

/// Where the ledger is in its file: the sheet of a workbook, the header's row.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout<'a> {
    /// XLSX: the sheet to read (default: the first).
    pub sheet: Option<&'a str>,
    /// CSV and XLSX: the header's row number (1-based, as the sheet shows it); `None`
    /// finds it among the first rows. JSON lines have no header row and ignore it.
    pub header_row: Option<usize>,
}

/// Opens a ledger file of `table` in memory: checks its size and that `scope` may write
/// the table, detects its shape and encoding, finds its header (of `layout.sheet` in a
/// workbook, in `layout.header_row` if given) and matches it to the table's columns.
pub fn open_ledger<'a>(
    table: Table,
    name: &Path,
    bytes: &'a [u8],
    scope: &Scope,
    layout: Layout<'_>,
    max_file_bytes: u64,
    text: &'a mut DecodedText<'a>,
) -> Result<OpenedLedger<'a>, IngestError> {
    check_size(name, bytes.len() as u64, max_file_bytes)?;
    if table == Table::Communities && !scope.may_write_communities() {
        return Err(IngestError::TableNotAllowed { scope: scope.to_string(), table: table.chinese() });
    }
    if let Some(row) = layout.header_row.filter(|r| !(1..=headers::MAX_HEADER_ROW).contains(r)) {
        return Err(IngestError::BadHeaderRow { row, max: headers::MAX_HEADER_ROW });
    }
    let search = headers::HeaderSearch { given: layout.header_row };
    let choose = |candidates: &[headers::Candidate]| headers::choose(table, name, search, candidates);
    let find = readers::FindHeader { search, choose: &choose };
    let opened = readers::open(bytes, name, layout.sheet, max_file_bytes, find, text)?;
    let headers = opened.rows.headers().to_vec();
    if let Some(row) = opened.header_row {
        tracing::debug!(file = %name.display(), row, "header row");
    }
    let (mapping, ignored_headers) = map_headers(table, &headers, name, opened.header_row)?;
    Ok(OpenedLedger {
        table,
        name: name.to_path_buf(),
        size: bytes.len() as u64,
        opened,
        headers,
        mapping,
        ignored_headers,
    })
}

impl OpenedLedger<'_> {
    /// Validates every row against the contract, the scope and `options.references`,
    /// handing accepted rows to `options.sink` if there is one.
    pub fn validate(self, sha256: String, options: &ReadOptions<'_>) -> Result<LedgerFile, IngestError> {
        let OpenedLedger { table, name, size, opened, headers, mapping, ignored_headers } = self;
        let make = ValidatorSpec {
            table,
            headers: &headers,
            mapping: &mapping,
            scope: options.scope,
            references: options.references,
            secret: options.respondent_secret,
            excel_serials: opened.format == FileFormat::Xlsx,
        };
        let delivery = pipeline::Delivery { sink: options.sink, strict: options.strict, progress: options.progress };
        let outcome = pipeline::validate_all(opened.rows, &name, &make, delivery)?;
        Ok(LedgerFile {
            table,
            path: name,
            format: opened.format,
            encoding: opened.encoding,
            sha256,
            bytes: size,
            headers,
            header_row: opened.header_row,
            skipped: outcome.skipped,
            ignored_headers,
            batches: outcome.batches,
            accepted_rows: outcome.accepted,
            rejected: outcome.rejected,
        })
    }
}

struct ValidatorSpec<'a> {
    table: Table,
    headers: &'a [String],
    mapping: &'a [Option<usize>],
    scope: &'a Scope,
    references: &'a References,
    secret: &'a [u8],
    excel_serials: bool,
}

impl pipeline::MakeValidator for ValidatorSpec<'_> {
    fn make(&self) -> validate::Validator<'_> {
        validate::Validator::new(
            self.table,
            self.headers,
            self.mapping,
            self.scope,
            self.references,
            self.secret,
            self.excel_serials,
        )
    }
}

fn check_size(path: &Path, size: u64, limit: u64) -> Result<(), IngestError> {
    if size > limit {
        return Err(IngestError::FileTooLarge { path: path.to_path_buf(), size, limit });
    }
    Ok(())
}

/// Matches the file's headers (in row `header_row`; JSON lines have none) to the table's
/// columns. Returns, per contract column, the index of its cell, and the headers that
/// match nothing.
fn map_headers(
    table: Table,
    headers: &[String],
    path: &Path,
    header_row: Option<usize>,
) -> Result<(Vec<Option<usize>>, Vec<String>), IngestError> {
    let columns = table.columns();
    let mut mapping: Vec<Option<usize>> = vec![None; columns.len()];
    let mut ignored = Vec::new();
    for (index, header) in headers.iter().enumerate() {
        match columns.iter().position(|c| c.matches_header(header)) {
            Some(c) => {
                if let Some(first) = mapping[c] {
                    return Err(IngestError::DuplicateColumn {
                        path: path.to_path_buf(),
                        column: columns[c].name.to_string(),
                        first: first + 1,
                        second: index + 1,
                    });
                }
                mapping[c] = Some(index);
            }
            None if header.trim().is_empty() => {}
            None => ignored.push(header.clone()),
        }
    }
    let missing = headers::missing_required(table, headers);
    if !missing.is_empty() {
        let hint = match header_row {
            Some(row) => format!("第 {row} 行是指定的表头行；请检查这一行的列名，或改用其他表头行号"),
            None => "JSON lines 每行的键应为列名或中文别名".to_string(),
        };
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            table: table.chinese(),
            missing: missing.join("、"),
            row: header_row,
            hint,
        });
    }
    Ok((mapping, ignored))
}
