//! The batch log: who ingested which file into which table, when, with how many rows
//! accepted and rejected, and the table version it produced.
//!
//! A committed batch's record travels inside the Delta commit that wrote its rows (the
//! commit's `yishi.batch` metadata), so the record and the data appear together or not at
//! all, whatever moment the process is killed. Batches refused whole (strict mode with bad
//! rows, nothing written) are recorded in `_yishi/` (see [`append_refused`]).

use std::io::Write;

use serde::{Deserialize, Serialize};

use crate::errors::{Result, WarehouseError};
use crate::meta::Meta;

/// Key of the batch record in a Delta commit's metadata.
pub(crate) const COMMIT_KEY: &str = "yishi.batch";
const REFUSED_FILE: &str = "refused-batches.jsonl";
const REFUSED_DIR: &str = "refused";

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

/// Records a batch that wrote nothing: a line of `_yishi/refused-batches.jsonl` in a
/// local warehouse, an object of its own under `_yishi/refused/` in an object store
/// (objects cannot be appended to).
pub(crate) async fn append_refused(meta: &Meta, record: &BatchRecord) -> Result<()> {
    let mut line = serde_json::to_string(record).map_err(|e| WarehouseError::Metadata(e.to_string()))?;
    match meta {
        Meta::Folder(dir) => {
            std::fs::create_dir_all(dir).map_err(WarehouseError::io(dir.display()))?;
            let path = dir.join(REFUSED_FILE);
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(WarehouseError::io(path.display()))?;
            line.push('\n');
            file.write_all(line.as_bytes()).map_err(WarehouseError::io(path.display()))
        }
        Meta::Objects { .. } => {
            let name = format!("{REFUSED_DIR}/{}-{}.json", record.started_at, &record.file_sha256);
            meta.create(&name, line.as_bytes()).await
        }
    }
}

/// Reads the refused batches; a torn last line (a kill mid-append) is skipped.
pub(crate) async fn read_refused(meta: &Meta) -> Result<Vec<BatchRecord>> {
    match meta {
        Meta::Folder(_) => {
            let text = meta.read(REFUSED_FILE).await?.unwrap_or_default();
            Ok(String::from_utf8_lossy(&text).lines().filter_map(|l| serde_json::from_str(l).ok()).collect())
        }
        Meta::Objects { .. } => {
            let objects = meta.read_all(REFUSED_DIR).await?;
            Ok(objects.iter().filter_map(|o| serde_json::from_slice(o).ok()).collect())
        }
    }
}
