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
use super::params::{Filters, Q, check_code, id_of, no_empty_values, report_kind, table_of};
use crate::accounts::Account;
use crate::auth::{Caller, narrow};
use crate::catalog::BatchRow;
use crate::documents::{self, DocumentFormat};
use crate::error::{AppError, AppResult, ErrorBody};
use crate::packs;
use crate::state::AppState;
use crate::uploads::{IngestAnswer, PreviewAnswer};
use crate::{charts, reports, uploads};
use axum::extract::RawQuery;
use utoipa::{IntoParams, ToSchema};

/// `GET /healthz`: the catalog and each table readable.
#[utoipa::path(get, path = "/healthz", tag = "server", summary = "健康检查：目录数据库与每张表是否可读",
    responses(
        (status = 200, description = "正常", body = Object, content_type = "application/json"),
        (status = 503, description = "目录数据库不可用，或有表无法读取（tables 中注明）", body = Object, content_type = "application/json"),
    ))]
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

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server", summary = "本接口的 OpenAPI 文档",
    responses((status = 200, description = "OpenAPI 3.1 文档", body = Object, content_type = "application/json")))]
pub async fn openapi() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}

/// `GET /api/v1/docs`: the document as a Chinese page, served by yishi itself.
#[utoipa::path(get, path = "/api/v1/docs", tag = "server", summary = "接口说明页（中文）",
    responses((status = 200, description = "HTML 页面", body = String, content_type = "text/html")))]
pub async fn reference() -> axum::response::Html<String> {
    let doc = serde_json::to_value(crate::openapi::document()).unwrap_or_default();
    axum::response::Html(dashboards::pages::api_reference(&doc))
}

pub async fn not_found() -> AppError {
    AppError::not_found("没有这个地址")
}

/// Who the token or session belongs to.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", summary = "当前账号及其范围",
    responses((status = 200, description = "账号", body = Account), (status = 401, description = "未登录或令牌无效", body = ErrorBody)))]
pub async fn me(Caller(account): Caller) -> Json<Account> {
    Json(account)
}

// ---- ingest --------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// true：只写入合格的行，不合格的行存入拒绝文件
    #[serde(default)]
    pub partial: bool,
    /// XLSX 的工作表名（默认第一张）
    #[param(max_length = 255)]
    pub sheet: Option<String>,
    /// CSV/XLSX 表头所在的行号（表格左侧显示的行号）；不填则在前 30 行中自动识别
    #[param(minimum = 1, maximum = 1000)]
    pub header_row: Option<u32>,
    /// 原始请求体的文件名（扩展名决定格式：.csv、.xlsx、.jsonl）
    #[param(max_length = 255)]
    pub filename: Option<String>,
    /// true：只预览（新增、更新及变化的字段、不变、不合格各多少行），不写入任何数据
    #[serde(default)]
    pub dry_run: bool,
}

/// An upload's answer: written (or the same file again), or with `dry_run=true` what it
/// would do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum IngestResult {
    Ingested(IngestAnswer),
    Preview(PreviewAnswer),
}

/// A refused upload: its rows were rejected (every error listed), or the file could not be
/// read at all.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum IngestRefusal {
    Rows(IngestAnswer),
    File(ErrorBody),
}

/// A multipart upload: the ledger file and its options.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct IngestForm {
    /// 台账文件（CSV、XLSX 或 JSON lines）
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// true：只写入合格的行
    partial: Option<bool>,
    /// XLSX 的工作表名
    sheet: Option<String>,
    /// CSV/XLSX 表头所在的行号；不填则自动识别
    #[schema(minimum = 1, maximum = 1000)]
    header_row: Option<u32>,
}

