//! Printing query results and reports: a table for people, CSV or JSON for scripts.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{Table as TextTable, presets::UTF8_FULL_CONDENSED};
use warehouse::arrow::array::{Array, ArrayRef, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, UInt64Type};
use warehouse::arrow::record_batch::RecordBatch;

use crate::cli::OutputFormat;

/// Renders `batches` in `format`; `headers` are the display names of the columns (for
/// table and CSV output; JSON keeps the column names).
pub(crate) fn render(batches: &[RecordBatch], headers: &[String], format: OutputFormat) -> Result<Vec<u8>> {
    match format {
        OutputFormat::Table => Ok(table(batches, headers).into_bytes()),
        OutputFormat::Csv => csv(batches, headers),
        OutputFormat::Json => json(batches),
        OutputFormat::Xlsx => anyhow::bail!("此命令不支持 xlsx 输出，请用 table、csv 或 json"),
    }
}

/// Writes to `out` or stdout.
pub(crate) fn emit(bytes: &[u8], out: Option<&Path>) -> Result<()> {
    match out {
        Some(path) => std::fs::write(path, bytes).with_context(|| format!("无法写入 {}", path.display())),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            if !bytes.ends_with(b"\n") {
                stdout.write_all(b"\n")?;
            }
            Ok(())
        }
    }
}

/// An empty text table with the CLI's look and these headers.
pub(crate) fn text_table<S: ToString>(headers: impl IntoIterator<Item = S>) -> TextTable {
    let mut t = TextTable::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(headers.into_iter().map(|h| h.to_string()).collect::<Vec<_>>());
    t
}

fn table(batches: &[RecordBatch], headers: &[String]) -> String {
    let mut t = text_table(headers);
    for batch in batches {
        for row in 0..batch.num_rows() {
            t.add_row(batch.columns().iter().map(|c| cell(c, row, true)).collect::<Vec<_>>());
        }
    }
    t.to_string()
}

fn csv(batches: &[RecordBatch], headers: &[String]) -> Result<Vec<u8>> {
    // A BOM so that Excel on Chinese Windows opens the UTF-8 file with the right encoding.
    let mut out = vec![0xEF, 0xBB, 0xBF];
    {
        let mut w = ::csv::Writer::from_writer(&mut out);
        w.write_record(headers.iter().map(|h| ingest::spreadsheet_safe(h).into_owned()))?;
        for batch in batches {
            for row in 0..batch.num_rows() {
                // A cell a spreadsheet would run as a formula is written as text.
                w.write_record(
                    batch.columns().iter().map(|c| ingest::spreadsheet_safe(&cell(c, row, false)).into_owned()),
                )?;
            }
        }
        w.flush()?;
    }
    Ok(out)
}

/// An array of row objects keyed by column name, nulls as `null`.
fn json(batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut rows = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            let mut object = serde_json::Map::new();
            for (field, column) in schema.fields().iter().zip(batch.columns()) {
                object.insert(field.name().clone(), json_value(column, row));
            }
            rows.push(serde_json::Value::Object(object));
        }
    }
    Ok(serde_json::to_vec_pretty(&rows)?)
}

fn json_value(column: &ArrayRef, row: usize) -> serde_json::Value {
    use serde_json::Value;
    if column.is_null(row) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Int64 => Value::from(column.as_primitive::<Int64Type>().value(row)),
        DataType::Int32 => Value::from(column.as_primitive::<Int32Type>().value(row)),
        DataType::UInt64 => Value::from(column.as_primitive::<UInt64Type>().value(row)),
        DataType::Float64 => serde_json::Number::from_f64(column.as_primitive::<Float64Type>().value(row))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        DataType::Boolean => Value::Bool(column.as_boolean().value(row)),
        _ => Value::String(cell(column, row, false)),
    }
}

/// A cell as text; nulls as "—" for people, empty for CSV.
fn cell(column: &ArrayRef, row: usize, for_people: bool) -> String {
    if column.is_null(row) {
        return if for_people { "—".into() } else { String::new() };
    }
    match column.data_type() {
        DataType::Float64 if for_people => {
            let v = column.as_primitive::<Float64Type>().value(row);
            format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => warehouse::arrow::util::display::array_value_to_string(column, row).unwrap_or_default(),
    }
}
