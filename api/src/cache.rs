//! What the server keeps in memory, keyed by what it was computed from: reports
//! ([`ReportCache`]: scope, kind, year, quarter, every county's scoring scheme (hash and
//! version) and the version of every table), rendered chart images ([`ImageCache`]) and the
//! quarters with topics of each scope ([`CoverageCache`]). A repeated view of an unchanged quarter is answered from here;
//! new data changes the versions and so the key, so nothing stale is ever served.
//! Concurrent requests for the same report compute it once (the others wait for that
//! result).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use ingest::{Scope, Table};
use tokio::sync::OnceCell;
use warehouse::Coverage;
use warehouse::analyses::{Report, ReportKind};

use crate::error::AppResult;

/// What a report was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReportKey {
    pub scope: Scope,
    pub kind: ReportKind,
    pub year: i32,
    pub quarter: Option<u32>,
    /// Every county's scheme (hash and catalog version) the report is computed with
    /// (`CountySchemes::key`): a new scheme version in force is a new key.
    pub schemes: String,
    pub versions: Vec<(Table, u64)>,
    /// The day a report that depends on today was computed for (the overdue list of a
    /// running period is judged as of today): tomorrow it is another report.
    pub today: Option<chrono::NaiveDate>,
}

type Slot = Arc<OnceCell<Arc<Report>>>;

/// A bounded cache of reports (oldest entries go first); with capacity 0 every report is
/// computed (`yishi serve --report-cache 0`, to time first answers).
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
            capacity,
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
        if self.capacity == 0 {
            self.misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return compute().await.map(Arc::new);
        }
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

/// Rendered chart images by (chart, format, scope, year, quarter, table versions); the
/// whole map starts afresh when full.
#[derive(Debug, Default)]
pub struct ImageCache {
    map: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl ImageCache {
    const CAPACITY: usize = 2048;

    pub fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    pub fn put(&self, key: String, bytes: Arc<Vec<u8>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(key, bytes);
    }
}

/// The quarters with topics of each scope asked about, kept while the table versions they
/// were read at are the latest.
#[derive(Debug, Default)]
pub struct CoverageCache {
    inner: Mutex<CoverageSeen>,
}

#[derive(Debug, Default)]
struct CoverageSeen {
    /// The table versions the coverage was read at.
    versions: BTreeMap<Table, u64>,
    scopes: HashMap<Scope, Coverage>,
}

impl CoverageCache {
    /// Scopes remembered between data changes (a platform has thousands of communities;
    /// the list starts afresh when full).
    const KEPT: usize = 4096;

    /// The coverage of `scope` read at `versions`, if known.
    pub fn get(&self, versions: &BTreeMap<Table, u64>, scope: &Scope) -> Option<Coverage> {
        let seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if &seen.versions == versions { seen.scopes.get(scope).cloned() } else { None }
    }

    /// Remembers the coverage of `scope` read at `versions` (forgetting that read at others).
    pub fn put(&self, versions: BTreeMap<Table, u64>, scope: Scope, coverage: Coverage) {
        let mut seen = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if seen.versions != versions || seen.scopes.len() >= Self::KEPT {
            *seen = CoverageSeen { versions, scopes: HashMap::new() };
        }
        seen.scopes.insert(scope, coverage);
    }
}