/// `POST /api/v1/ingest/{table}`: a multipart form with a file field, or the file as the
/// raw body (`?filename=` names it).
#[utoipa::path(post, path = "/api/v1/ingest/{table}", tag = "ledger", summary = "上传台账文件",
    description = "multipart 表单的 file 字段，或整个请求体就是文件（用 filename 指明格式）。严格模式下有一行不合格则整批不写入（422，列出每个错误）。dry_run=true 只预览：新增、更新（列出前若干条变化的字段）、不变、不合格各多少行，不写入、不记批次。",
    params(("table" = String, Path, description = "台账表"), IngestQuery),
    request_body(content(
        (IngestForm = "multipart/form-data"),
        (String = "text/csv"),
        (Vec<u8> = "application/octet-stream"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (String = "application/x-ndjson"),
    )),
    responses(
        (status = 200, description = "已写入，或同一文件已导入过（IngestAnswer）；dry_run=true 时为预览，未写入（PreviewAnswer）", body = IngestResult),
        (status = 400, description = "表单或请求体无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "无权写入这张表", body = ErrorBody),
        (status = 404, description = "没有这张表", body = ErrorBody),
        (status = 409, description = "同一张表同时有其他写入，请重新上传", body = ErrorBody),
        (status = 413, description = "文件超过上限", body = ErrorBody),
        (status = 422, description = "有不合格的行，整批未写入（IngestAnswer）；或文件无法解析（Error）", body = IngestRefusal),
        (status = 503, description = "服务器正忙（上传内存已满）", body = ErrorBody),
    ))]
pub async fn ingest(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(table): UrlPath<String>,
    Q(query): Q<IngestQuery>,
    request: Request,
) -> AppResult<Response> {
    let table = table_of(&table)?;
    for (name, value) in [("sheet", &query.sheet), ("filename", &query.filename)] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 255) {
            return Err(AppError::bad_request("bad_query", format!("参数 {name} 最长 255 个字符")));
        }
    }
    let max = ingest::headers::MAX_HEADER_ROW;
    if let Some(row) = query.header_row.filter(|r| !(1..=max).contains(&(*r as usize))) {
        return Err(AppError::bad_request(
            "bad_query",
            format!("参数 header_row（表头行号）应为 1 到 {max}，收到 {row}"),
        ));
    }
    let upload = uploads::read_upload(&state, request).await?;
    let name = upload.file_name.or(query.filename).unwrap_or_else(|| "upload.csv".into());
    let options = uploads::UploadOptions {
        partial: upload.partial.unwrap_or(query.partial),
        sheet: upload.sheet.or(query.sheet),
        header_row: upload.header_row.or(query.header_row.map(|n| n as usize)),
    };
    let job = uploads::Job::new(&state, &account, &name, upload.bytes, options);
    if query.dry_run {
        return Ok(Json(uploads::preview(&state, &account, table, job).await?).into_response());
    }
    let answer = uploads::ingest(&state, &account, table, job).await?;
    let status =
        if answer.outcome == IngestOutcome::Refused { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(answer)).into_response())
}

/// `GET /api/v1/templates/{table}.{xlsx|csv}`: a table's blank template.
#[utoipa::path(get, path = "/api/v1/templates/{file}", tag = "ledger", summary = "台账导入模板（XLSX 或 CSV）",
    description = "XLSX：第一张工作表为中文表头（红色为必填），枚举列有下拉选项，日期列为日期格式；“示例”工作表有一行示例，“填写说明”工作表说明每一列。CSV：只有中文表头（UTF-8，带 BOM）。",
    params(("file" = String, Path, description = "模板文件名：表名.xlsx 或 表名.csv")),
    responses(
        (status = 200, description = "模板文件", content(
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "text/csv"),
        )),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 404, description = "没有这张表或这种格式", body = ErrorBody),
    ))]
