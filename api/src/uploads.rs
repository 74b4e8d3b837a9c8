//! Uploads of ledger files, for the JSON API and the upload page alike: reading the file
//! of a multipart form or a raw body within the upload limit and the servers' upload
//! memory ([`read_upload`]), then ingesting it in the uploader's scope and recording the
//! batch and the audit line ([`ingest`]).

use std::path::Path;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use ingest::Table;
use serde::Serialize;
use warehouse::{IngestOptions, IngestOutcome};

use crate::accounts::Account;
use crate::catalog::NewBatch;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The answer to an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IngestAnswer {
    /// Present when nothing was written because rows were rejected (strict mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub batch_id: i64,
    pub table: &'static str,
    pub file_name: String,
    /// committed（已写入）、refused（未写入）、unchanged（已导入过）
    #[schema(value_type = String, pattern = "^(committed|refused|unchanged)$")]
    pub outcome: IngestOutcome,
    pub partial: bool,
    pub rows_accepted: usize,
    pub rows_rejected: usize,
    pub rows_inserted: usize,
    pub rows_updated: usize,
    pub version: Option<u64>,
    /// Every rejected value: row (as a spreadsheet numbers it), column, value, reason.
    #[schema(value_type = Vec<RowErrorDoc>)]
    pub errors: Vec<ingest::RowError>,
    /// Where the rejected rows can be downloaded as a CSV to fix and upload again.
    pub rejects_csv_url: Option<String>,
    /// 表头所在的行号（表格左侧显示的行号）；JSON lines 或同一文件已导入过时为空
    pub header_row: Option<usize>,
    /// 跳过的说明、合计、制表人等行
    #[schema(value_type = Vec<SkippedRowDoc>)]
    pub skipped: Vec<ingest::SkippedRow>,
}

impl IngestAnswer {
    /// "表头在第 4 行；跳过第 12、13 行（说明或合计行）" when the file was not a bare table.
    pub fn layout_note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(row) = self.header_row.filter(|row| *row > 1) {
            parts.push(format!("表头在第 {row} 行"));
        }
        if !self.skipped.is_empty() {
            let rows: Vec<String> = self.skipped.iter().map(|s| s.row.to_string()).collect();
            parts.push(format!("跳过第 {} 行（说明或合计行）", rows.join("、")));
        }
        (!parts.is_empty()).then(|| parts.join("；"))
    }
}

/// A note row left out of the batch, as the answer shows it.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = SkippedRow)]
#[allow(dead_code)]
pub struct SkippedRowDoc {
    /// 表格中的行号
    row: u64,
    /// 该行第一个非空单元格的内容
    text: String,
}

/// One rejected value of a row, as the answer shows it.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = RowError)]
#[allow(dead_code)]
pub struct RowErrorDoc {
    /// 表格中的行号（表头为第 1 行）
    row: u64,
    /// 合同中的列名
    column: String,
    /// 文件中的表头
    header: String,
    value: String,
    /// 错误类别的英文代码
    kind: String,
    /// 中文说明
    message: String,
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
    /// The header's row number (form field `header_row`); absent or empty: found.
    pub header_row: Option<usize>,
    pub table: Option<String>,
}

/// How to read and commit an upload: the options its form or query gave.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    /// Commit the valid rows even when some are rejected.
    pub partial: bool,
    /// XLSX: the sheet to read.
    pub sheet: Option<String>,
    /// CSV/XLSX: the header's row number; `None` finds it.
    pub header_row: Option<usize>,
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
            "header_row" => {
                upload.header_row = header_row(&text).map_err(|m| AppError::bad_request("bad_header_row", m))?;
            }
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

/// The form's `header_row`: empty for "find it", else a row number within the limit; the
/// message for the clerk when it is neither.
fn header_row(text: &str) -> Result<Option<usize>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let max = ingest::headers::MAX_HEADER_ROW;
    match text.parse::<usize>() {
        Ok(row) if (1..=max).contains(&row) => Ok(Some(row)),
        _ => Err(format!(
            "表头行号“{}”无效：应为 1 到 {max} 之间的行号（表格左侧显示的行号），不填则自动识别",
            text.chars().take(20).collect::<String>()
        )),
    }
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

/// The last part of an uploaded file's name (a browser may send a path).
fn base_name(file_name: &str) -> String {
    let name = Path::new(file_name).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if name.is_empty() { "upload.csv".to_string() } else { name }
}

/// An upload and its options in the uploader's scope, owned, to be moved onto the query
/// threads.
#[derive(Debug)]
pub struct Job {
    scope: ingest::Scope,
    user: String,
    name: String,
    bytes: Bytes,
    options: UploadOptions,
    limit: u64,
}

impl Job {
    /// `name` is the uploaded file's name (a browser may send a path: its last part is kept).
    pub fn new(state: &AppState, account: &Account, name: &str, bytes: Bytes, options: UploadOptions) -> Job {
        Job {
            scope: account.scope.clone(),
            user: account.name.clone(),
            name: base_name(name),
            bytes,
            options,
            limit: state.config.max_upload_bytes,
        }
    }

