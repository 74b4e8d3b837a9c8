//! The JSON API under `/api/v1`: every handler takes the [`Caller`], narrows its scope by
//! the request's filters, calls the server's scoped work (reports, charts, uploads, SQL)
//! and answers in the format asked for.

use axum::Json;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dashboards::charts::{ChartFormat, ChartName};
use dashboards::encoding::{csv, json};
use serde::{Deserialize, Serialize};
use warehouse::IngestOutcome;

use super::download::{self, download};
use super::params::{Filters, Q, report_kind, table_of};
use crate::accounts::Account;
use crate::auth::{Caller, narrow};
use crate::catalog::BatchRow;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::{charts, reports, uploads};

pub async fn healthz(State(state): State<AppState>) -> Response {
    let catalog = state.catalog.ping().await.is_ok();
    let (computed, cached) = state.cache.stats();
    let mut tables = serde_json::Map::new();
    let mut all_readable = true;
    for (table, health) in state.warehouse.health().await {
        let shown = match health {
            Ok(Some(_)) => "ok".to_string(),
            Ok(None) => "not_initialised".to_string(),
            Err(e) => {
                tracing::error!(table = table.name(), error = %e, "a table cannot be read");
                all_readable = false;
                format!("无法读取（{}表的 Delta 日志损坏或缺失，请联系管理员）", table.chinese())
            }
        };
        tables.insert(table.name().to_string(), serde_json::Value::String(shown));
    }
    let ok = catalog && all_readable;
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "degraded" },
        "catalog": if catalog { "ok" } else { "unavailable" },
        "tables": tables,
        "reports_computed": computed,
        "reports_from_cache": cached,
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

pub async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

pub async fn not_found() -> AppError {
    AppError::not_found("没有这个地址")
}

/// Who the token or session belongs to.
pub async fn me(Caller(account): Caller) -> Json<Account> {
    Json(account)
}

// ---- ingest --------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct IngestQuery {
    #[serde(default)]
    pub partial: bool,
    pub sheet: Option<String>,
    /// File name of a raw-body upload (its extension picks the reader).
    pub filename: Option<String>,
}

/// `POST /api/v1/ingest/{table}`: a multipart form with a file field, or the file as the
/// raw body (`?filename=` names it).
pub async fn ingest(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(table): UrlPath<String>,
    Q(query): Q<IngestQuery>,
    request: Request,
) -> AppResult<Response> {
    let table = table_of(&table)?;
    let upload = uploads::read_upload(&state, request).await?;
    let name = upload.file_name.or(query.filename).unwrap_or_else(|| "upload.csv".into());
    let partial = upload.partial.unwrap_or(query.partial);
    let sheet = upload.sheet.or(query.sheet);
    let answer = uploads::ingest(&state, &account, table, &name, upload.bytes, partial, sheet.as_deref()).await?;
    let status =
        if answer.outcome == IngestOutcome::Refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(answer)).into_response())
}

// ---- reports and charts ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    pub format: Option<String>,
    /// quarterly: `category` or `channel` breakdown.
    pub by: Option<String>,
}

/// `GET /api/v1/reports/{kind}`: rows as JSON (the CLI's JSON), CSV or XLSX.
pub async fn report(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(kind): UrlPath<String>,
    Q(filters): Q<Filters>,
    Q(q): Q<ReportQuery>,
) -> AppResult<Response> {
    let q = Query { filters, format: q.format, by: q.by };
    let kind = report_kind(&kind, q.by.as_deref())?;
    q.filters.check()?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(AppError::bad_request("bad_format", format!("格式“{format}”不支持；可用 json、csv、xlsx")));
    }
    let target = format!("{}?{}", kind.name(), describe(&q.filters));
    let scope = match narrow(&account.scope, q.filters.county.as_deref(), q.filters.community.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            state.catalog.audit(Some(&account), "report", &target, &e.to_string(), e.status().as_u16()).await;
            return Err(e);
        }
    };
    let year = reports::year_or_latest(&state, &scope, q.filters.year).await?;
    let report = reports::report(&state, kind, &scope, year, q.filters.quarter).await?;
    let action = if format == "json" { "report" } else { "export" };
    let detail = format!("{format}, {} rows, scope {}", report.num_rows(), scope);
    state.catalog.audit(Some(&account), action, &target, &detail, 200).await;
    let period = match q.filters.quarter.filter(|_| kind.is_quarterly()) {
        Some(quarter) => format!("{year}-Q{quarter}"),
        None => year.to_string(),
    };
    let chinese_period = match q.filters.quarter.filter(|_| kind.is_quarterly()) {
        Some(quarter) => format!("{year}年第{quarter}季度"),
        None => format!("{year}年"),
    };
    let mut response = match format {
        "csv" => download(
            csv::report(&report).map_err(internal)?,
            download::CSV,
            &format!("{}-{period}.csv", kind.name()),
            &format!("{chinese_period}_{}.csv", kind.chinese()),
        ),
        "xlsx" => download(
            dashboards::xlsx::report_workbook(&report).map_err(internal)?,
            download::XLSX,
            &format!("{}-{period}.xlsx", kind.name()),
            &format!("{chinese_period}_{}.xlsx", kind.chinese()),
        ),
        _ => {
            let body = serde_json::to_vec(&json::report_json(&report)).map_err(internal)?;
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    };
    report_headers(response.headers_mut(), &report.meta, &account.scope);
    Ok(response)
}