pub async fn template(Caller(_account): Caller, UrlPath(file): UrlPath<String>) -> AppResult<Response> {
    use dashboards::templates::{self, TemplateFormat};
    let (name, ext) = file.rsplit_once('.').ok_or_else(|| AppError::not_found("模板地址应为 表名.xlsx 或 表名.csv"))?;
    let format = TemplateFormat::parse(ext)
        .ok_or_else(|| AppError::not_found(format!("模板格式“{ext}”不支持；可用 xlsx、csv")))?;
    let table = table_of(name)?;
    let bytes = templates::template(table, format).map_err(internal)?;
    let content_type = match format {
        TemplateFormat::Xlsx => download::XLSX,
        TemplateFormat::Csv => download::CSV,
    };
    let ascii = format!("{}-template.{}", table.name(), format.extension());
    Ok(download(bytes, content_type, &ascii, &format.file_name(table)))
}

// ---- reports and charts ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// 输出格式：json（默认）、csv、xlsx
    #[param(value_type = Option<OutputFormat>)]
    pub format: Option<String>,
    /// 季度报表的分项：category（按类别）、channel（按渠道）；其他报表忽略
    #[param(value_type = Option<Breakdown>)]
    pub by: Option<String>,
    /// 月份 1–12，仅 monthly（月度三率排名）报表（默认：全年各月）；其他报表忽略
    #[param(minimum = 1, maximum = 12)]
    pub month: Option<u32>,
}

/// The formats a report is answered in.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum OutputFormat {
    Json,
    Csv,
    Xlsx,
}

/// How a chart is answered: shown (absent) or as a download.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ChartDelivery {
    Download,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// download：作为附件下载
    #[param(value_type = Option<ChartDelivery>)]
    pub format: Option<String>,
}

/// The breakdowns of the quarterly report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum Breakdown {
    Category,
    Channel,
}

