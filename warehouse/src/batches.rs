//! The batch log: who ingested which file into which table, when, with how many rows
//! accepted and rejected, and the table version it produced.
//!
//! A committed batch's record travels inside the Delta commit that wrote its rows (the
//! commit's `yishi.batch` metadata), so the record and the data appear together or not at
//! all, whatever moment the process is killed. Batches refused whole (strict mode with bad
//! rows, nothing written) are appended to `_yishi/refused-batches.jsonl`.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::errors::{Result, WarehouseError};

/// Key of the batch record in a Delta commit's metadata.
pub(crate) const COMMIT_KEY: &str = "yishi.batch";
const REFUSED_FILE: &str = "refused-batches.jsonl";

/// One ingest of one file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchRecord {
    pub table: String,
    /// Who ingested: a user name or an account.
    pub user: String,
    /// The scope the batch was ingested in ("platform", "county 141026", …).
    pub scope: String,
    pub file_name: String,
    pub file_sha256: String,
    /// When the batch was started, RFC 3339.
    pub started_at: String,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    /// Rows new to the table and rows that replaced an older version of their key.
    pub rows_inserted: usize,
    pub rows_updated: usize,
    /// Rows whose key was in the table with every value the same (nothing rewritten).
    /// Absent from records written before it was counted.
    #[serde(default)]
    pub rows_unchanged: usize,
    /// The table version this batch produced; `None` when nothing was written.
    pub version: Option<u64>,
    /// "committed", "refused" (strict mode, bad rows) or "unchanged" (same file again).
    pub outcome: String,
}

/// Appends the record of a batch that wrote nothing.
pub(crate) fn append_refused(meta_dir: &Path, record: &BatchRecord) -> Result<()> {
    std::fs::create_dir_all(meta_dir).map_err(WarehouseError::io(meta_dir.display()))?;
    let path = meta_dir.join(REFUSED_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(WarehouseError::io(path.display()))?;
    let mut line = serde_json::to_string(record).map_err(|e| WarehouseError::Metadata(e.to_string()))?;
    line.push('\n');
    file.write_all(line.as_bytes()).map_err(WarehouseError::io(path.display()))
}

/// Reads the refused batches; a torn last line (a kill mid-append) is skipped.
pub(crate) fn read_refused(meta_dir: &Path) -> Result<Vec<BatchRecord>> {
    let path = meta_dir.join(REFUSED_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(WarehouseError::io(path.display())(e)),
    };
    Ok(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
}
