//! Reports as the server computes them: through the cache ([`report`]), within the limit
//! of queries at once and on the query threads, on the table versions read just before
//! ([`data_versions`]); and the years in which a scope has data ([`years`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use ingest::{Scope, Table};
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::{CountySchemes, Scheme, VersionedScheme};
use warehouse::{Coverage, Snapshot, Warehouse};

use crate::cache::ReportKey;
use crate::catalog::{FreezeRow, SchemeRow};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How a report is asked for: on which data (the latest, given table versions, or as at
/// a date) and whether the latest data replace a frozen year-end result (`latest`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Asked {
    pub snapshot: Snapshot,
    pub latest: bool,
}

/// [`report_at`] on the latest data (or the frozen result of a frozen year).
pub async fn report(
    state: &AppState,
    kind: ReportKind,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<Arc<Report>> {
    report_at(state, kind, scope, year, quarter, &Asked::default()).await
}

/// Computes a report through the cache, with each county's scheme in force for the
/// period (see [`schemes_for`]). The key holds the table versions to read (the latest,
/// read just now, unless asked otherwise) and every scheme's hash and version, and the
/// report is computed on exactly those. A frozen year's cadre or community assessment of a
/// county is read at its frozen versions and scheme unless `asked.latest`; `meta.notes`
/// says so, and whether newer data exist.
pub async fn report_at(
    state: &AppState,
    kind: ReportKind,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
    asked: &Asked,
) -> AppResult<Arc<Report>> {
    // A monthly report's period argument is its month; its schemes are those in force at
    // the end of the month's quarter.
    let quarter = quarter.filter(|_| kind.is_quarterly() || kind.is_monthly());
    let period_quarter = if kind.is_monthly() { quarter.map(|m| m.div_ceil(3)) } else { quarter };
    let frozen = frozen_of(state, kind, scope, year, asked).await?;
    let (snapshot, schemes) = match &frozen {
        Some(f) => (frozen_snapshot(f)?, frozen_schemes(state, f).await?),
        None => (asked.snapshot.clone(), schemes_for(state, scope, year, period_quarter).await?),
    };
    let versions = versions_of(state, &snapshot).await?;
    let report = cached(state, (kind, scope, year, quarter), &schemes, versions).await?;
    let mut notes = Vec::new();
    if let Some(f) = &frozen {
        let corrected = corrected_since(state, (kind, scope, year, quarter), &schemes, &report).await?;
        notes.push(frozen_note(f, corrected));
    } else if let Some(shown) = asked.snapshot.describe() {
        notes.push(format!("本结果{shown}，不是最新数据"));
    }
    if notes.is_empty() {
        return Ok(report);
    }
    let mut noted = (*report).clone();
    noted.meta.notes = notes;
    noted.meta.frozen = frozen.is_some();
    Ok(Arc::new(noted))
}

/// The report computed on exactly `versions` with `schemes`, through the cache.
async fn cached(
    state: &AppState,
    (kind, scope, year, quarter): (ReportKind, &Scope, i32, Option<u32>),
    schemes: &CountySchemes,
    versions: BTreeMap<Table, u64>,
) -> AppResult<Arc<Report>> {
    let key = ReportKey {
        scope: scope.clone(),
        kind,
        year,
        quarter,
        schemes: schemes.key(),
        versions: versions.iter().map(|(t, v)| (*t, *v)).collect(),
        today: (kind == ReportKind::Overdue).then(warehouse::analyses::overdue::today_in_china),
    };
    state
        .cache
        .get_or_compute(key, || async {
            let snapshot = Snapshot::Versions(versions.clone());
            let (warehouse, scope, schemes) = (state.warehouse.clone(), scope.clone(), schemes.clone());
            state
                .on_query_threads(async move {
                    Ok(warehouse.report_for_counties(kind, &scope, year, quarter, &schemes, &snapshot).await?)
                })
                .await
        })
        .await
}

/// Whether the data changed the frozen result since it was frozen: the same report, with
/// the frozen scheme, on the latest data has other rows in the caller's scope (an upload
/// of another county, or one that changed nothing here, is no correction of this result).
async fn corrected_since(
    state: &AppState,
    request: (ReportKind, &Scope, i32, Option<u32>),
    schemes: &CountySchemes,
    frozen: &Report,
) -> AppResult<bool> {
    let latest = data_versions(&state.warehouse).await?;
    let same_versions =
        frozen.meta.versions.iter().all(|(t, v)| Table::parse(t).and_then(|t| latest.get(&t)).is_none_or(|l| l == v));
    if same_versions {
        return Ok(false);
    }
    let now = cached(state, request, schemes, latest).await?;
    Ok(!now.same_rows(frozen))
}

/// The last day of the period, YYYY-MM-DD: a scheme in force from that day or earlier
/// applies to it.
pub fn period_end(year: i32, quarter: Option<u32>) -> String {
    match quarter {
        Some(1) => format!("{year:04}-03-31"),
        Some(2) => format!("{year:04}-06-30"),
        Some(3) => format!("{year:04}-09-30"),
        _ => format!("{year:04}-12-31"),
    }
}

/// Each county's scheme in force at the end of the period (the latest version in force
/// from that day or earlier); the contract's default where a county has none.
pub async fn schemes_for(state: &AppState, scope: &Scope, year: i32, quarter: Option<u32>) -> AppResult<CountySchemes> {
    let rows = state.catalog.schemes_in_force(&period_end(year, quarter), scope.county_code()).await?;
    let mut schemes = CountySchemes::default();
    for row in rows {
        schemes.counties.insert(row.county_code.clone(), versioned(&row)?);
    }
    Ok(schemes)
}

/// A stored scheme, parsed (it was checked when uploaded).
pub fn versioned(row: &SchemeRow) -> AppResult<VersionedScheme> {
    let origin = format!("县区 {} 的第{}版方案", row.county_code, row.version);
    let scheme = Scheme::from_toml_str(&row.toml, &origin).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(VersionedScheme { scheme, version: Some(row.version) })
}

/// The frozen year-end result a view of `kind` must show: a county's or community's
/// cadre or community assessment of a frozen year, on the latest data, not asked for the
/// latest.
async fn frozen_of(
    state: &AppState,
    kind: ReportKind,
    scope: &Scope,
    year: i32,
    asked: &Asked,
) -> AppResult<Option<FreezeRow>> {
    let assessment = matches!(kind, ReportKind::Cadres | ReportKind::Communities);
    match scope.county_code() {
        Some(county) if assessment && !asked.latest && asked.snapshot == Snapshot::Latest => {
            state.catalog.frozen(county, year).await
        }
        _ => Ok(None),
    }
}

fn frozen_snapshot(f: &FreezeRow) -> AppResult<Snapshot> {
    Snapshot::parse(Some(&f.versions), None).map_err(|e| AppError::Internal(format!("frozen versions: {e}")))
}

/// The county's scheme of a frozen result: the version it was frozen with.
async fn frozen_schemes(state: &AppState, f: &FreezeRow) -> AppResult<CountySchemes> {
    let mut schemes = CountySchemes::default();
    if let Some(version) = f.scheme_version {
        let row =
            state.catalog.scheme(&f.county_code, version).await?.ok_or_else(|| {
                AppError::Internal(format!("frozen scheme {version} of {} is missing", f.county_code))
            })?;
        schemes.counties.insert(f.county_code.clone(), versioned(&row)?);
    }
    Ok(schemes)
}

/// 「本结果为2025年度冻结结果（冻结于…）」, and, when the latest data give other figures,
/// that newer corrections exist and how to see them.
fn frozen_note(f: &FreezeRow, corrected: bool) -> String {
    let at = crate::catalog::beijing_time(f.frozen_at);
    let mut note = format!("本结果为{}年度冻结结果（冻结于{at}，{}）", f.year, f.frozen_by);
    if corrected {
        note.push_str("；其后数据已有更正，查看最新数据请在地址后加 latest=true（命令行加 --latest）");
    }
    note
}

/// The version of every table a snapshot reads: the latest, read now; given versions
/// (tables not named: the latest); or those current at a date.
pub async fn versions_of(state: &AppState, snapshot: &Snapshot) -> AppResult<BTreeMap<Table, u64>> {
    let mut latest = data_versions(&state.warehouse).await?;
    match snapshot {
        Snapshot::Latest => Ok(latest),
        Snapshot::Versions(given) => {
            for (table, v) in given {
                match latest.get(table) {
                    Some(last) if v <= last => {}
                    last => {
                        let had = last.map_or_else(|| "还没有数据".to_string(), |l| format!("最新为第 {l} 版"));
                        return Err(AppError::bad_request(
                            "bad_as_of",
                            format!("as_of_version 中 {} 表的第 {v} 版不存在（{had}）", table.name()),
                        ));
                    }
                }
            }
            latest.extend(given.iter().map(|(t, v)| (*t, *v)));
            Ok(latest)
        }
        Snapshot::AsOf(at) => {
            let (warehouse, snapshot) = (state.warehouse.clone(), snapshot.clone());
            let day = at.format("%Y-%m-%d").to_string();
            state
                .on_query_threads(async move {
                    // A date before a table's first commit has no version to read.
                    let session = warehouse.session(&Scope::Platform, &snapshot).await.map_err(|e| {
                        tracing::debug!(error = %e, "as_of before the data");
                        AppError::bad_request("bad_as_of", format!("as_of：{day} 结束时仓库中还没有数据可读"))
                    })?;
                    Ok(session.versions.iter().filter_map(|(name, v)| Table::parse(name).map(|t| (t, *v))).collect())
                })
                .await
        }
    }
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

/// The quarters in which the scope has topics, in order.
pub async fn quarters_with_data(state: &AppState, scope: &Scope) -> AppResult<Vec<(i32, u32)>> {
    Ok(coverage(state, scope).await?.quarters)
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

/// The latest version of every table, from the names in the Delta logs
/// (`Warehouse::latest_versions`: a listing, not a table open, local or in object storage).
pub async fn data_versions(wh: &Warehouse) -> AppResult<BTreeMap<Table, u64>> {
    Ok(wh.latest_versions().await?)
}
