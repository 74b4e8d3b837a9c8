//! JSON lines: one object per line, keyed by column name or Chinese alias.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{RowSource, reset};
use crate::errors::IngestError;

pub(crate) struct JsonLines<'a> {
    path: PathBuf,
    headers: Vec<String>,
    /// Each header's position, so a line's keys are found without a scan per key.
    positions: std::collections::HashMap<String, usize>,
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
}

impl<'a> JsonLines<'a> {
    /// Headers are the keys in order of first appearance over the whole file, since a
    /// line may leave out its empty optional values.
    pub(crate) fn open(text: &'a str, path: &Path) -> Result<Self, IngestError> {
        let mut headers: Vec<String> = Vec::new();
        let mut positions = std::collections::HashMap::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            for key in parse_object(line, index + 1, path)?.keys() {
                if !positions.contains_key(key) {
                    positions.insert(key.clone(), headers.len());
                    headers.push(key.clone());
                }
            }
            // The same bound as a sheet's columns: a ledger has about fifteen.
            if headers.len() > super::xlsx::MAX_COLUMNS as usize {
                return Err(IngestError::Malformed {
                    path: path.to_path_buf(),
                    format: "JSON lines",
                    message: format!(
                        "到第{}行为止出现了 {} 个不同的键，超过上限 {} 个；台账每行只应有表中的各列",
                        index + 1,
                        headers.len(),
                        super::xlsx::MAX_COLUMNS
                    ),
                });
            }
        }
        if headers.is_empty() {
            return Err(IngestError::NoHeader { path: path.to_path_buf() });
        }
        Ok(JsonLines { path: path.to_path_buf(), headers, positions, lines: text.lines().enumerate() })
    }
}

fn parse_object(line: &str, number: usize, path: &Path) -> Result<Map<String, Value>, IngestError> {
    let malformed =
        |message: String| IngestError::Malformed { path: path.to_path_buf(), format: "JSON lines", message };
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(malformed(format!("第{number}行不是 JSON 对象"))),
        Err(e) => Err(malformed(format!("第{number}行：{e}"))),
    }
}

impl RowSource for JsonLines<'_> {
    fn headers(&self) -> &[String] {
        &self.headers
    }

    fn next_row(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>, IngestError> {
        for (index, line) in self.lines.by_ref() {
            if line.trim().is_empty() {
                continue;
            }
            let object = parse_object(line, index + 1, &self.path)?;
            reset(cells, self.headers.len());
            for (key, value) in object {
                if let Some(&i) = self.positions.get(&key) {
                    write_value(&mut cells[i], &value);
                }
            }
            return Ok(Some(index + 1));
        }
        Ok(None)
    }
}

fn write_value(cell: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(s) => cell.push_str(s),
        Value::Array(items) => {
            let parts: Vec<String> =
                items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect();
            cell.push_str(&parts.join(";"));
        }
        other => cell.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::JsonLines;

    #[test]
    fn a_line_with_thousands_of_keys_is_refused() {
        let keys: Vec<String> = (0..5000).map(|i| format!("\"k{i}\": 1")).collect();
        let text = format!("{{\"community_code\": \"141026100001\"}}\n{{{}}}\n", keys.join(", "));
        let Err(e) = JsonLines::open(&text, std::path::Path::new("x.jsonl")) else { panic!("accepted") };
        let message = e.to_string();
        assert!(message.contains("第2行") && message.contains("上限 256"), "{message}");
    }
}
