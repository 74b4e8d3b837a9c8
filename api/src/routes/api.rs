//! The JSON API under `/api/v1`: every handler takes the [`Caller`], narrows its scope by
//! the request's filters and calls the warehouse's scoped APIs.

use std::path::Path;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path as UrlPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dashboards::charts::{ChartFormat, ChartName};
use ingest::Table;
use serde::{Deserialize, Serialize};
use warehouse::analyses::ReportKind;
use warehouse::{IngestOptions, IngestOutcome};

use super::encode;
use super::{Filters, Q, table_of};
use crate::AppState;
use crate::accounts::Account;
use crate::auth::{Caller, narrow};
use crate::catalog::{BatchRow, NewBatch};
use crate::charts;
use crate::error::{AppError, AppResult};

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

/// The answer to an upload.
#[derive(Debug, Serialize)]
pub struct IngestAnswer {
    /// Present when nothing was written because rows were rejected (strict mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub batch_id: i64,
    pub table: &'static str,
    pub file_name: String,
    pub outcome: IngestOutcome,
    pub partial: bool,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    pub rows_inserted: usize,
    pub rows_updated: usize,
    pub version: Option<u64>,
    /// Every rejected value: row (as a spreadsheet numbers it), column, value, reason.
    pub errors: Vec<ingest::RowError>,
    /// Where the rejected rows can be downloaded as a CSV to fix and upload again.
    pub rejects_csv_url: Option<String>,
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
    let upload = read_upload(&state, request).await?;
    let name = upload.file_name.or(query.filename).unwrap_or_else(|| "upload.csv".into());
    let partial = upload.partial.unwrap_or(query.partial);
    let sheet = upload.sheet.or(query.sheet);
    let answer = ingest_bytes(&state, &account, table, &name, upload.bytes, partial, sheet.as_deref()).await?;
    let status =
        if answer.outcome == IngestOutcome::Refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(answer)).into_response())
}

/// An uploaded file and the form fields that came with it.
#[derive(Debug, Default)]
pub struct Upload {
    /// The upload's share of the servers' upload memory, held while its bytes are.
    pub memory: Option<tokio::sync::OwnedSemaphorePermit>,
    pub file_name: Option<String>,
    pub bytes: Bytes,
    pub partial: Option<bool>,
    pub sheet: Option<String>,
    pub table: Option<String>,
}

/// Reads a multipart form (its first file field) or a raw body, within the upload limit.
pub async fn read_upload(state: &AppState, request: Request) -> AppResult<Upload> {
    let limit = state.config.max_upload_bytes;
    let too_large =
        || AppError::too_large(format!("上传的文件超过上限 {} 字节 (payload_too_large)；请拆分文件后分批上传", limit));
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // A multipart form carries a few hundred bytes of headers besides the file.
    if declared.is_some_and(|n| n > limit.saturating_add(64 << 10)) {
        return Err(too_large());
    }
    let memory = upload_memory(state, declared.unwrap_or(limit).min(limit.saturating_add(64 << 10)))?;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    if !multipart {
        let max = usize::try_from(limit).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(request.into_body(), max).await.map_err(|_| too_large())?;
        if bytes.is_empty() {
            return Err(AppError::bad_request("empty_file", "没有收到文件内容：请求体为空"));
        }
        return Ok(Upload { bytes, memory: Some(memory), ..Upload::default() });
    }
    let mut form = Multipart::from_request(request, &()).await.map_err(|e| {
        AppError::bad_request("invalid_multipart", format!("无法解析 multipart 表单：{}", e.body_text()))
    })?;
    let mut upload = Upload { memory: Some(memory), ..Upload::default() };
    let mut found = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&e, too_large)),
        };
        let name = field.name().unwrap_or_default().to_string();
        if let (Some(file_name), false) = (field.file_name().map(str::to_string), found) {
            let bytes = field.bytes().await.map_err(|e| multipart_error(&e, too_large))?;
            if bytes.len() as u64 > limit {
                return Err(too_large());
            }
            upload.file_name = Some(file_name).filter(|n| !n.trim().is_empty());
            upload.bytes = bytes;
            found = true;
            continue;
        }
        let text = field.text().await.map_err(|e| multipart_error(&e, too_large))?;
        match name.as_str() {
            "partial" => upload.partial = Some(matches!(text.trim(), "true" | "1" | "on" | "yes")),
            "sheet" => upload.sheet = Some(text.trim().to_string()).filter(|s| !s.is_empty()),
            "table" => upload.table = Some(text.trim().to_string()),
            _ => {}
        }
    }
    if !found {
        return Err(AppError::bad_request(
            "missing_file",
            "表单中没有文件：请在 multipart 表单中附上台账文件（字段 file）",
        ));
    }
    if upload.bytes.is_empty() {
        return Err(AppError::bad_request("empty_file", "上传的文件是空的"));
    }
    Ok(upload)
}

