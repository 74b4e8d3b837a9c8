//! Computed reports kept in memory, keyed by what they were computed from: scope, kind,
//! year, quarter, scoring-scheme hash and the version of every table. A repeated view of
//! an unchanged quarter is answered from here; new data changes the versions and so the
//! key, so nothing stale is ever served. Concurrent requests for the same key compute it
//! once (the others wait for that result).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ingest::{Scope, Table};
use tokio::sync::OnceCell;
use warehouse::analyses::{Report, ReportKind};
use warehouse::{Snapshot, Warehouse};

use crate::error::AppResult;

/// What a report was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportKey {
    pub scope: Scope,
    pub kind: ReportKind,
    pub year: i32,
    pub quarter: Option<u32>,
    pub scheme_hash: String,
    pub versions: Vec<(Table, u64)>,
}

type Slot = Arc<OnceCell<Arc<Report>>>;

/// A bounded cache of reports (oldest entries go first).
#[derive(Debug)]
pub struct ReportCache {
    capacity: usize,
    inner: Mutex<Entries>,
    hits: std::sync::atomic::AtomicU64,
    misses: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<ReportKey, Slot>,
    order: VecDeque<ReportKey>,
}

impl ReportCache {
    pub fn new(capacity: usize) -> ReportCache {
        ReportCache {
            capacity: capacity.max(1),
            inner: Mutex::new(Entries::default()),
            hits: Default::default(),
            misses: Default::default(),
        }
    }

    /// The report for `key`, computed by `compute` when absent.
    pub async fn get_or_compute<F, Fut>(&self, key: ReportKey, compute: F) -> AppResult<Arc<Report>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = AppResult<Report>>,
    {
        let slot = {
            let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = entries.map.get(&key) {
                slot.clone()
            } else {
                let slot: Slot = Arc::new(OnceCell::new());
                entries.map.insert(key.clone(), slot.clone());
                entries.order.push_back(key.clone());
                while entries.order.len() > self.capacity {
                    if let Some(old) = entries.order.pop_front() {
                        entries.map.remove(&old);
                    }
                }
                slot
            }
        };
        if let Some(report) = slot.get() {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Ok(report.clone());
        }
        let result = slot
            .get_or_try_init(|| async {
                self.misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                compute().await.map(Arc::new)
            })
            .await
            .cloned();
        if result.is_err() {
            // Do not keep a failed computation's slot.
            let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            if entries.map.get(&key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
                entries.map.remove(&key);
                entries.order.retain(|k| k != &key);
            }
        }
        result
    }

    /// Reports computed (misses) and served from the cache (hits) so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.misses.load(std::sync::atomic::Ordering::Relaxed), self.hits.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// The latest version of every table. On a local warehouse this lists the Delta logs
/// (a directory listing per table, no log replay); elsewhere it opens a session.
pub async fn data_versions(wh: &Warehouse) -> AppResult<BTreeMap<Table, u64>> {
    if let Some(dir) = wh.location().local_dir() {
        let mut out = BTreeMap::new();
        for table in Table::ALL {
            if let Some(v) = latest_log_version(&dir.join(table.name()).join("_delta_log")) {
                out.insert(table, v);
            }
        }
        if out.len() == Table::ALL.len() {
            return Ok(out);
        }
    }
    let session = wh.session(&Scope::Platform, &Snapshot::Latest).await?;
    Ok(session.versions.iter().filter_map(|(name, v)| Table::parse(name).map(|t| (t, *v))).collect())
}

/// The highest commit number in a Delta log folder (`00000000000000000007.json`, or a
/// checkpoint of that version).
fn latest_log_version(dir: &std::path::Path) -> Option<u64> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".json").or_else(|| name.strip_suffix(".checkpoint.parquet"))?;
            (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse::<u64>().ok())?
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_versions() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(latest_log_version(dir.path()), None);
        for name in ["00000000000000000000.json", "00000000000000000003.json", "_commit_x.json.tmp", "x.json"] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        assert_eq!(latest_log_version(dir.path()), Some(3));
    }
}
