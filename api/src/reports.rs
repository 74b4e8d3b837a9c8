//! Reports as the server computes them: through the cache ([`report`]), within the limit
//! of queries at once and on the query threads, on the table versions read just before
//! ([`data_versions`]); and the years in which a scope has data ([`years`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use ingest::{Scope, Table};
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;
use warehouse::{Coverage, Snapshot, Warehouse};

use crate::cache::ReportKey;
use crate::error::AppResult;
use crate::state::AppState;

/// Computes a report through the cache: the key holds the table versions read just now,
/// and the report is computed on exactly those versions.
pub async fn report(
    state: &AppState,
    kind: ReportKind,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<Arc<Report>> {
    let scheme = Scheme::default();
    let versions = data_versions(&state.warehouse).await?;
    let key = ReportKey {
        scope: scope.clone(),
        kind,
        year,
        quarter: quarter.filter(|_| kind.is_quarterly() || kind.is_monthly()),
        scheme_hash: scheme.hash(),
        versions: versions.iter().map(|(t, v)| (*t, *v)).collect(),
        today: (kind == ReportKind::Overdue).then(warehouse::analyses::overdue::today_in_china),
    };
    state
        .cache
        .get_or_compute(key, || async {
            let snapshot = Snapshot::Versions(versions.clone());
            let (warehouse, scope) = (state.warehouse.clone(), scope.clone());
            state
                .on_query_threads(async move {
                    Ok(warehouse.report(kind, &scope, year, quarter, &scheme, &snapshot).await?)
                })
                .await
        })
        .await
}

/// Years in which the scope has topics, newest last; the current year when there are
/// none. Which years hold data is the scope's own: another county's first year is not.
pub async fn years(state: &AppState, scope: &Scope) -> AppResult<Vec<i32>> {
    let mut years = coverage(state, scope).await?.years();
    if years.is_empty() {
        years.push(chrono::Datelike::year(&chrono::Utc::now()));
    }
    Ok(years)
}

/// The quarters in which the scope has topics, read once per scope while the tables stay
/// at the same versions: every page and report asks (for its year list and the empty
/// period notice), so it must not scan the topics each time.
async fn coverage(state: &AppState, scope: &Scope) -> AppResult<Coverage> {
    let versions = data_versions(&state.warehouse).await?;
    if let Some(coverage) = state.coverage.get(&versions, scope) {
        return Ok(coverage);
    }
    let (warehouse, asked) = (state.warehouse.clone(), scope.clone());
    let coverage = state.on_query_threads(async move { Ok(warehouse.coverage(&asked).await?) }).await?;
    state.coverage.put(versions, scope.clone(), coverage.clone());
    Ok(coverage)
}

/// Refuses (400 `unknown_code`) a county or community the warehouse does not know, when
/// the request named one (an account's own scope is not looked up again).
pub async fn check_named(state: &AppState, scope: &Scope, named: bool) -> AppResult<()> {
    if !named || matches!(scope, Scope::Platform) {
        return Ok(());
    }
    let (warehouse, scope) = (state.warehouse.clone(), scope.clone());
    state.on_query_threads(async move { Ok(warehouse.check_scope(&scope).await?) }).await
}

/// "2019年该范围内没有议题；有议题的年份：…" when the period has no topics in the scope.
pub async fn empty_notice(
    state: &AppState,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<Option<String>> {
    Ok(coverage(state, scope).await?.empty_notice(year, quarter))
}

/// The year asked for, or the latest year with data.
pub async fn year_or_latest(state: &AppState, scope: &Scope, year: Option<i32>) -> AppResult<i32> {
    match year {
        Some(y) => Ok(y),
        None => Ok(years(state, scope).await?.last().copied().unwrap_or(2025)),
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
