//! The routes: the JSON API (`api`), the dashboards (`pages`), and what both share —
//! computing reports through the cache within the query limit, the years with data, and
//! copying places into the catalog.

pub mod api;
pub mod encode;
pub mod pages;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use ingest::{Scope, Table};
use serde::Deserialize;
use warehouse::Snapshot;
use warehouse::analyses::{Report, ReportKind};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Int64Type};
use warehouse::scheme::Scheme;

use crate::AppState;
use crate::cache::{ReportKey, data_versions};
use crate::error::{AppError, AppResult};

/// Every route of the server.
pub fn routes(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX));
    let api = Router::new()
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/ingest/{table}", post(api::ingest).layer(upload_limit))
        .route("/api/v1/reports/{kind}", get(api::report))
        .route("/api/v1/charts/{file}", get(api::chart))
        .route("/api/v1/sql", post(api::sql))
        .route("/api/v1/batches", get(api::batches))
        .route("/api/v1/batches/{id}", get(api::batch))
        .route("/api/v1/batches/{id}/rejects.csv", get(api::batch_rejects))
        .route("/api/v1/audit", get(api::audit))
        .route("/healthz", get(api::healthz));
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/overview", get(pages::overview))
        .route("/quarterly", get(pages::quarterly))
        .route("/cadres", get(pages::cadres))
        .route("/counties", get(pages::counties))
        .route("/community", get(pages::community))
        .route("/upload", get(pages::upload_form).post(pages::upload).layer(upload_limit));
    api.merge(pages).fallback(api::not_found).with_state(state)
}

/// The period and place filters every report, chart and page takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// Empty or absent: the latest year with data.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub year: Option<i32>,
    /// 1–4; empty or absent: the whole year.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub quarter: Option<u32>,
    pub county: Option<String>,
    pub community: Option<String>,
}

/// `?quarter=` (an empty select) means none.
fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("“{t}”不是有效的数字"))),
    }
}

/// A query string as `T`; a malformed one is a JSON 400 `bad_query`.
#[derive(Debug, Clone, Default)]
pub struct Q<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Q<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Q<T>, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Q)
            .map_err(|e| AppError::bad_request("bad_query", format!("查询参数有误：{e}")))
    }
}

impl Filters {
    pub fn check(&self) -> AppResult<()> {
        if let Some(q) = self.quarter.filter(|q| !(1..=4).contains(q)) {
            return Err(AppError::bad_request("bad_quarter", format!("季度应为 1–4，收到 {q}")));
        }
        if let Some(y) = self.year.filter(|y| !(1990..=2200).contains(y)) {
            return Err(AppError::bad_request("bad_year", format!("年度“{y}”无效")));
        }
        Ok(())
    }
}

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
        quarter: quarter.filter(|_| kind.is_quarterly()),
        scheme_hash: scheme.hash(),
        versions: versions.iter().map(|(t, v)| (*t, *v)).collect(),
    };
    state
        .cache
        .get_or_compute(key, || async {
            let _permit = state.queries.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
            let snapshot = Snapshot::Versions(versions.clone());
            let (warehouse, scope) = (state.warehouse.clone(), scope.clone());
            state
                .query_runtime
                .run(async move { Ok(warehouse.report(kind, &scope, year, quarter, &scheme, &snapshot).await?) })
                .await
        })
        .await
}

/// Years in which the scope has topics, newest last; the current year when there are
/// none. Which years hold data is the scope's own: another county's first year is not.
pub async fn years(state: &AppState, scope: &Scope) -> AppResult<Vec<i32>> {
    let versions = data_versions(&state.warehouse).await?;
    {
        let known = state.years.lock().unwrap_or_else(|e| e.into_inner());
        if known.0 == versions
            && let Some(years) = known.1.get(scope)
        {
            return Ok(years.clone());
        }
    }
    let sql = "SELECT DISTINCT CAST(date_part('year', raised_on) AS BIGINT) AS y FROM topics ORDER BY y";
    let result = state.query(scope, sql).await?;
    let mut years = Vec::new();
    for batch in &result.batches {
        let column = batch.column(0);
        if column.data_type() == &DataType::Int64 {
            let a = column.as_primitive::<Int64Type>();
            years.extend((0..a.len()).filter(|i| a.is_valid(*i)).filter_map(|i| i32::try_from(a.value(i)).ok()));
        }
    }
    if years.is_empty() {
        years.push(chrono::Datelike::year(&chrono::Utc::now()));
    }
    let mut known = state.years.lock().unwrap_or_else(|e| e.into_inner());
    if known.0 != versions || known.1.len() >= YEARS_KEPT {
        *known = (versions, Default::default());
    }
    known.1.insert(scope.clone(), years.clone());
    Ok(years)
}

/// Scopes whose years are remembered between data changes (a platform has thousands of
/// communities; the list starts afresh when full).
const YEARS_KEPT: usize = 4096;

/// The year asked for, or the latest year with data.
pub async fn year_or_latest(state: &AppState, scope: &Scope, year: Option<i32>) -> AppResult<i32> {
    match year {
        Some(y) => Ok(y),
        None => Ok(years(state, scope).await?.last().copied().unwrap_or(2025)),
    }
}

/// Copies counties and communities from the warehouse's communities table into the catalog.
pub async fn sync_places(state: &AppState) -> AppResult<usize> {
    let sql = "SELECT DISTINCT community_code, community_name, county_code, county_name FROM communities";
    let result = state.query(&Scope::Platform, sql).await?;
    let mut counties = BTreeMap::new();
    let mut n = 0;
    for batch in &result.batches {
        let text = |i: usize, row: usize| -> String {
            warehouse::arrow::util::display::array_value_to_string(batch.column(i), row).unwrap_or_default()
        };
        for row in 0..batch.num_rows() {
            let (code, name, county, county_name) = (text(0, row), text(1, row), text(2, row), text(3, row));
            counties.insert(county.clone(), county_name);
            state.catalog.upsert_community(&code, &county, &name).await?;
            n += 1;
        }
    }
    for (code, name) in counties {
        state.catalog.upsert_county(&code, &name).await?;
    }
    Ok(n)
}

/// A table named in a path (`communities`, `社区`, …).
pub fn table_of(name: &str) -> AppResult<Table> {
    Table::parse(name).ok_or_else(|| {
        AppError::not_found(format!(
            "没有“{name}”表；可用：communities、cadres、sessions、topics、evaluations、rectifications"
        ))
    })
}