/// `GET /api/v1/reports/{kind}`: rows as JSON (the CLI's JSON), CSV or XLSX.
#[utoipa::path(get, path = "/api/v1/reports/{kind}", tag = "reports", summary = "报表",
    description = "JSON 的行与 yishi report --format json 相同；CSV 为中文表头、UTF-8（带 BOM）；XLSX 可直接打开打印。",
    params(("kind" = String, Path, description = "报表"), Filters, ReportQuery),
    responses(
        (status = 200, description = "报表行", content(
            (Vec<Object> = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        (status = 400, description = "参数无效，或县区、社区代码不存在（unknown_code）", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "筛选超出本账号范围", body = ErrorBody),
        (status = 404, description = "没有这个报表", body = ErrorBody),
        (status = 503, description = "查询超时或超出内存上限", body = ErrorBody),
    ))]
pub async fn report(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(kind): UrlPath<String>,
    Q(filters): Q<Filters>,
    Q(q): Q<ReportQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    no_empty_values(
        raw.as_deref(),
        &["year", "quarter", "county", "community", "format", "by", "month", "as_of_version", "as_of"],
    )?;
    let month = q.month;
    if let Some(m) = month.filter(|m| !(1..=12).contains(m)) {
        return Err(AppError::bad_request("bad_month", format!("月份应为 1–12，收到 {m}")));
    }
    let q = Query { filters, format: q.format, by: q.by };
    let kind = report_kind(&kind, q.by.as_deref())?;
    q.filters.check()?;
    let asked = q.filters.asked()?;
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
    let named = q.filters.county.is_some() || q.filters.community.is_some();
    reports::check_named(&state, &scope, named).await?;
    let year = reports::year_or_latest(&state, &scope, q.filters.year).await?;
    let period = if kind.is_monthly() { month } else { q.filters.quarter };
    let report = reports::report_at(&state, kind, &scope, year, period, &asked).await?;
    let action = if format == "json" { "report" } else { "export" };
    let detail = format!("{format}, {} rows, scope {}", report.num_rows(), scope);
    state.catalog.audit(Some(&account), action, &target, &detail, 200).await;
    let (period, chinese_period) = match (q.filters.quarter.filter(|_| kind.is_quarterly()), month) {
        (Some(quarter), _) => (format!("{year}-Q{quarter}"), format!("{year}年第{quarter}季度")),
        (None, Some(m)) if kind.is_monthly() => (format!("{year}-{m:02}"), format!("{year}年{m}月")),
        _ => (year.to_string(), format!("{year}年")),
    };
    let place = state.place_name(&scope).await?;
    let mut response = match format {
        "csv" => download(
            csv::report(&report).map_err(internal)?,
            download::CSV,
            &format!("{}-{period}.csv", kind.name()),
            &format!("{place}_{chinese_period}_{}.csv", kind.chinese()),
        ),
        "xlsx" => download(
            dashboards::xlsx::report_workbook(&report, &scope).map_err(internal)?,
            download::XLSX,
            &format!("{}-{period}.xlsx", kind.name()),
            &format!("{place}_{chinese_period}_{}.xlsx", kind.chinese()),
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
    if let Some(v) = meta.scheme_version {
        headers.insert("x-yishi-scheme-version", HeaderValue::from(v));
    }
    // Chinese text, percent-encoded (UTF-8) as headers must be ASCII: every scheme used
    // ("甲县方案（第2版，1a2b…）"), and the notes (a frozen result, a past version).
    let encoded = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    if let Ok(v) = HeaderValue::from_str(&encoded(&meta.scheme_text())) {
        headers.insert("x-yishi-schemes", v);
    }
    if !meta.notes.is_empty()
        && let Ok(v) = HeaderValue::from_str(&encoded(&meta.notes.join("；")))
    {
        headers.insert("x-yishi-notes", v);
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
    if let Some(v) = &f.as_of_version {
        parts.push(format!("as_of_version={v}"));
    }
    if let Some(d) = &f.as_of {
        parts.push(format!("as_of={d}"));
    }
    if f.latest == Some(true) {
        parts.push("latest=true".to_string());
    }
    parts.join("&")
}

/// `GET /api/v1/charts/{name}.{png|svg}`.
#[utoipa::path(get, path = "/api/v1/charts/{file}", tag = "reports", summary = "图表（PNG 或 SVG）",
    params(("file" = String, Path, description = "图表文件名：名称.png 或 名称.svg"), Filters, ChartQuery),
    responses(
        (status = 200, description = "图片", content((Vec<u8> = "image/png"), (String = "image/svg+xml"))),
        (status = 400, description = "参数无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "筛选超出本账号范围", body = ErrorBody),
        (status = 404, description = "没有这个图表", body = ErrorBody),
        (status = 503, description = "查询超时", body = ErrorBody),
    ))]
pub async fn chart(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(file): UrlPath<String>,
    Q(filters): Q<Filters>,
    Q(q): Q<ChartQuery>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    no_empty_values(raw.as_deref(), &["year", "quarter", "county", "community", "format", "as_of_version", "as_of"])?;
    if let Some(f) = q.format.as_deref().filter(|f| *f != "download") {
        return Err(AppError::bad_request(
            "bad_format",
            format!("format={f} 无效；图表只接受 format=download（作为附件下载）"),
        ));
    }
    let q = Query { filters, format: q.format, by: None };
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
    let asked = q.filters.asked()?;
    let scope = narrow(&account.scope, q.filters.county.as_deref(), q.filters.community.as_deref())?;
    reports::check_named(&state, &scope, q.filters.county.is_some() || q.filters.community.is_some()).await?;
    let year = reports::year_or_latest(&state, &scope, q.filters.year).await?;
    let bytes = charts::draw(&state, chart, &scope, (year, q.filters.quarter), format, &asked).await?;
    let bytes = bytes.as_ref().clone();
    let content_type = match format {
        ChartFormat::Png => download::PNG,
        ChartFormat::Svg => download::SVG,
    };
    if q.format.as_deref() == Some("download") {
        state.catalog.audit(Some(&account), "export", &format!("chart {file}?{}", describe(&q.filters)), "", 200).await;
        // Named by the period the figures cover: an annual chart asked with a quarter is 全年.
        let period = charts::period(&state, chart, &scope, (year, q.filters.quarter), &asked).await?;
        let period = dashboards::naming::file_safe(&period);
        let place = state.place_name(&scope).await?;
        return Ok(download(bytes, content_type, &file, &format!("{place}_{period}_{}.{ext}", chart.chinese())));
    }
    Ok(([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "private, max-age=60")], bytes).into_response())
}

/// `GET /api/v1/documents/report.{docx|pdf}`: the written report of the caller's county or
/// community (or one it may see) for a quarter, or the year-end report without `quarter`.
#[utoipa::path(get, path = "/api/v1/documents/{file}", tag = "reports", summary = "书面分析报告（Word 或 PDF）",
    description = "县区或社区的季度书面分析报告；不带 quarter 为年度报告。平台账号须用 county 或 community 指定范围。",
    params(("file" = String, Path, description = "report.docx 或 report.pdf"), Filters),
    responses(
        (status = 200, description = "报告文件", content(
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (Vec<u8> = "application/pdf"))),
        (status = 400, description = "参数无效，或平台账号未指定县区或社区", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "筛选超出本账号范围", body = ErrorBody),
        (status = 404, description = "没有这个文件，或该期间在范围内没有数据", body = ErrorBody),
        (status = 503, description = "查询超时", body = ErrorBody),
    ))]
