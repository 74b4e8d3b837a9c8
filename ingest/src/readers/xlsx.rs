//! XLSX workbooks: the first sheet or a named one. Date cells become ISO dates here;
//! number cells in date columns (an Excel serial without a date format) are handled by
//! the validator.
//!
//! A workbook is untrusted input. A 1.5 KB file can hold two cells, at A1 and XFD1048576,
//! and calamine's `worksheet_range` allocates a dense grid of every cell between them
//! (17 billion cells, about 512 GiB: the allocation fails and the process aborts, and in the
//! server every tenant's requests with it). So the sheet is read here as a stream of cells
//! and only the cells that hold a value are kept, in a compact form: memory follows the
//! cells that exist, never the sheet's declared `<dimension>` nor the span of its cell
//! references. The limits, each refused with its own error:
//! - before calamine inflates anything, the sizes the zip declares for its parts (the zip
//!   reader stops a part that inflates beyond its declared size);
//! - every non-empty cell within [`MAX_COLUMNS`] columns and [`MAX_ROWS`] rows;
//! - at most [`MAX_CELLS`] non-empty cells, and at most the unpacked limit of text in them
//!   (one long shared string referenced by millions of cells would otherwise expand to
//!   terabytes in the validator's rejected rows).

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use calamine::{Data, DataRef, Dimensions, Reader, Xlsx, XlsxError};
use chrono::NaiveDate;

use super::{FindHeader, RowSource, is_blank, reset};
use crate::errors::IngestError;
use crate::headers::{Candidate, HeaderSearch};

/// Columns a ledger sheet may use, A to IV. The widest table of the contract has 15
/// columns; a clerk's notes beside them fit easily. (Excel allows 16,384, to XFD.)
pub(crate) const MAX_COLUMNS: u32 = 256;

/// Excel's own row limit: a cell below row 1,048,576 comes only from a crafted file.
pub(crate) const MAX_ROWS: u32 = 1_048_576;

/// Non-empty cells a sheet may hold. A full Excel sheet (1,048,576 rows) of the widest
/// table (15 columns) is 15.7 million cells; 20 million leaves room for a few notes
/// columns. A kept cell takes 24 bytes besides its text (which the unpacked limit bounds),
/// so the cells of the largest sheet take under half a gigabyte, less than calamine's dense
/// range of the same sheet took before.
pub(crate) const MAX_CELLS: usize = 20_000_000;

/// What a workbook may inflate to, summed over the sizes its zip declares for all its
/// parts. The largest legitimate ledger, the 15.7 million cells above at ~35 bytes of XML
/// each (`<c r="A1" s="1" t="s"><v>12</v></c>`), is about 550 MB of sheet XML plus its
/// shared strings. The same limit bounds the text the sheet's cells expand to, about what
/// the same ledger holds as CSV.
pub(crate) const MAX_UNPACKED_BYTES: u64 = 1 << 30;

/// The unpacked limit is also at most this many times the file size limit, so an operator
/// who lowers the upload limit lowers it too. Real workbooks inflate 5–20×, a zip of
/// repetitive XML ~100×, a zip bomb thousands of times.
pub(crate) const UNPACK_RATIO: u64 = 64;

/// The limits a workbook is read under.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Bytes the zip's parts may declare in all, and the text the cells may expand to.
    unpacked: u64,
    /// Non-empty cells of the sheet.
    cells: usize,
}

impl Limits {
    fn new(max_file_bytes: u64) -> Limits {
        Limits { unpacked: MAX_UNPACKED_BYTES.min(max_file_bytes.saturating_mul(UNPACK_RATIO)), cells: MAX_CELLS }
    }
}

pub(crate) struct XlsxRows {
    headers: Vec<String>,
    /// The header's row number as the sheet shows it (1-based).
    header_row: usize,
    /// Columns from the leftmost non-empty cell of the sheet to the rightmost.
    width: usize,
    /// The non-empty cells of the sheet, in (row, column) order.
    cells: Vec<SheetCell>,
    /// The next of `cells` to read (after opening: the first below the header row).
    next: usize,
    /// Column of the leftmost non-empty cell of the sheet: the first header's.
    first_column: u32,
    /// The shared strings the sheet uses, each once however many cells refer to it.
    shared: Vec<Box<str>>,
    /// Values of the rarer kinds (inline strings, ISO dates, errors).
    others: Vec<Data>,
}

/// A non-empty cell: absolute 0-based position and value, 24 bytes.
#[derive(Debug, Clone, Copy)]
struct SheetCell {
    row: u32,
    column: u32,
    value: Value,
}