/// The scheme and data versions a report was computed on, for reproducing it.
/// The table versions go to platform callers only: a version counts every tenant's
/// uploads, so a county watching it would see when other counties upload.
fn report_headers(headers: &mut HeaderMap, meta: &warehouse::analyses::ReportMeta, scope: &ingest::Scope) {
    let versions: Vec<String> = meta.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
    if let (ingest::Scope::Platform, Ok(v)) = (scope, HeaderValue::from_str(&versions.join(","))) {
        headers.insert("x-yishi-data-versions", v);
    }
    if let Ok(v) = HeaderValue::from_str(&meta.scheme_hash) {
        headers.insert("x-yishi-scheme-hash", v);
    }
}

fn describe(f: &Filters) -> String {
    let mut parts = Vec::new();
    if let Some(y) = f.year {
        parts.push(format!("year={y}"));
    }
    if let Some(q) = f.quarter {
        parts.push(format!("quarter={q}"));
    }
    if let Some(c) = &f.county {
        parts.push(format!("county={c}"));
    }
    if let Some(c) = &f.community {
        parts.push(format!("community={c}"));
    }
    parts.join("&")
}

/// `GET /api/v1/charts/{name}.{png|svg}`.
pub async fn chart(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(file): UrlPath<String>,
    Q(filters): Q<Filters>,
    Q(q): Q<ReportQuery>,
) -> AppResult<Response> {
    let q = Query { filters, format: q.format, by: q.by };
    let (name, ext) = file.rsplit_once('.').ok_or_else(|| AppError::not_found("图表地址应为 名称.png 或 名称.svg"))?;
    let format = match ext {
        "png" => ChartFormat::Png,
        "svg" => ChartFormat::Svg,
        _ => return Err(AppError::not_found(format!("图表格式“{ext}”不支持；可用 png、svg"))),
    };
    let chart = ChartName::parse(name).map_err(|_| {
        AppError::not_found(format!("没有“{name}”图表；可用：{}", ChartName::ALL.map(ChartName::name).join("、")))
    })?;
    q.filters.check()?;
    let scope = narrow(&account.scope, q.filters.county.as_deref(), q.filters.community.as_deref())?;
    let year = reports::year_or_latest(&state, &scope, q.filters.year).await?;
    let bytes = charts::draw(&state, chart, &scope, year, q.filters.quarter, format).await?;
    let bytes = bytes.as_ref().clone();
    let content_type = match format {
        ChartFormat::Png => download::PNG,
        ChartFormat::Svg => download::SVG,
    };
    if q.format.as_deref() == Some("download") {
        state.catalog.audit(Some(&account), "export", &format!("chart {file}?{}", describe(&q.filters)), "", 200).await;
        return Ok(download(bytes, content_type, &file, &format!("{}_{year}.{ext}", chart.chinese())));
    }
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=60")], bytes).into_response())
}

/// A report or chart request: filters and output options.
#[derive(Debug)]
struct Query {
    filters: Filters,
    format: Option<String>,
    by: Option<String>,
}

// ---- SQL -----------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct SqlRequest {
    pub sql: String,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    pub county: Option<String>,
    pub community: Option<String>,
}