pub async fn document(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(file): UrlPath<String>,
    Q(filters): Q<Filters>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    no_empty_values(raw.as_deref(), &["year", "quarter", "county", "community", "as_of_version", "as_of"])?;
    let format = DocumentFormat::parse_file(&file)
        .ok_or_else(|| AppError::not_found(format!("没有“{file}”；可用：report.docx、report.pdf")))?;
    filters.check()?;
    let asked = filters.asked()?;
    let (scope, year) = file_place(&state, &account, &filters).await?;
    let written = documents::write(&state, &scope, (year, filters.quarter), format, &asked).await?;
    state.catalog.audit(Some(&account), "export", &format!("document {file}?{}", describe(&filters)), "", 200).await;
    let ascii = match filters.quarter {
        Some(q) => format!("report-{year}-q{q}.{}", format.extension()),
        None => format!("report-{year}.{}", format.extension()),
    };
    Ok(download(written.bytes, format.content_type(), &ascii, &written.file_name))
}

/// `GET /api/v1/packs/pack.zip`: the report pack (charts and workbook) of the caller's
/// county or community (or one it may see) for a quarter, as one zip.
#[utoipa::path(get, path = "/api/v1/packs/{file}", tag = "reports", summary = "季度报表包（全部图表和工作簿，zip）",
    description = "县区或社区一个季度的报表包：8 张图各一份 PNG 和 SVG，以及全部报表的工作簿（与 yishi export pack 相同），打成一个 zip。须带 quarter；平台账号须用 county 或 community 指定范围。",
    params(("file" = String, Path, description = "pack.zip"), Filters),
    responses(
        (status = 200, description = "报表包", content((Vec<u8> = "application/zip"))),
        (status = 400, description = "参数无效、缺少 quarter，或平台账号未指定县区或社区", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "筛选超出本账号范围", body = ErrorBody),
        (status = 404, description = "没有这个文件，或该年在范围内没有数据", body = ErrorBody),
        (status = 503, description = "查询超时", body = ErrorBody),
    ))]