/// A cell value in 16 bytes; the text is made when the row is read.
#[derive(Debug, Clone, Copy)]
enum Value {
    /// Index into [`XlsxRows::shared`].
    Shared(u32),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A date-formatted number, as [`cell_text`] shows it.
    Date(NaiveDate),
    /// Index into [`XlsxRows::others`].
    Other(u32),
}

impl XlsxRows {
    pub(crate) fn open(
        bytes: &[u8],
        path: &Path,
        sheet: Option<&str>,
        max_file_bytes: u64,
        find: FindHeader<'_>,
    ) -> Result<Self, IngestError> {
        Self::open_within(bytes, path, sheet, Limits::new(max_file_bytes), find)
    }

    fn open_within(
        bytes: &[u8],
        path: &Path,
        sheet: Option<&str>,
        limits: Limits,
        find: FindHeader<'_>,
    ) -> Result<Self, IngestError> {
        let malformed = |message: String| IngestError::Malformed { path: path.to_path_buf(), format: "XLSX", message };
        check_unpacked_size(bytes, path, limits.unpacked)?;
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| malformed(e.to_string()))?;
        let names = workbook.sheet_names();
        let Some(sheet) = sheet else {
            return Self::first_ledger_sheet(&mut workbook, &names, path, limits, find);
        };
        let name = names.iter().find(|n| n.as_str() == sheet).ok_or_else(|| IngestError::UnknownSheet {
            path: path.to_path_buf(),
            sheet: sheet.to_string(),
            available: names.join("、"),
        })?;
        Self::open_sheet(&mut workbook, name, path, limits, find)
    }

    /// The first sheet with a header, when none is named: an office's workbook often
    /// opens with a 填表说明 sheet before the ledger. When no sheet has one, the first
    /// sheet's error.
    fn first_ledger_sheet(
        workbook: &mut Xlsx<Cursor<&[u8]>>,
        names: &[String],
        path: &Path,
        limits: Limits,
        find: FindHeader<'_>,
    ) -> Result<Self, IngestError> {
        let mut first_error = None;
        for name in names {
            match Self::open_sheet(workbook, name, path, limits, find) {
                Ok(rows) => return Ok(rows),
                Err(e @ (IngestError::NoHeader { .. } | IngestError::MissingColumns { .. })) => {
                    tracing::debug!(sheet = %name, error = %e, "no ledger header in this sheet");
                    first_error.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_error.unwrap_or_else(|| IngestError::Malformed {
            path: path.to_path_buf(),
            format: "XLSX",
            message: "工作簿中没有工作表".into(),
        }))
    }

    /// Sheet `name`'s cells, header and the position of its first data row.
    fn open_sheet(
        workbook: &mut Xlsx<Cursor<&[u8]>>,
        name: &str,
        path: &Path,
        limits: Limits,
        find: FindHeader<'_>,
    ) -> Result<Self, IngestError> {
        let mut rows = read_sheet(workbook, name, path, limits)?;
        // The columns run from the leftmost non-empty cell of the sheet to the rightmost.
        if rows.cells.is_empty() {
            return Err(no_header(path)());
        }
        rows.first_column = rows.cells.iter().map(|c| c.column).min().unwrap_or(0);
        let last_column = rows.cells.iter().map(|c| c.column).max().unwrap_or(0);
        rows.width = (last_column - rows.first_column) as usize + 1;
        let Candidate { row, cells } = rows.find_header(workbook, name, path, find)?;
        rows.header_row = row;
        rows.headers = cells;
        // The data starts below the header.
        rows.next = rows.cells.partition_point(|c| (c.row as usize) < row);
        Ok(rows)
    }

    /// The header row `find` picks among the sheet's first rows. Merged cells are looked up
    /// (a second pass over the sheet's XML) only when no header is found without them or
    /// the one found has a gap that a range merged down from above may cover: a clean
    /// ledger never pays for it.
    fn find_header(
        &self,
        workbook: &mut Xlsx<Cursor<&[u8]>>,
        name: &str,
        path: &Path,
        find: FindHeader<'_>,
    ) -> Result<Candidate, IngestError> {
        let candidates = self.first_rows(find.search, &[]);
        if candidates.is_empty() {
            return Err(no_header(path)());
        }
        let chosen = (find.choose)(&candidates);
        let gap = |chosen: &usize| candidates[*chosen].cells.iter().any(|c| c.trim().is_empty());
        let (candidates, chosen) = if chosen.as_ref().is_ok_and(|c| !gap(c)) {
            (candidates, chosen)
        } else {
            let merges = workbook.merge_cells_by_sheet_name(name).unwrap_or_else(|e| {
                tracing::warn!(file = %path.display(), error = %e, "merged cells unreadable; header read without them");
                Vec::new()
            });
            let candidates = self.first_rows(find.search, &merges);
            let chosen = (find.choose)(&candidates);
            (candidates, chosen)
        };
        candidates.into_iter().nth(chosen?).ok_or_else(no_header(path))
    }

    /// The header's row number, as the sheet shows it.
    pub(crate) fn header_row(&self) -> usize {
        self.header_row
    }

    /// The non-blank rows `search` wants from the top of the sheet, `width` cells each.
    /// A cell covered by a merged range of `merges` that starts in a row above takes the
    /// range's value: a two-row header whose first columns are merged down to the row of
    /// the sub-headers reads as one row. Cells to the right of a range's first column stay
    /// empty, so a header cell merged across two columns is one column, not two.
    fn first_rows(&self, search: HeaderSearch, merges: &[Dimensions]) -> Vec<Candidate> {
        let mut candidates = Vec::new();
        let mut at = 0;
        while let Some(row) = self.cells.get(at).map(|c| c.row) {
            let mut cells = vec![String::new(); self.width];
            while let Some(cell) = self.cells.get(at).filter(|c| c.row == row) {
                let text = &mut cells[(cell.column - self.first_column) as usize];
                text.clear();
                push_text(cell.value, &self.shared, &self.others, text);
                at += 1;
            }
            let number = row as usize + 1;
            if is_blank(&cells) {
                continue;
            }
            if !search.wants(number, candidates.len()) {
                break;
            }
            for merge in merges.iter().filter(|m| m.start.0 < row && row <= m.end.0) {
                let (top, column) = merge.start;
                let slot = column.checked_sub(self.first_column).and_then(|c| cells.get_mut(c as usize));
                if let (Some(slot), Some(value)) = (slot, self.value_at(top, column)) {
                    slot.clear();
                    push_text(value, &self.shared, &self.others, slot);
                }
            }
            candidates.push(Candidate { row: number, cells });
        }
        candidates
    }

    /// The value of the cell at (`row`, `column`), if it holds one.
    fn value_at(&self, row: u32, column: u32) -> Option<Value> {
        let at = self.cells.binary_search_by_key(&(row, column), |c| (c.row, c.column)).ok()?;
        Some(self.cells[at].value)
    }
}

fn no_header(path: &Path) -> impl Fn() -> IngestError + '_ {
    || IngestError::NoHeader { path: path.to_path_buf() }
}

