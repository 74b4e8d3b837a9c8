//! One reader per file shape. Each turns a file into a header row and a stream of rows of
//! text cells; the validator does the rest, so every format follows the same rules.

pub(crate) mod csv;
mod jsonl;
mod separators;
mod xlsx;

use std::path::Path;

use crate::encoding::{self, TextEncoding};
use crate::errors::IngestError;
use crate::headers::{Candidate, HeaderSearch};

/// The shape of a ledger file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Xlsx,
    JsonLines,
}

impl FileFormat {
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "CSV",
            FileFormat::Xlsx => "XLSX",
            FileFormat::JsonLines => "JSON lines",
        }
    }
}

/// Rows of text cells, one per header, with the row number a user sees.
pub(crate) trait RowSource {
    fn headers(&self) -> &[String];
    /// Fills `cells` with the next non-blank row (exactly one cell per header) and returns
    /// its row number, or `None` at the end.
    fn next_row(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>, IngestError>;
}

/// The rows of an opened file: CSV text that workers parse range by range, or a source
/// read row by row.
pub(crate) enum Rows<'a> {
    Csv(csv::CsvText<'a>),
    Source(Box<dyn RowSource + Send + 'a>),
}

impl Rows<'_> {
    pub(crate) fn headers(&self) -> &[String] {
        match self {
            Rows::Csv(csv) => &csv.headers,
            Rows::Source(source) => source.headers(),
        }
    }
}

/// A file opened for reading: its format, its encoding (text formats), its header's row
/// number (`None` for JSON lines, which have none) and its rows.
pub(crate) struct Opened<'a> {
    pub(crate) format: FileFormat,
    pub(crate) encoding: Option<TextEncoding>,
    pub(crate) header_row: Option<usize>,
    pub(crate) rows: Rows<'a>,
}

/// How a reader finds the header: which of the first rows to collect, and a function
/// that picks the header among them (the index of the chosen one). The choice needs the
/// table's columns, which readers know nothing of.
#[derive(Clone, Copy)]
pub(crate) struct FindHeader<'c> {
    pub(crate) search: HeaderSearch,
    pub(crate) choose: &'c dyn Fn(&[Candidate]) -> Result<usize, IngestError>,
}

/// Opens `bytes` by content first (an XLSX is a zip, JSON lines start with `{`), then by
/// the file name's extension; a `.xls` or any other zip is refused with a clear error.
/// `max_file_bytes` also bounds what a workbook may inflate to.
pub(crate) fn open<'a>(
    bytes: &'a [u8],
    path: &Path,
    sheet: Option<&str>,
    max_file_bytes: u64,
    find: FindHeader<'_>,
    text: &'a mut Option<std::borrow::Cow<'a, str>>,
) -> Result<Opened<'a>, IngestError> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    if bytes.starts_with(b"PK\x03\x04") {
        let rows = xlsx::XlsxRows::open(bytes, path, sheet, max_file_bytes, find)?;
        let header_row = Some(rows.header_row());
        return Ok(Opened { format: FileFormat::Xlsx, encoding: None, header_row, rows: Rows::Source(Box::new(rows)) });
    }
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "xls" | "et") {
        return Err(IngestError::Malformed {
            path: path.to_path_buf(),
            format: "XLSX",
            message: "文件不是 XLSX 工作簿（.xls 等旧格式请在 Excel/WPS 中另存为 .xlsx）".into(),
        });
    }
    let (decoded, enc) = encoding::decode(bytes, path)?;
    let text: &'a str = text.insert(decoded);
    let looks_json = text.trim_start().starts_with('{');
    if looks_json || matches!(ext.as_str(), "jsonl" | "json" | "ndjson") {
        let rows = jsonl::JsonLines::open(text, path)?;
        let rows = Rows::Source(Box::new(rows));
        return Ok(Opened { format: FileFormat::JsonLines, encoding: Some(enc), header_row: None, rows });
    }
    let rows = csv::CsvText::open(text, path, find)?;
    Ok(Opened {
        format: FileFormat::Csv,
        encoding: Some(enc),
        header_row: Some(rows.header_row),
        rows: Rows::Csv(rows),
    })
}

/// Whether every cell of a row is blank (spreadsheets export trailing empty rows).
fn is_blank(cells: &[impl AsRef<str>]) -> bool {
    cells.iter().all(|c| c.as_ref().trim().is_empty())
}

/// Makes `cells` hold exactly `n` empty strings, reusing their allocations.
fn reset(cells: &mut Vec<String>, n: usize) {
    cells.resize_with(n, String::new);
    cells.iter_mut().for_each(String::clear);
}
