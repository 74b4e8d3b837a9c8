//! The rejects file of a partial ingest: the rejected rows with the file's own headers and
//! a reason column, as UTF-8 CSV with a BOM so Excel opens it in Chinese correctly. The
//! clerk fixes the cells, deletes the reason column or leaves it (unknown columns are
//! ignored), and ingests the file again.

use std::io::Write;
use std::path::Path;

use crate::errors::IngestError;
use crate::validate::RejectedRow;

/// Header of the column that explains each rejected row.
pub const REASON_HEADER: &str = "错误原因";
/// Header of the column with the row number in the original file.
pub const ROW_HEADER: &str = "原文件行号";

/// Writes the rejects of one file as CSV bytes.
pub fn rejects_csv(headers: &[String], rejected: &[RejectedRow]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header_row: Vec<&str> = headers.iter().map(String::as_str).collect();
        header_row.push(ROW_HEADER);
        header_row.push(REASON_HEADER);
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&header_row);
        for r in rejected {
            let reasons: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
            let mut record: Vec<String> = r.cells.clone();
            record.push(r.row.to_string());
            record.push(reasons.join("；"));
            let _ = w.write_record(&record);
        }
        let _ = w.flush();
    }
    out
}

/// Writes the rejects file to `path`.
pub fn write_rejects(path: &Path, headers: &[String], rejected: &[RejectedRow]) -> Result<(), IngestError> {
    let bytes = rejects_csv(headers, rejected);
    let mut file = std::fs::File::create(path).map_err(|e| IngestError::io(path, e))?;
    file.write_all(&bytes).map_err(|e| IngestError::io(path, e))
}