/// Takes `bytes` of the servers' upload memory, or answers 503 with `Retry-After` when
/// other uploads hold it: a burst of large uploads waits its turn instead of taking the
/// server's memory.
fn upload_memory(state: &AppState, bytes: u64) -> AppResult<tokio::sync::OwnedSemaphorePermit> {
    let kib = u32::try_from(bytes.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
    let total = state.config.upload_memory_bytes;
    let kib = kib.min(u32::try_from(total >> 10).unwrap_or(u32::MAX).max(1));
    state.upload_memory.clone().try_acquire_many_owned(kib).map_err(|_| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!("服务器正在接收其他上传（同时最多 {} MiB），请稍后重试", total >> 20),
        )
        .with_retry_after(10)
    })
}

fn multipart_error(e: &axum::extract::multipart::MultipartError, too_large: impl Fn() -> AppError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        AppError::bad_request("invalid_multipart", format!("无法解析 multipart 表单：{}", e.body_text()))
    }
}

/// Ingests an uploaded file in the caller's scope, records the batch in the catalog and
/// the audit log, and answers with every row error.
pub async fn ingest_bytes(
    state: &AppState,
    account: &Account,
    table: Table,
    file_name: &str,
    bytes: Bytes,
    partial: bool,
    sheet: Option<&str>,
) -> AppResult<IngestAnswer> {
    let file_name = Path::new(file_name).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let file_name = if file_name.is_empty() { "upload.csv".to_string() } else { file_name };
    let result = {
        let _permit = state.queries.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
        let (warehouse, scope, user) = (state.warehouse.clone(), account.scope.clone(), account.name.clone());
        let (name, sheet, limit) = (file_name.clone(), sheet.map(str::to_string), state.config.max_upload_bytes);
        state
            .query_runtime
            .run(async move {
                let options = IngestOptions {
                    scope: &scope,
                    user: &user,
                    partial,
                    sheet: sheet.as_deref(),
                    max_file_bytes: limit,
                    progress: None,
                };
                Ok(warehouse.ingest_bytes(table, Path::new(&name), &bytes, &options).await)
            })
            .await?
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            let e = AppError::from(e);
            let (status, code, message) = e.parts();
            let detail = format!("{file_name}: {code}: {message}");
            state.catalog.audit(Some(account), "ingest", table.name(), &detail, status.as_u16()).await;
            return Err(e);
        }
    };
    let errors: Vec<ingest::RowError> = report.file.iter().flat_map(|f| f.errors()).cloned().collect();
    let rejects = report.file.as_ref().filter(|f| !f.rejected.is_empty()).map(|f| f.rejects_csv());
    let r = &report.record;
    let outcome_name = match report.outcome {
        IngestOutcome::Committed => "committed",
        IngestOutcome::Refused => "refused",
        IngestOutcome::Unchanged => "unchanged",
    };
    let batch_id = state
        .catalog
        .record_batch(&NewBatch {
            account,
            table_name: table.name(),
            file_name: &file_name,
            file_sha256: &r.file_sha256,
            outcome: outcome_name,
            rows_accepted: r.rows_accepted as i64,
            rows_rejected: r.rows_rejected as i64,
            rows_inserted: r.rows_inserted as i64,
            rows_updated: r.rows_updated as i64,
            version: r.version.and_then(|v| i64::try_from(v).ok()),
            errors_json: serde_json::to_string(&errors).unwrap_or_else(|_| "[]".into()),
            rejects_csv: rejects.clone(),
        })
        .await?;
    let status = if report.outcome == IngestOutcome::Refused { 422 } else { 200 };
    let detail = format!(
        "{file_name}: {outcome_name}, {} accepted, {} rejected, batch {batch_id}",
        r.rows_accepted, r.rows_rejected
    );
    state.catalog.audit(Some(account), "ingest", table.name(), &detail, status).await;
    if table == Table::Communities
        && report.outcome == IngestOutcome::Committed
        && let Err(e) = super::sync_places(state).await
    {
        tracing::warn!(error = %e, "could not copy places into the catalog");
    }
    let refused = report.outcome == IngestOutcome::Refused;
    Ok(IngestAnswer {
        code: refused.then_some("rows_rejected"),
        message: refused.then(|| {
            if r.rows_accepted == 0 && r.rows_rejected == 0 {
                "文件中没有数据行，未写入".to_string()
            } else {
                format!(
                    "有 {} 行不合格，整批未写入；请按错误修改后重新上传，或选择“只导入合格的行”（?partial=true）",
                    r.rows_rejected
                )
            }
        }),
        batch_id,
        table: table.name(),
        file_name,
        outcome: report.outcome,
        partial,
        rows_accepted: r.rows_accepted,
        rows_rejected: r.rows_rejected,
        rows_inserted: r.rows_inserted,
        rows_updated: r.rows_updated,
        version: r.version,
        errors,
        rejects_csv_url: rejects.map(|_| format!("/api/v1/batches/{batch_id}/rejects.csv")),
    })
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
    let year = super::year_or_latest(&state, &scope, q.filters.year).await?;
    let report = super::report(&state, kind, &scope, year, q.filters.quarter).await?;
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
        "csv" => encode::download(
            encode::report_csv(&report)?,
            encode::CSV,
            &format!("{}-{period}.csv", kind.name()),
            &format!("{chinese_period}_{}.csv", kind.chinese()),
        ),
        "xlsx" => encode::download(
            dashboards::xlsx::report_workbook(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            encode::XLSX,
            &format!("{}-{period}.xlsx", kind.name()),
            &format!("{chinese_period}_{}.xlsx", kind.chinese()),
        ),
        _ => {
            let body = serde_json::to_vec(&report.json_rows()).map_err(|e| AppError::Internal(e.to_string()))?;
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

pub fn report_kind(name: &str, by: Option<&str>) -> AppResult<ReportKind> {
    let kind = ReportKind::parse(name).ok_or_else(|| {
        AppError::not_found(format!(
            "没有“{name}”报表；可用：quarterly（季度满意度分析）、cadres（干部考核）、communities（社区考核）、counties（县区汇总）"
        ))
    })?;
    match (kind, by.map(str::trim).filter(|b| !b.is_empty())) {
        (k, None) => Ok(k),
        (ReportKind::Quarterly, Some("category")) => Ok(ReportKind::QuarterlyByCategory),
        (ReportKind::Quarterly, Some("channel")) => Ok(ReportKind::QuarterlyByChannel),
        (_, Some(b)) => {
            Err(AppError::bad_request("bad_breakdown", format!("by={b} 只用于 quarterly，可用 category、channel")))
        }
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
    let year = super::year_or_latest(&state, &scope, q.filters.year).await?;
    let bytes = charts::draw(&state, chart, &scope, year, q.filters.quarter, format).await?;
    let bytes = bytes.as_ref().clone();
    let content_type = match format {
        ChartFormat::Png => encode::PNG,
        ChartFormat::Svg => encode::SVG,
    };
    if q.format.as_deref() == Some("download") {
        state.catalog.audit(Some(&account), "export", &format!("chart {file}?{}", describe(&q.filters)), "", 200).await;
        return Ok(encode::download(bytes, content_type, &file, &format!("{}_{year}.{ext}", chart.chinese())));
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
        let _permit = state.queries.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
        let (warehouse, scope, sql) = (state.warehouse.clone(), scope.clone(), request.sql.clone());
        state.query_runtime.run(async move { Ok(warehouse.sql_within(&scope, &sql, &limits).await) }).await?
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
        let mut response =
            encode::download(encode::batches_csv(&columns, &result.batches)?, encode::CSV, "query.csv", "查询结果.csv");
        if let Some(t) = result.truncated {
            // A CSV has no place for a note that is not a row: the headers say it.
            let token = serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            if let Ok(v) = HeaderValue::from_str(&format!("{token}; rows={rows}")) {
                response.headers_mut().insert("x-yishi-truncated", v);
            }
        }
        return Ok(response);
    }
    let (rows, _) = encode::batches_json(&result.batches, usize::MAX);
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
    Ok(encode::download(rejects, encode::CSV, &format!("batch-{id}.rejects.csv"), &format!("{stem}.rejects.csv")))
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
