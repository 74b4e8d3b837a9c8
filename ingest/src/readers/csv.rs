//! CSV (comma, or tab for Excel's "Unicode text"), already decoded to UTF-8.

use std::path::{Path, PathBuf};

use super::{RowSource, is_blank, reset};
use crate::errors::IngestError;

pub(crate) struct CsvRows<'a> {
    path: PathBuf,
    headers: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
    record: csv::StringRecord,
    /// Records read so far including the header: the next record's spreadsheet row is this + 1.
    records: usize,
}

impl<'a> CsvRows<'a> {
    pub(crate) fn open(text: &'a str, path: &Path) -> Result<Self, IngestError> {
        let first_line = text.lines().next().unwrap_or_default();
        let delimiter = if first_line.contains('\t') && !first_line.contains(',') { b'\t' } else { b',' };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut record = csv::StringRecord::new();
        let malformed =
            |e: csv::Error| IngestError::Malformed { path: path.to_path_buf(), format: "CSV", message: e.to_string() };
        if !reader.read_record(&mut record).map_err(malformed)? || record.iter().all(|h| h.trim().is_empty()) {
            return Err(IngestError::NoHeader { path: path.to_path_buf() });
        }
        let headers = record.iter().map(str::to_string).collect();
        Ok(CsvRows { path: path.to_path_buf(), headers, reader, record, records: 1 })
    }
}

impl RowSource for CsvRows<'_> {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn next_row(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>, IngestError> {
        loop {
            let more = self.reader.read_record(&mut self.record).map_err(|e| IngestError::Malformed {
                path: self.path.clone(),
                format: "CSV",
                message: format!("第{}行：{e}", self.records + 1),
            })?;
            if !more {
                return Ok(None);
            }
            self.records += 1;
            reset(cells, self.headers.len());
            for (cell, field) in cells.iter_mut().zip(self.record.iter()) {
                cell.push_str(field);
            }
            if !is_blank(cells) {
                return Ok(Some(self.records));
            }
        }
    }
}