pub async fn pack(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(file): UrlPath<String>,
    Q(filters): Q<Filters>,
    RawQuery(raw): RawQuery,
) -> AppResult<Response> {
    no_empty_values(raw.as_deref(), &["year", "quarter", "county", "community", "as_of_version", "as_of"])?;
    if file != packs::FILE {
        return Err(AppError::not_found(format!("没有“{file}”；可用：{}", packs::FILE)));
    }
    filters.check()?;
    let quarter = filters
        .quarter
        .ok_or_else(|| AppError::bad_request("needs_quarter", "报表包按季度生成：请加 quarter（1–4）"))?;
    let asked = filters.asked()?;
    let (scope, year) = file_place(&state, &account, &filters).await?;
    let written = packs::write(&state, &scope, year, quarter, &asked).await?;
    state.catalog.audit(Some(&account), "export", &format!("pack {file}?{}", describe(&filters)), "", 200).await;
    let ascii = format!("pack-{year}-q{quarter}.zip");
    Ok(download(written.bytes, packs::CONTENT_TYPE, &ascii, &written.file_name))
}

/// The place and year a document or pack is made for: the filters' county or community
/// within the caller's scope (named, and known to the warehouse), and the asked year or the
/// latest with data.
async fn file_place(state: &AppState, account: &Account, filters: &Filters) -> AppResult<(ingest::Scope, i32)> {
    let scope = narrow(&account.scope, filters.county.as_deref(), filters.community.as_deref())?;
    reports::check_named(state, &scope, filters.county.is_some() || filters.community.is_some()).await?;
    let year = reports::year_or_latest(state, &scope, filters.year).await?;
    Ok((scope, year))
}

/// A report or chart request: filters and output options.
#[derive(Debug)]
struct Query {
    filters: Filters,
    format: Option<String>,
    by: Option<String>,
}

// ---- SQL -----------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
pub struct SqlRequest {
    /// 一条只读查询（SELECT、WITH、VALUES 或其 EXPLAIN）
    #[schema(min_length = 1, max_length = 100000)]
    pub sql: String,
    /// json（默认）或 csv
    #[schema(value_type = Option<SqlFormat>)]
    pub format: Option<String>,
    /// 缩小到一个县区（6 位代码）
    #[schema(pattern = "^[0-9]{6}$")]
    pub county: Option<String>,
    /// 缩小到一个社区（12 位代码）
    #[schema(pattern = "^[0-9]{12}$")]
    pub community: Option<String>,
}

/// The formats of a SQL answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum SqlFormat {
    Json,
    Csv,
}

/// A SQL answer as JSON.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SqlAnswer {
    columns: Vec<String>,
    row_count: u64,
    /// 结果被截断（行数、字节或内存上限）
    truncated: bool,
    /// rows、bytes 或 memory
    truncated_by: Option<String>,
    /// 截断时的中文说明
    message: Option<String>,
    #[schema(value_type = Vec<Vec<Object>>)]
    rows: Vec<Vec<serde_json::Value>>,
}

/// `POST /api/v1/sql`: one read-only query over the caller's scope.
#[utoipa::path(post, path = "/api/v1/sql", tag = "sql", summary = "只读 SQL（只能查询本账号范围内的行）",
    request_body = SqlRequest,
    responses(
        (status = 200, description = "结果（超过行数或字节上限时截断并说明）", content((SqlAnswer = "application/json"), (String = "text/csv"))),
        (status = 400, description = "不是一条只读查询，或查询有误", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "筛选超出本账号范围", body = ErrorBody),
        (status = 413, description = "请求体太大", body = ErrorBody),
        (status = 503, description = "查询超时或超出内存上限", body = ErrorBody),
    ))]
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
    if request.sql.chars().count() > 100_000 {
        return Err(AppError::bad_request("sql_too_long", "查询语句最长 100000 个字符"));
    }
    if let Some(f) = request.format.as_deref().filter(|f| !matches!(*f, "json" | "csv")) {
        return Err(AppError::bad_request("bad_format", format!("format={f} 无效；可用 json、csv")));
    }
    check_code("county", request.county.as_deref(), 6)?;
    check_code("community", request.community.as_deref(), 12)?;
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 最多返回的条数（默认 200）
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
    /// 只看一种操作（审计日志）：login、ingest、report、export、sql…
    #[param(max_length = 64)]
    pub action: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    #[serde(flatten)]
    row: BatchRow,
    at_rfc3339: String,
}

