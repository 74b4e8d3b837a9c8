//! Printing query results and reports: a table for people, CSV or JSON for scripts (the
//! cells encoded by `dashboards::encoding`, as the server encodes them).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{Table as TextTable, presets::UTF8_FULL_CONDENSED};
use dashboards::encoding::{csv, json, text};
use warehouse::arrow::record_batch::RecordBatch;

use crate::cli::OutputFormat;

/// Renders `batches` in `format`; `headers` are the display names of the columns (for
/// table and CSV output; JSON keeps the column names).
pub(crate) fn render(batches: &[RecordBatch], headers: &[String], format: OutputFormat) -> Result<Vec<u8>> {
    match format {
        OutputFormat::Table => Ok(table(batches, headers).into_bytes()),
        OutputFormat::Csv => Ok(csv::batches(headers, batches)?),
        OutputFormat::Json => Ok(serde_json::to_vec_pretty(&json::objects(batches))?),
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
            t.add_row(batch.columns().iter().map(|c| text::for_people(c, row)).collect::<Vec<_>>());
        }
    }
    t.to_string()
}