    fn options(&self) -> IngestOptions<'_> {
        IngestOptions {
            scope: &self.scope,
            user: &self.user,
            partial: self.options.partial,
            sheet: self.options.sheet.as_deref(),
            header_row: self.options.header_row,
            max_file_bytes: self.limit,
            progress: None,
        }
    }
}

/// A file the warehouse could not take, audited under `action`, as the caller's error.
async fn refused(
    state: &AppState,
    account: &Account,
    action: &str,
    table: Table,
    file_name: &str,
    e: warehouse::WarehouseError,
) -> AppError {
    let e = AppError::from(e);
    let (status, code, message) = e.parts();
    let detail = format!("{file_name}: {code}: {message}");
    state.catalog.audit(Some(account), action, table.name(), &detail, status.as_u16()).await;
    e
}

/// What an upload would do, nothing written (`?dry_run=true`, the upload page's preview).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewAnswer {
    /// Always true: nothing was written.
    pub dry_run: bool,
    pub table: &'static str,
    pub file_name: String,
    /// 该文件已导入过：不会有任何更改
    pub already_ingested: bool,
    /// 确认后是否会写入（严格模式下有不合格的行、或没有合格的行时不会）
    pub would_commit: bool,
    pub rows_new: usize,
    pub rows_updated: usize,
    pub rows_unchanged: usize,
    pub rows_rejected: usize,
    /// 新增 N、更新 M、不变 K、不合格 R
    pub summary: String,
    /// The first rows that would change, with each changed field old → new.
    #[schema(value_type = Vec<RowChangeDoc>)]
    pub changes: Vec<warehouse::RowChange>,
    /// Every rejected value, as in an ingest's answer.
    #[schema(value_type = Vec<RowErrorDoc>)]
    pub errors: Vec<ingest::RowError>,
}

/// One row an upload would change.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = RowChange)]
#[allow(dead_code)]
pub struct RowChangeDoc {
    /// 社区代码
    community_code: String,
    /// 该行的编号（社区内唯一）
    key: String,
    fields: Vec<FieldChangeDoc>,
}

/// One changed value: 列 旧值 → 新值.
#[derive(Debug, utoipa::ToSchema)]
#[schema(as = FieldChange)]
#[allow(dead_code)]
pub struct FieldChangeDoc {
    /// 合同中的列名
    column: String,
    /// 中文表头
    header: String,
    old: Option<String>,
    new: Option<String>,
}

/// What an uploaded file would do in the caller's scope, writing nothing; audited.
pub async fn preview(state: &AppState, account: &Account, table: Table, job: Job) -> AppResult<PreviewAnswer> {
    let file_name = job.name.clone();
    let warehouse = state.warehouse.clone();
    let result = state
        .on_query_threads(async move {
            Ok(warehouse.preview_bytes(table, Path::new(&job.name), &job.bytes, &job.options()).await)
        })
        .await?;
    let preview = match result {
        Ok(p) => p,
        Err(e) => return Err(refused(state, account, "ingest_preview", table, &file_name, e).await),
    };
    let summary = preview.summary();
    state.catalog.audit(Some(account), "ingest_preview", table.name(), &format!("{file_name}: {summary}"), 200).await;
    Ok(PreviewAnswer {
        dry_run: true,
        table: table.name(),
        file_name,
        already_ingested: preview.already_ingested,
        would_commit: preview.would_commit,
        rows_new: preview.rows_new,
        rows_updated: preview.rows_updated,
        rows_unchanged: preview.rows_unchanged,
        rows_rejected: preview.rows_rejected,
        summary,
        errors: preview.file.iter().flat_map(|f| f.errors()).cloned().collect(),
        changes: preview.changes,
    })
}

/// Ingests an uploaded file in the caller's scope, records the batch in the catalog and
/// the audit log, and answers with every row error.
pub async fn ingest(state: &AppState, account: &Account, table: Table, job: Job) -> AppResult<IngestAnswer> {
    let (file_name, partial) = (job.name.clone(), job.options.partial);
    let warehouse = state.warehouse.clone();
    let result = state
        .on_query_threads(async move {
            Ok(warehouse.ingest_bytes(table, Path::new(&job.name), &job.bytes, &job.options()).await)
        })
        .await?;
    let report = match result {
        Ok(r) => r,
        Err(e) => return Err(refused(state, account, "ingest", table, &file_name, e).await),
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
        && let Err(e) = state.sync_places().await
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
                    "有 {} 行不合格，整批未写入。请按下面列出的错误改好后重新上传；或者勾选“只导入合格的行”，先写入合格的行，不合格的行下载后改好再传（接口调用时加参数 partial=true）",
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
        header_row: report.file.as_ref().and_then(|f| f.header_row),
        skipped: report.file.map(|f| f.skipped).unwrap_or_default(),
    })
}
