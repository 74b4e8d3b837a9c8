//! XLSX workbooks: the first sheet or a named one. Date cells become ISO dates here;
//! number cells in date columns (an Excel serial without a date format) are handled by
//! the validator.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Range, Reader, Xlsx};

use super::{RowSource, is_blank, reset};
use crate::errors::IngestError;

pub(crate) struct XlsxRows {
    headers: Vec<String>,
    range: Range<Data>,
    /// Absolute row index (0-based) of the header row.
    header_row: u32,
    next: usize,
}

impl XlsxRows {
    pub(crate) fn open(bytes: &[u8], path: &Path, sheet: Option<&str>) -> Result<Self, IngestError> {
        let malformed = |message: String| IngestError::Malformed { path: path.to_path_buf(), format: "XLSX", message };
        let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| malformed(e.to_string()))?;
        let names = workbook.sheet_names();
        let name = match sheet {
            Some(wanted) => {
                names.iter().find(|n| n.as_str() == wanted).cloned().ok_or_else(|| IngestError::UnknownSheet {
                    path: path.to_path_buf(),
                    sheet: wanted.to_string(),
                    available: names.join("、"),
                })?
            }
            None => names.first().cloned().ok_or_else(|| malformed("工作簿中没有工作表".into()))?,
        };
        let range = workbook.worksheet_range(&name).map_err(|e| malformed(e.to_string()))?;
        let Some((header_row, _)) = range.start() else {
            return Err(IngestError::NoHeader { path: path.to_path_buf() });
        };
        let headers: Vec<String> =
            range.rows().next().map(|row| row.iter().map(cell_text).collect()).unwrap_or_default();
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(IngestError::NoHeader { path: path.to_path_buf() });
        }
        Ok(XlsxRows { headers, range, header_row, next: 1 })
    }
}

impl RowSource for XlsxRows {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn next_row(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>, IngestError> {
        let width = self.headers.len();
        while self.next < self.range.height() {
            let index = self.next;
            self.next += 1;
            reset(cells, width);
            for (col, cell) in cells.iter_mut().enumerate() {
                if let Some(data) = self.range.get((index, col)) {
                    cell.push_str(&cell_text(data));
                }
            }
            if !is_blank(cells) {
                // Spreadsheet row numbers are 1-based and absolute.
                return Ok(Some(self.header_row as usize + index + 1));
            }
        }
        Ok(None)
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
