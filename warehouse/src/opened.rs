//! Delta snapshots the process has read, kept for the next report at the same versions.
//!
//! Reading a Delta log (listing it, parsing every commit's actions and file statistics)
//! was most of a one-county report in the server: each uncached report opened the six
//! tables and the quarter cells again at the versions it had just listed, ~90 ms of
//! ~100 at 2,000 communities. A version of a Delta table never changes, so a snapshot read
//! once serves every later report at that version; only sessions asked for exact versions
//! ([`Snapshot::Versions`](crate::Snapshot), what the server always asks) use it, so a
//! `Latest` read still sees another process's commit.
//!
//! The same holds for a snapshot's file list as a table ([`SnapshotFiles`]): made once per
//! table and version, whatever the session's scope (a scan chooses its files).
//!
//! Bounded: the [`KEPT`] newest versions of each table and of the cells (an ingest moves
//! a table on; reports at the older version — a frozen year, `as_of_version` — still hit
//! while it is among them).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use deltalake::DeltaTable;
use ingest::Table;

use crate::aggregates::Versions;
use crate::snapshot_files::SnapshotFiles;

/// Versions kept per table (and cell versions kept).
const KEPT: usize = 3;

/// File lists kept: [`KEPT`] versions of the six tables and of the cells.
const FILE_LISTS_KEPT: usize = 7 * KEPT;

/// The snapshots read so far (shared by the clones of a warehouse).
#[derive(Default)]
pub(crate) struct Opened {
    tables: Mutex<BTreeMap<(Table, u64), DeltaTable>>,
    cells: Mutex<Vec<(Versions, DeltaTable)>>,
    /// Snapshots' file lists as tables, by table URL and version, newest last.
    files: Mutex<Vec<((String, u64), Arc<SnapshotFiles>)>>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened").finish_non_exhaustive()
    }
}

impl Opened {
    /// `table` at `version`, if read before.
    pub(crate) fn table(&self, table: Table, version: u64) -> Option<DeltaTable> {
        self.tables.lock().ok()?.get(&(table, version)).cloned()
    }

    /// Keeps `t` (a snapshot of `table` at its version), dropping the table's oldest
    /// versions beyond [`KEPT`].
    pub(crate) fn keep_table(&self, table: Table, t: &DeltaTable) {
        let (Some(version), Ok(mut tables)) = (t.version(), self.tables.lock()) else { return };
        tables.insert((table, version), t.clone());
        let versions: Vec<u64> = tables.range((table, 0)..=(table, u64::MAX)).map(|((_, v), _)| *v).collect();
        for old in versions.iter().take(versions.len().saturating_sub(KEPT)) {
            tables.remove(&(table, *old));
        }
    }

    /// The file list of the table at `url` at `version`, if made before.
    pub(crate) fn files(&self, url: &str, version: u64) -> Option<Arc<SnapshotFiles>> {
        let files = self.files.lock().ok()?;
        files.iter().find(|((u, v), _)| u == url && *v == version).map(|(_, f)| f.clone())
    }

    /// Keeps the file list of the table at `url` at `version`, the oldest made dropped
    /// beyond [`FILE_LISTS_KEPT`].
    pub(crate) fn keep_files(&self, url: &str, version: u64, list: &Arc<SnapshotFiles>) {
        let Ok(mut files) = self.files.lock() else { return };
        files.retain(|((u, v), _)| !(u == url && *v == version));
        files.push(((url.to_string(), version), list.clone()));
        let excess = files.len().saturating_sub(FILE_LISTS_KEPT);
        files.drain(..excess);
    }

    /// The cells built from exactly `sources`, if read before.
    pub(crate) fn cells(&self, sources: &Versions) -> Option<DeltaTable> {
        let cells = self.cells.lock().ok()?;
        cells.iter().find(|(v, _)| v == sources).map(|(_, t)| t.clone())
    }

    /// Keeps the cells `t` built from `sources`, the oldest read dropped beyond [`KEPT`].
    pub(crate) fn keep_cells(&self, sources: &Versions, t: &DeltaTable) {
        let Ok(mut cells) = self.cells.lock() else { return };
        cells.retain(|(v, _)| v != sources);
        cells.push((sources.clone(), t.clone()));
        let excess = cells.len().saturating_sub(KEPT);
        cells.drain(..excess);
    }
}