/// The list's length: 1–5000 as documented, 200 when not given; `action` at most 64
/// characters.
fn limit_of(q: &ListQuery) -> AppResult<i64> {
    if q.action.as_ref().is_some_and(|a| a.chars().count() > 64) {
        return Err(AppError::bad_request("bad_query", "参数 action 最长 64 个字符"));
    }
    match q.limit {
        None => Ok(200),
        Some(n) if (1..=5000).contains(&n) => Ok(n),
        Some(n) => Err(AppError::bad_request("bad_query", format!("limit 应为 1–5000，收到 {n}"))),
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

/// The batches list.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct BatchList {
    batches: Vec<BatchOut>,
}

/// One batch with its row errors.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct BatchDetail {
    batch: BatchOut,
    #[schema(value_type = Vec<Object>)]
    errors: Vec<serde_json::Value>,
    rejects_csv_url: Option<String>,
}

/// The audit log.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct AuditList {
    entries: Vec<crate::catalog::AuditRow>,
}

/// `GET /api/v1/batches`: uploads by accounts within the caller's scope.
#[utoipa::path(get, path = "/api/v1/batches", tag = "ledger", summary = "经服务器上传的批次（本范围内的账号）",
    params(ListQuery),
    responses((status = 200, description = "批次列表", body = BatchList), (status = 400, description = "参数无效", body = ErrorBody), (status = 401, description = "未登录", body = ErrorBody)))]
pub async fn batches(
    State(state): State<AppState>,
    Caller(account): Caller,
    Q(q): Q<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let rows = state.catalog.batches(&account.scope, limit_of(&q)?).await?;
    let rows: Vec<BatchOut> = rows.into_iter().map(|row| BatchOut { at_rfc3339: rfc3339(row.at), row }).collect();
    Ok(Json(serde_json::json!({ "batches": rows })))
}

/// `GET /api/v1/batches/{id}`.
#[utoipa::path(get, path = "/api/v1/batches/{id}", tag = "ledger", summary = "一个批次及其错误行",
    params(("id" = i64, Path, description = "批次号")),
    responses((status = 200, description = "批次", body = BatchDetail), (status = 400, description = "批次号无效", body = ErrorBody), (status = 401, description = "未登录", body = ErrorBody), (status = 404, description = "本范围内没有这个批次", body = ErrorBody)))]
pub async fn batch(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(id): UrlPath<String>,
) -> AppResult<Json<serde_json::Value>> {
    let id = id_of(&id)?;
    let (row, errors, rejects) =
        state.catalog.batch(&account.scope, id).await?.ok_or_else(|| AppError::not_found(format!("没有批次 {id}")))?;
    let errors: serde_json::Value = serde_json::from_str(&errors).unwrap_or_default();
    Ok(Json(serde_json::json!({
        "batch": BatchOut { at_rfc3339: rfc3339(row.at), row },
        "errors": errors,
        "rejects_csv_url": rejects.map(|_| format!("/api/v1/batches/{id}/rejects.csv")),
    })))
}

/// `GET /api/v1/batches/{id}/rejects.csv`.
#[utoipa::path(get, path = "/api/v1/batches/{id}/rejects.csv", tag = "ledger", summary = "下载被拒绝的行（CSV，改正后可重新上传）",
    params(("id" = i64, Path, description = "批次号")),
    responses((status = 200, description = "CSV", body = String, content_type = "text/csv"), (status = 400, description = "批次号无效", body = ErrorBody), (status = 401, description = "未登录", body = ErrorBody), (status = 404, description = "没有这个批次或它没有被拒绝的行", body = ErrorBody)))]
