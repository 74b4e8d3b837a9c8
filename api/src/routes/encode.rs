//! Output encodings: a report as CSV (Chinese headers, as `yishi report --format csv`),
//! query results as JSON rows or CSV, and download headers.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use warehouse::analyses::Report;
use warehouse::arrow::array::{Array, ArrayRef, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, UInt64Type};
use warehouse::arrow::record_batch::RecordBatch;

use crate::error::{AppError, AppResult};

/// A report as CSV: UTF-8 with a BOM (Excel opens it in Chinese), Chinese headers,
/// full-precision numbers.
pub fn report_csv(report: &Report) -> AppResult<Vec<u8>> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(report.columns.iter().map(|c| c.chinese)).map_err(internal)?;
        for batch in &report.batches {
            for row in 0..batch.num_rows() {
                w.write_record(batch.columns().iter().map(|a| safe(raw(a, row)))).map_err(internal)?;
            }
        }
        w.flush().map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(out)
}

/// Query results as CSV with the column names as headers.
pub fn batches_csv(columns: &[String], batches: &[RecordBatch]) -> AppResult<Vec<u8>> {
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(columns.iter().map(|c| safe(c.clone()))).map_err(internal)?;
        for batch in batches {
            for row in 0..batch.num_rows() {
                w.write_record(batch.columns().iter().map(|a| safe(raw(a, row)))).map_err(internal)?;
            }
        }
        w.flush().map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(out)
}

/// Query results as JSON arrays of cells (numbers as numbers, null as null).
pub fn batches_json(batches: &[RecordBatch], max_rows: usize) -> (Vec<Vec<serde_json::Value>>, bool) {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            if rows.len() >= max_rows {
                return (rows, true);
            }
            rows.push(batch.columns().iter().map(|a| cell(a, row)).collect());
        }
    }
    (rows, false)
}

fn cell(array: &ArrayRef, row: usize) -> serde_json::Value {
    use serde_json::Value;
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Int64 => Value::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::UInt64 => Value::from(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float64 => serde_json::Number::from_f64(array.as_primitive::<Float64Type>().value(row))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        DataType::Boolean => Value::from(array.as_boolean().value(row)),
        _ => Value::from(raw(array, row)),
    }
}

fn raw(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    warehouse::arrow::util::display::array_value_to_string(array, row).unwrap_or_default()
}

/// A CSV cell a spreadsheet will not run as a formula (see [`ingest::spreadsheet_safe`]).
fn safe(text: String) -> String {
    match ingest::spreadsheet_safe(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(safe) => safe,
    }
}

fn internal(e: csv::Error) -> AppError {
    AppError::Internal(e.to_string())
}

/// A file download: content type and `Content-Disposition` with an ASCII name and the
/// Chinese name (RFC 5987).
pub fn download(bytes: Vec<u8>, content_type: &'static str, ascii_name: &str, chinese_name: &str) -> Response {
    let disposition =
        format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}", crate::auth::urlencode(chinese_name));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PNG: &str = "image/png";
pub const SVG: &str = "image/svg+xml";