/// `POST /api/v1/sql`: one read-only query over the caller's scope.
pub async fn sql(
    State(state): State<AppState>,
    Caller(account): Caller,
    body: Result<Json<SqlRequest>, axum::extract::rejection::JsonRejection>,
) -> AppResult<Response> {
    let Json(request) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::too_large("请求体太大"),
        _ => AppError::bad_request(
            "bad_json",
            format!("请求体应为 JSON，例如 {{\"sql\": \"SELECT …\"}}：{}", e.body_text()),
        ),
    })?;
    let scope = narrow(&account.scope, request.county.as_deref(), request.community.as_deref())?;
    let limits = warehouse::SqlLimits {
        timeout: Some(state.config.request_timeout),
        max_rows: state.config.max_sql_rows,
        max_bytes: state.config.max_sql_bytes,
    };
    let result = {
        let (warehouse, scope, sql) = (state.warehouse.clone(), scope.clone(), request.sql.clone());
        state.on_query_threads(async move { Ok(warehouse.sql_within(&scope, &sql, &limits).await) }).await?
    };
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let e = AppError::from(e);
            state.catalog.audit(Some(&account), "sql", &request.sql, &e.parts().1, e.status().as_u16()).await;
            return Err(e);
        }
    };
    let columns: Vec<String> = result.schema.fields().iter().map(|f| f.name().clone()).collect();
    let rows: usize = result.batches.iter().map(|b| b.num_rows()).sum();
    let cut = result.truncated.map(|t| format!(", cut at {t:?}")).unwrap_or_default();
    state.catalog.audit(Some(&account), "sql", &request.sql, &format!("{rows} rows{cut}, scope {scope}"), 200).await;
    let message = result.truncated.map(|t| t.chinese(&limits));
    if request.format.as_deref() == Some("csv") {
        let mut response = download(
            csv::batches(&columns, &result.batches).map_err(internal)?,
            download::CSV,
            "query.csv",
            "查询结果.csv",
        );
        if let Some(t) = result.truncated {
            // A CSV has no place for a note that is not a row: the headers say it.
            let token = serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            if let Ok(v) = HeaderValue::from_str(&format!("{token}; rows={rows}")) {
                response.headers_mut().insert("x-yishi-truncated", v);
            }
        }
        return Ok(response);
    }
    let rows = json::arrays(&result.batches);
    Ok(Json(serde_json::json!({
        "columns": columns,
        "row_count": rows.len(),
        "truncated": result.truncated.is_some(),
        "truncated_by": result.truncated,
        "message": message,
        "rows": rows,
    }))
    .into_response())
}

// ---- batches and audit -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub limit: Option<i64>,
    pub action: Option<String>,
}

#[derive(Debug, Serialize)]
struct BatchOut {
    #[serde(flatten)]
    row: BatchRow,
    at_rfc3339: String,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// `GET /api/v1/batches`: uploads by accounts within the caller's scope.
pub async fn batches(
    State(state): State<AppState>,
    Caller(account): Caller,
    Q(q): Q<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let rows = state.catalog.batches(&account.scope, q.limit.unwrap_or(200).min(5000)).await?;
    let rows: Vec<BatchOut> = rows.into_iter().map(|row| BatchOut { at_rfc3339: rfc3339(row.at), row }).collect();
    Ok(Json(serde_json::json!({ "batches": rows })))
}

pub async fn batch(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(id): UrlPath<i64>,
) -> AppResult<Json<serde_json::Value>> {
    let (row, errors, rejects) =
        state.catalog.batch(&account.scope, id).await?.ok_or_else(|| AppError::not_found(format!("没有批次 {id}")))?;
    let errors: serde_json::Value = serde_json::from_str(&errors).unwrap_or_default();
    Ok(Json(serde_json::json!({
        "batch": BatchOut { at_rfc3339: rfc3339(row.at), row },
        "errors": errors,
        "rejects_csv_url": rejects.map(|_| format!("/api/v1/batches/{id}/rejects.csv")),
    })))
}

pub async fn batch_rejects(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(id): UrlPath<i64>,
) -> AppResult<Response> {
    let (row, _, rejects) =
        state.catalog.batch(&account.scope, id).await?.ok_or_else(|| AppError::not_found(format!("没有批次 {id}")))?;
    let rejects = rejects.ok_or_else(|| AppError::not_found(format!("批次 {id} 没有被拒绝的行")))?;
    state.catalog.audit(Some(&account), "export", &format!("rejects of batch {id}"), &row.file_name, 200).await;
    let stem = row.file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&row.file_name).to_string();
    Ok(download(rejects, download::CSV, &format!("batch-{id}.rejects.csv"), &format!("{stem}.rejects.csv")))
}

/// `GET /api/v1/audit`: what accounts within the caller's scope did.
pub async fn audit(
    State(state): State<AppState>,
    Caller(account): Caller,
    Q(q): Q<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let rows = state.catalog.audit_log(&account.scope, q.action.as_deref(), q.limit.unwrap_or(200).min(5000)).await?;
    Ok(Json(serde_json::json!({ "entries": rows })))
}

/// A failure to encode an answer: an internal error (logged, not shown).
fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}
