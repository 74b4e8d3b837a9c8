//! CSV for spreadsheets: UTF-8 with a BOM (Excel on Chinese Windows then opens it in the
//! right encoding), a header row, every cell as stored ([`text::plain`]: full-precision
//! numbers, nulls empty), and every header and cell made safe from spreadsheet formulas
//! ([`ingest::spreadsheet_safe`]: a cell beginning with `=`, `+`, `-` or `@` that is no
//! number gets a leading `'`).

use warehouse::analyses::Report;
use warehouse::arrow::record_batch::RecordBatch;

use super::{EncodingError, text};

/// Query results (or any batches) under `headers`.
pub fn batches<H: AsRef<str>>(headers: &[H], batches: &[RecordBatch]) -> Result<Vec<u8>, EncodingError> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = ::csv::Writer::from_writer(&mut out);
        w.write_record(headers.iter().map(|h| safe(h.as_ref().to_string())))?;
        for batch in batches {
            for row in 0..batch.num_rows() {
                w.write_record(batch.columns().iter().map(|a| safe(text::plain(a, row))))?;
            }
        }
        w.flush()?;
    }
    Ok(out)
}

/// A report as people read it, under its Chinese headers (as `yishi report --format csv`
/// and the API's `?format=csv` write it): labels instead of tokens
/// ([`text::for_people_columns`]), yes/no as 是/否, numbers at full precision.
pub fn report(report: &Report) -> Result<Vec<u8>, EncodingError> {
    let shown = text::for_people_columns(&report.columns);
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = ::csv::Writer::from_writer(&mut out);
        w.write_record(shown.iter().map(|i| safe(report.columns[*i].chinese.to_string())))?;
        for batch in &report.batches {
            for row in 0..batch.num_rows() {
                w.write_record(
                    shown.iter().map(|i| safe(text::spreadsheet(batch.column(*i), row, report.columns[*i].kind))),
                )?;
            }
        }
        w.flush()?;
    }
    Ok(out)
}

/// The text, or the text with a leading `'` when a spreadsheet would run it as a formula.
fn safe(text: String) -> String {
    match ingest::spreadsheet_safe(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(safe) => safe,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use warehouse::arrow::array::{ArrayRef, Float64Array, StringArray};
    use warehouse::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[test]
    fn a_bom_headers_and_no_formulas() {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("=SUM(A1)"), Some("-3"), None, Some("@x")])),
            Arc::new(Float64Array::from(vec![Some(0.1 + 0.2), Some(-1.5), None, Some(2.0)])),
        ];
        let schema = Schema::new(vec![Field::new("a", DataType::Utf8, true), Field::new("b", DataType::Float64, true)]);
        let batch = RecordBatch::try_new(Arc::new(schema), columns).expect("batch");
        let bytes = batches(&["=名称", "得分"], &[batch]).expect("csv");
        assert_eq!(
            String::from_utf8(bytes).expect("utf8"),
            "\u{feff}'=名称,得分\n'=SUM(A1),0.30000000000000004\n-3,-1.5\n,\n'@x,2.0\n"
        );
    }
}