/// Refuses a workbook whose parts declare more than `limit` bytes in all, before any is
/// inflated. The zip reader (zip 9) stops a part that inflates beyond its declared size,
/// so the declared sizes bound what calamine reads. A file that is no zip at all is left
/// to calamine, which says so.
fn check_unpacked_size(bytes: &[u8], path: &Path, limit: u64) -> Result<(), IngestError> {
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else { return Ok(()) };
    let mut unpacked: u64 = 0;
    for index in 0..archive.len() {
        if let Ok(entry) = archive.by_index_data(index) {
            unpacked = unpacked.saturating_add(entry.size());
        }
    }
    if unpacked > limit {
        return Err(IngestError::UnpackedTooLarge { path: path.to_path_buf(), unpacked, limit });
    }
    Ok(())
}

/// Reads the non-empty cells of sheet `name`, sorted by position, within the limits.
fn read_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    path: &Path,
    limits: Limits,
) -> Result<XlsxRows, IngestError> {
    let malformed = |message: String| IngestError::Malformed { path: path.to_path_buf(), format: "XLSX", message };
    let mut rows = XlsxRows {
        headers: Vec::new(),
        header_row: 0,
        width: 0,
        cells: Vec::new(),
        next: 0,
        first_column: 0,
        shared: Vec::new(),
        others: Vec::new(),
    };
    let mut reader = match workbook.worksheet_cells_reader(name) {
        Ok(reader) => reader,
        // A chart sheet: no cells (calamine's worksheet_range gave an empty range).
        Err(XlsxError::NotAWorksheet(_)) => return Ok(rows),
        Err(e) => return Err(malformed(e.to_string())),
    };
    // The declared `<dimension>` is not used: it is whatever the file says.
    let mut shared_index: HashMap<&str, u32, foldhash::fast::RandomState> = HashMap::default();
    let mut text: u64 = 0;
    while let Some(cell) = reader.next_cell().map_err(|e| malformed(e.to_string()))? {
        let (row, column) = cell.get_position();
        let (value, length) = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::SharedString(s) => {
                let next = rows.shared.len() as u32;
                let index = *shared_index.entry(s).or_insert_with(|| {
                    rows.shared.push(Box::from(*s));
                    next
                });
                (Value::Shared(index), s.len() as u64)
            }
            DataRef::Int(i) => (Value::Int(*i), 20),
            DataRef::Float(f) => (Value::Float(*f), float_text_bound(*f)),
            DataRef::Bool(b) => (Value::Bool(*b), 5),
            DataRef::DateTime(dt) => match dt.as_datetime() {
                Some(value) => (Value::Date(value.date()), 16),
                None => (other(&mut rows.others, Data::DateTime(*dt)), float_text_bound(dt.as_f64())),
            },
            DataRef::String(s) => (other(&mut rows.others, Data::String(s.clone())), s.len() as u64),
            DataRef::DateTimeIso(s) => (other(&mut rows.others, Data::DateTimeIso(s.clone())), s.len() as u64),
            DataRef::DurationIso(s) => (other(&mut rows.others, Data::DurationIso(s.clone())), s.len() as u64),
            DataRef::Error(e) => (other(&mut rows.others, Data::Error(e.clone())), 16),
        };
        if column >= MAX_COLUMNS || row >= MAX_ROWS {
            return Err(IngestError::SheetOutOfRange {
                path: path.to_path_buf(),
                sheet: name.to_string(),
                cell: cell_reference(row, column),
                max_columns: MAX_COLUMNS,
                last_column: column_name(MAX_COLUMNS - 1),
                max_rows: MAX_ROWS,
            });
        }
        if rows.cells.len() >= limits.cells {
            return Err(IngestError::TooManyCells {
                path: path.to_path_buf(),
                sheet: name.to_string(),
                limit: limits.cells,
            });
        }
        text = text.saturating_add(length);
        if text > limits.unpacked {
            return Err(IngestError::SheetTextTooLarge {
                path: path.to_path_buf(),
                sheet: name.to_string(),
                limit: limits.unpacked,
            });
        }
        rows.cells.push(SheetCell { row, column, value });
    }
    // Sheets list their cells row by row, left to right; a file that does not is sorted
    // (stably: of two cells at one position the later wins, as in calamine's range).
    if !rows.cells.is_sorted_by_key(|c| (c.row, c.column)) {
        rows.cells.sort_by_key(|c| (c.row, c.column));
    }
    Ok(rows)
}