pub async fn batch_rejects(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(id): UrlPath<String>,
) -> AppResult<Response> {
    let id = id_of(&id)?;
    let (row, _, rejects) =
        state.catalog.batch(&account.scope, id).await?.ok_or_else(|| AppError::not_found(format!("没有批次 {id}")))?;
    let rejects = rejects.ok_or_else(|| AppError::not_found(format!("批次 {id} 没有被拒绝的行")))?;
    state.catalog.audit(Some(&account), "export", &format!("rejects of batch {id}"), &row.file_name, 200).await;
    let stem = row.file_name.rsplit_once('.').map(|(s, _)| s).unwrap_or(&row.file_name).to_string();
    Ok(download(rejects, download::CSV, &format!("batch-{id}.rejects.csv"), &format!("{stem}.rejects.csv")))
}

/// `GET /api/v1/audit`: what accounts within the caller's scope did.
#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", summary = "审计日志：谁上传、谁导出了什么",
    params(ListQuery),
    responses((status = 200, description = "日志", body = AuditList), (status = 400, description = "参数无效", body = ErrorBody), (status = 401, description = "未登录", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Caller(account): Caller,
    Q(q): Q<ListQuery>,
) -> AppResult<Json<serde_json::Value>> {
    let rows = state.catalog.audit_log(&account.scope, q.action.as_deref(), limit_of(&q)?).await?;
    Ok(Json(serde_json::json!({ "entries": rows })))
}

/// A failure to encode an answer: an internal error (logged, not shown).
fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(e.to_string())
}

/// A topic's status timeline (see `warehouse::TopicHistory`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TopicHistoryOut {
    community_code: String,
    topic_id: String,
    /// Oldest first: each status at the topics table's version where it first appeared.
    steps: Vec<StatusStepOut>,
    /// Topics table versions read (at most `warehouse::MAX_HISTORY_VERSIONS`).
    versions_scanned: usize,
    /// Older versions exist than those read: the first step may be later than the real one.
    earlier_versions_not_scanned: bool,
}

/// One step of a topic's timeline.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct StatusStepOut {
    /// pending, in_progress, resolved or explained.
    status: String,
    /// 待议, 办理中, 已办结 or 已解释.
    status_label: String,
    /// The topics table's Delta version that first held the status.
    version: u64,
    /// When that version was committed (RFC 3339, UTC).
    committed_at: Option<String>,
    /// The file whose ingest wrote that version.
    file_name: Option<String>,
}

/// `GET /api/v1/topics/{community}/{topic}/history`: when the topic's status moved on, from
/// the monthly re-exports kept as Delta versions (the latest versions only, bounded).
#[utoipa::path(get, path = "/api/v1/topics/{community}/{topic}/history", tag = "ledger",
    summary = "议题的处理经过：各办理状态首次出现的数据版本和时间",
    params(
        ("community" = String, Path, description = "社区代码（12 位数字）", pattern = "^[0-9]{12}$"),
        ("topic" = String, Path, description = "议题编号（1–64 个字符）", min_length = 1, max_length = 64),
    ),
    responses((status = 200, description = "处理经过", body = TopicHistoryOut), (status = 400, description = "社区代码或议题编号无效", body = ErrorBody), (status = 401, description = "未登录", body = ErrorBody), (status = 404, description = "本范围内没有这个议题", body = ErrorBody)))]
pub async fn topic_history(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath((community, topic)): UrlPath<(String, String)>,
) -> AppResult<Json<serde_json::Value>> {
    check_code("社区代码", Some(&community), 12)?;
    if topic.is_empty() || topic.chars().count() > 64 {
        return Err(AppError::bad_request("bad_topic_id", format!("议题编号应为 1–64 个字符，收到“{topic}”")));
    }
    let missing = || AppError::not_found(format!("没有找到社区 {community} 的议题“{topic}”，或不在本账号的范围内"));
    let history =
        crate::ledger::topic_history(&state, &account.scope, &community, &topic).await?.ok_or_else(missing)?;
    Ok(Json(serde_json::to_value(history).map_err(|e| AppError::Internal(e.to_string()))?))
}