fn other(others: &mut Vec<Data>, data: Data) -> Value {
    others.push(data);
    Value::Other(others.len() as u32 - 1)
}

/// An upper bound on the length of [`cell_text`] of a number: `f64`'s `Display` writes at
/// most 17 significant digits but every zero up to the point (1e300 is 301 characters),
/// so the length grows with the exponent.
fn float_text_bound(f: f64) -> u64 {
    if !f.is_finite() || f == 0.0 {
        return 4;
    }
    24 + f.abs().log10().abs().ceil() as u64
}

impl RowSource for XlsxRows {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn next_row(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>, IngestError> {
        let width = self.headers.len();
        while let Some(row) = self.cells.get(self.next).map(|c| c.row) {
            reset(cells, width);
            while let Some(cell) = self.cells.get(self.next).filter(|c| c.row == row) {
                let text = &mut cells[(cell.column - self.first_column) as usize];
                text.clear();
                push_text(cell.value, &self.shared, &self.others, text);
                self.next += 1;
            }
            if !is_blank(cells) {
                // Spreadsheet row numbers are 1-based and absolute.
                return Ok(Some(row as usize + 1));
            }
        }
        Ok(None)
    }
}

/// Appends the text of a kept cell, as [`cell_text`] shows its value.
fn push_text(value: Value, shared: &[Box<str>], others: &[Data], out: &mut String) {
    match value {
        Value::Shared(index) => out.push_str(&shared[index as usize]),
        Value::Int(i) => out.push_str(&cell_text(&Data::Int(i))),
        Value::Float(f) => out.push_str(&cell_text(&Data::Float(f))),
        Value::Bool(b) => out.push_str(&cell_text(&Data::Bool(b))),
        Value::Date(date) => out.push_str(&date.format("%Y-%m-%d").to_string()),
        Value::Other(index) => out.push_str(&cell_text(&others[index as usize])),
    }
}

/// The text a cell shows, with dates as ISO dates and whole numbers without `.0`.
fn cell_text(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(value) => value.date().format("%Y-%m-%d").to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A column's letters: 0 is `A`, 25 `Z`, 26 `AA`, 16383 `XFD`.
fn column_name(column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = u64::from(column) + 1;
    while n > 0 {
        n -= 1;
        letters.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// A cell's reference as Excel shows it: (0, 0) is `A1`.
fn cell_reference(row: u32, column: u32) -> String {
    format!("{}{}", column_name(column), u64::from(row) + 1)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use calamine::Reader;
    use proptest::prelude::*;

    use super::*;

    const NAME: &str = "台账.xlsx";

    /// The first non-blank row as the header, as before header detection.
    const FIRST_ROW: FindHeader<'static> = FindHeader { search: HeaderSearch { given: None }, choose: &|_| Ok(0) };

    /// A workbook of one sheet, "Sheet1", whose `<sheetData>` holds `sheet_data`, written
    /// part by part (the way a crafted file is made); `shared` are its shared strings.
    fn workbook(dimension: &str, sheet_data: &str, shared: &[&str]) -> Vec<u8> {
        const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
        const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
        const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let mut parts = vec![
            (
                "[Content_Types].xml".to_string(),
                r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#.to_string(),
            ),
            (
                "_rels/.rels".to_string(),
                format!(r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#),
            ),
            (
                "xl/workbook.xml".to_string(),
                format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#),
            ),
            (
                "xl/_rels/workbook.xml.rels".to_string(),
                format!(r#"<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#),
            ),
            (
                "xl/worksheets/sheet1.xml".to_string(),
                format!(r#"<worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>"#),
            ),
        ];
        if !shared.is_empty() {
            let items: String = shared.iter().map(|s| format!("<si><t>{s}</t></si>")).collect();
            parts.push(("xl/sharedStrings.xml".to_string(), format!(r#"<sst xmlns="{MAIN}">{items}</sst>"#)));
        }
        zip_parts(&parts)
    }

    fn zip_parts(parts: &[(String, String)]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in parts {
            zip.start_file(name.as_str(), options).expect("zip entry");
            zip.write_all(text.as_bytes()).expect("zip write");
        }
        zip.finish().expect("zip").into_inner()
    }

    /// An inline-string cell.
    fn text_cell(reference: &str, text: &str) -> String {
        format!(r#"<c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    /// The crafted file: two cells, at A1 and XFD1048576 (the last cell Excel has).
    fn two_far_cells() -> Vec<u8> {
        let data = format!(
            r#"<row r="1">{}</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#,
            text_cell("A1", "社区代码")
        );
        workbook("A1:XFD1048576", &data, &[])
    }

    const OUT_OF_RANGE: &str = "工作簿 台账.xlsx 中工作表“Sheet1”的单元格 XFD1048576 超出了台账允许的范围（最多 256 列，即 A 到 IV 列；最多 1048576 行）(sheet_out_of_range)；请删除该单元格（在 Excel/WPS 中按 Ctrl+End 可跳到最后一个单元格）后重新保存";

    fn open(bytes: &[u8]) -> Result<XlsxRows, IngestError> {
        XlsxRows::open(bytes, Path::new(NAME), None, crate::DEFAULT_MAX_FILE_BYTES, FIRST_ROW)
    }

    /// Headers and every row (number, cells) a reader gives.
    type Sheet = (Vec<String>, Vec<(usize, Vec<String>)>);

    fn read_all(mut rows: XlsxRows) -> Sheet {
        let mut all = Vec::new();
        let mut cells = Vec::new();
        while let Some(row) = rows.next_row(&mut cells).expect("row") {
            all.push((row, cells.clone()));
        }
        (rows.headers, all)
    }

    #[test]
    fn cells_at_a1_and_xfd1048576_are_refused_without_allocating_the_grid() {
        // Before the sparse reader, calamine's dense range asked for 1048576 × 16384 cells
        // of 32 bytes here and the process aborted ("memory allocation failed").
        let bytes = two_far_cells();
        assert!(bytes.len() < 2048, "{} bytes", bytes.len());
        let error = open(&bytes).err().expect("refused");
        assert!(matches!(error, IngestError::SheetOutOfRange { .. }), "{error:?}");
        assert_eq!(error.to_string(), OUT_OF_RANGE);
    }

    #[test]
    fn the_same_two_cells_written_by_rust_xlsxwriter_are_refused() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "社区代码").expect("A1");
        sheet.write_number(1_048_575, 16_383, 1.0).expect("XFD1048576");
        let bytes = book.save_to_buffer().expect("xlsx");
        let error = open(&bytes).err().expect("refused");
        assert_eq!(error.to_string(), OUT_OF_RANGE);
    }

    #[test]
    fn the_e2e_fixture_is_the_crafted_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/hardening/sparse-dimension.xlsx");
        let bytes = std::fs::read(&path).expect("fixture");
        assert!(bytes.len() < 2048, "{} bytes", bytes.len());
        assert_eq!(open(&bytes).err().expect("refused").to_string(), OUT_OF_RANGE);
    }

    #[test]
    fn a_row_below_excels_last_row_is_refused() {
        let data = format!(
            r#"<row r="1">{}</row><row r="1048577">{}</row>"#,
            text_cell("A1", "h"),
            text_cell("B1048577", "x")
        );
        let error = open(&workbook("A1:B1048577", &data, &[])).err().expect("refused");
        assert!(error.to_string().contains("的单元格 B1048577 超出了台账允许的范围"), "{error}");
    }

    #[test]
    fn empty_cells_far_away_are_not_kept_and_not_refused() {
        // Styled empty cells carry no value: they neither count nor widen the sheet.
        let data = format!(
            r#"<row r="2">{}<c r="XFD2" s="1"/></row><row r="3">{}</row><row r="1048576"><c r="A1048576" s="1"/></row>"#,
            text_cell("B2", "名称"),
            text_cell("B3", "霞寨")
        );
        let rows = open(&workbook("B2:XFD1048576", &data, &[])).expect("readable");
        assert_eq!(read_all(rows), (vec!["名称".to_string()], vec![(3, vec!["霞寨".to_string()])]));
    }

    #[test]
    fn a_sparse_legal_sheet_reads_with_absolute_row_numbers() {
        // Header in row 3 from column B, a data row in row 5, one in the last row and last
        // allowed column (IV), and a blank row between. A dense grid of this sheet would be
        // 1048574 × 255 cells (8.5 GB).
        let data = format!(
            r#"<row r="3">{}{}</row><row r="5">{}<c r="D5"><v>7</v></c></row><row r="9">{}</row><row r="1048576">{}{}</row>"#,
            text_cell("B3", "社区代码"),
            text_cell("C3", "名称"),
            text_cell("B5", "141021100001"),
            text_cell("C9", "  "),
            text_cell("C1048576", "远处"),
            text_cell("IV1048576", "最后一列"),
        );
        let rows = open(&workbook("B3:IV1048576", &data, &[])).expect("readable");
        let (headers, rows) = read_all(rows);
        assert_eq!(headers.len(), 255, "columns B to IV");
        assert_eq!(headers[..3], ["社区代码", "名称", ""]);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].0, 5);
        assert_eq!(rows[0].1[..3], ["141021100001", "", "7"]);
        assert_eq!(rows[1].0, 1_048_576);
        assert_eq!(rows[1].1[1], "远处");
        assert_eq!(rows[1].1[254], "最后一列");
    }

    #[test]
    fn a_zip_bomb_is_refused_before_it_is_inflated() {
        // 4 MB of sheet XML compress to a few kilobytes; the limit for 16 KB files is 1 MB.
        let padding = " ".repeat(4 << 20);
        let bytes = workbook("A1", &format!(r#"<row r="1">{}</row>{padding}"#, text_cell("A1", "h")), &[]);
        assert!(bytes.len() < 16 << 10, "{} bytes", bytes.len());
        let error = XlsxRows::open(&bytes, Path::new(NAME), None, 16 << 10, FIRST_ROW).err().expect("refused");
        assert!(matches!(error, IngestError::UnpackedTooLarge { .. }), "{error:?}");
        assert!(
            error.to_string().starts_with("工作簿 台账.xlsx 解压后共 4.0 MB，超过上限 1.0 MB (xlsx_too_large)；"),
            "{error}"
        );
        // The same file within the default limit reads.
        assert!(open(&bytes).is_ok());
    }

    #[test]
    fn a_part_inflating_beyond_its_declared_size_is_not_read() {
        // The declared sizes bound what is inflated only because the zip reader stops a
        // part at its declared size: a sheet that declares 100 bytes less than it holds
        // fails to read. (Stored, not deflated, so the sizes are easy to patch.)
        let data = format!(r#"<row r="1">{}</row><row r="2">{}</row>"#, text_cell("A1", "h"), text_cell("A2", "x"));
        let deflated = workbook("A1", &data, &[]);
        let mut archive = zip::ZipArchive::new(Cursor::new(deflated.as_slice())).expect("zip");
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let mut sheet_size = 0;
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).expect("entry");
            let name = entry.name().expect("name").into_owned();
            let mut text = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut text).expect("inflate");
            if name == "xl/worksheets/sheet1.xml" {
                sheet_size = text.len() as u32;
            }
            zip.start_file(name, stored).expect("entry");
            zip.write_all(&text).expect("write");
        }
        let mut bytes = zip.finish().expect("zip").into_inner();
        let declared = (sheet_size - 100).to_le_bytes();
        let name = b"xl/worksheets/sheet1.xml";
        // The uncompressed size in the local header (at 22) and the central one (at 24).
        for (signature, size_at, name_at) in [(b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)] {
            let at = (0..bytes.len())
                .find(|&i| bytes[i..].starts_with(signature) && bytes[i + name_at..].starts_with(name))
                .expect("header");
            bytes[at + size_at..at + size_at + 4].copy_from_slice(&declared);
        }
        let error = open(&bytes).err().expect("refused");
        assert!(error.to_string().contains("(malformed_file)"), "{error}");
    }

    #[test]
    fn one_long_shared_string_in_many_cells_is_refused() {
        // 2,000 cells referring to one 10 KB string expand to 20 MB of text; the limit for
        // 64 KB files is 4 MB.
        let long = "长".repeat(10_000 / 3);
        let cells: String =
            (1..=2_000).map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#)).collect();
        let bytes = workbook("A1:A2000", &cells, &[&long]);
        assert!(bytes.len() < 64 << 10, "{} bytes", bytes.len());
        let error = XlsxRows::open(&bytes, Path::new(NAME), None, 64 << 10, FIRST_ROW).err().expect("refused");
        assert!(matches!(error, IngestError::SheetTextTooLarge { .. }), "{error:?}");
        assert!(error.to_string().contains("的单元格文字展开后超过 4.0 MB (sheet_text_too_large)"), "{error}");
        // Within the default limit it reads, the string kept once.
        let rows = open(&bytes).expect("readable");
        assert_eq!(rows.shared.len(), 1);
        assert_eq!(read_all(rows).1.len(), 1_999);
    }

    #[test]
    fn too_many_cells_are_refused() {
        let cells: String = (1..=11).map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#)).collect();
        let bytes = workbook("A1:A11", &cells, &[]);
        let limits = Limits { unpacked: MAX_UNPACKED_BYTES, cells: 10 };
        let error = XlsxRows::open_within(&bytes, Path::new(NAME), None, limits, FIRST_ROW).err().expect("refused");
        assert_eq!(
            error.to_string(),
            "工作簿 台账.xlsx 中工作表“Sheet1”的非空单元格超过 10 个 (too_many_cells)；请把台账拆分成几个文件分别上传"
        );
        let limits = Limits { unpacked: MAX_UNPACKED_BYTES, cells: 11 };
        assert!(XlsxRows::open_within(&bytes, Path::new(NAME), None, limits, FIRST_ROW).is_ok());
    }

    #[test]
    fn cells_out_of_order_read_in_order_and_the_later_of_two_wins() {
        let data = format!(
            r#"<row r="4">{}</row><row r="2">{}{}</row><row r="4">{}</row><row r="2">{}</row>"#,
            text_cell("B4", "b4"),
            text_cell("B2", "名称"),
            text_cell("A2", "代码"),
            text_cell("A4", "a4"),
            text_cell("A2", "编号"),
        );
        let rows = open(&workbook("A1", &data, &[])).expect("readable");
        let expected = (vec!["编号".to_string(), "名称".into()], vec![(4, vec!["a4".to_string(), "b4".into()])]);
        assert_eq!(read_all(rows), expected);
        assert_eq!(dense(&workbook("A1", &data, &[])).expect("dense"), expected);
    }

    #[test]
    fn a_title_and_a_header_cell_merged_across_columns_read_as_one_header() {
        // Title merged over A1:E1, the header on row 3 with 社区名称 merged over B3:C3 (its
        // values in B), a gap in row 2. The header is found by the contract's columns.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let plain = rust_xlsxwriter::Format::new();
        sheet.merge_range(0, 0, 0, 4, "社区名录（2025年）", &plain).expect("title");
        sheet.write_string(2, 0, "社区代码").expect("A3");
        sheet.merge_range(2, 1, 2, 2, "社区名称", &plain).expect("B3:C3");
        sheet.write_string(2, 3, "县区代码").expect("D3");
        sheet.write_string(2, 4, "县区名称").expect("E3");
        for (column, text) in ["141021100001", "霞寨社区", "", "141021", "曲沃县"].iter().enumerate() {
            sheet.write_string(3, column as u16, *text).expect("row 4");
        }
        let bytes = book.save_to_buffer().expect("xlsx");
        let path = Path::new(NAME);
        let search = HeaderSearch { given: None };
        let choose = |rows: &[Candidate]| crate::headers::choose(crate::Table::Communities, path, search, rows);
        let rows =
            XlsxRows::open(&bytes, path, None, crate::DEFAULT_MAX_FILE_BYTES, FindHeader { search, choose: &choose })
                .expect("readable");
        assert_eq!(rows.header_row(), 3);
        let (headers, data) = read_all(rows);
        assert_eq!(headers, ["社区代码", "社区名称", "", "县区代码", "县区名称"]);
        assert_eq!(data, vec![(4, ["141021100001", "霞寨社区", "", "141021", "曲沃县"].map(String::from).to_vec())]);
    }

    #[test]
    fn a_kept_cell_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(std::mem::size_of::<SheetCell>(), 24);
    }

    #[test]
    fn column_names_and_references() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(255), "IV");
        assert_eq!(column_name(16_383), "XFD");
        assert_eq!(cell_reference(1_048_575, 16_383), "XFD1048576");
        assert_eq!(cell_reference(u32::MAX, u32::MAX), "MWLQKWV4294967296");
    }

    /// The reader this one replaced (calamine's dense range), for comparison on small sheets.
    fn dense(bytes: &[u8]) -> Result<Sheet, String> {
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
        let name = workbook.sheet_names().first().cloned().ok_or("no sheet")?;
        let range = workbook.worksheet_range(&name).map_err(|e| e.to_string())?;
        let Some((first_row, _)) = range.start() else { return Err("no header".into()) };
        // The header is the first non-blank row.
        let Some(skip) = range.rows().position(|row| !is_blank(&row.iter().map(cell_text).collect::<Vec<_>>())) else {
            return Err("no header".into());
        };
        let headers: Vec<String> =
            range.rows().nth(skip).map(|row| row.iter().map(cell_text).collect()).unwrap_or_default();
        let mut rows = Vec::new();
        for index in skip + 1..range.height() {
            let cells: Vec<String> =
                (0..headers.len()).map(|col| range.get((index, col)).map(cell_text).unwrap_or_default()).collect();
            if !is_blank(&cells) {
                rows.push((first_row as usize + index + 1, cells));
            }
        }
        Ok((headers, rows))
    }

    fn sparse(bytes: &[u8]) -> Result<Sheet, String> {
        match open(bytes) {
            Ok(rows) => Ok(read_all(rows)),
            Err(IngestError::NoHeader { .. }) => Err("no header".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn the_sample_workbooks_read_as_calamines_range_read_them() {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/xlsx");
        let mut seen = 0;
        for entry in std::fs::read_dir(&folder).expect("samples") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            assert_eq!(sparse(&bytes), dense(&bytes), "{}", path.display());
            seen += 1;
        }
        assert_eq!(seen, 6);
    }

    /// A cell value as a test workbook holds it.
    #[derive(Debug, Clone)]
    enum TestValue {
        Text(String),
        Number(f64),
        Bool(bool),
        Date(u32),
        Blank,
    }

    fn test_value() -> impl Strategy<Value = TestValue> {
        prop_oneof![
            prop::sample::select(vec!["社区代码", "名称", "", " ", "霞寨社区", "141021100001", "2025-03-10", "a,b"])
                .prop_map(|s| TestValue::Text(s.to_string())),
            prop_oneof![
                Just(0.0),
                Just(1.0),
                Just(-3.0),
                Just(4.5),
                Just(1e15),
                Just(45_000.0),
                prop::num::f64::NORMAL | prop::num::f64::ZERO
            ]
            .prop_map(TestValue::Number),
            any::<bool>().prop_map(TestValue::Bool),
            (1u32..80_000).prop_map(TestValue::Date),
            Just(TestValue::Blank),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random small workbooks written by rust_xlsxwriter (shared strings, typed dates,
        /// styled blanks) read the same as with calamine's dense range: same headers, same
        /// rows, same row numbers.
        #[test]
        fn small_workbooks_read_as_calamines_range_reads_them(
            cells in prop::collection::vec((0u32..12, 0u16..8, test_value()), 0..40)
        ) {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
            for (row, column, value) in &cells {
                let written = match value {
                    TestValue::Text(s) => sheet.write_string(*row, *column, s).map(|_| ()),
                    TestValue::Number(n) => sheet.write_number(*row, *column, *n).map(|_| ()),
                    TestValue::Bool(b) => sheet.write_boolean(*row, *column, *b).map(|_| ()),
                    TestValue::Date(d) => sheet.write_number_with_format(*row, *column, f64::from(*d), &date).map(|_| ()),
                    TestValue::Blank => sheet.write_blank(*row, *column, &date).map(|_| ()),
                };
                written.expect("cell");
            }
            let bytes = book.save_to_buffer().expect("xlsx");
            prop_assert_eq!(sparse(&bytes), dense(&bytes));
        }

        /// Cells in any order, repeated, with rows left out: the same as the dense range.
        #[test]
        fn cells_in_any_order_read_as_calamines_range_reads_them(
            cells in prop::collection::vec((0u32..10, 0u32..6, "[a-c ]{0,2}"), 0..30)
        ) {
            let data: String = cells
                .iter()
                .map(|(row, column, text)| format!(r#"<row r="{}">{}</row>"#, row + 1, text_cell(&cell_reference(*row, *column), text)))
                .collect();
            let bytes = workbook("A1", &data, &[]);
            prop_assert_eq!(sparse(&bytes), dense(&bytes));
        }
    }
}
