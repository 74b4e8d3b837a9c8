//! One error type for every handler: a status, a stable code and a Chinese message, sent as
//! `{"code": "...", "message": "..."}`. Internal failures are logged with their detail and
//! shown to the caller as a plain "服务器内部错误".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Status { status: StatusCode, code: &'static str, message: String },

    #[error(transparent)]
    Warehouse(#[from] warehouse::WarehouseError),

    #[error("目录数据库出错：{0}")]
    Catalog(#[from] sqlx::Error),

    #[error("{0}")]
    Internal(String),

    /// A refusal the caller may try again after `seconds` (`Retry-After`).
    #[error("{inner}")]
    RetryAfter { inner: Box<AppError>, seconds: u64 },
}

/// The JSON body of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// 稳定的英文代码，例如 forbidden_scope、invalid_token、payload_too_large、sql_refused、timeout
    pub code: String,
    /// 中文说明
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Status { status, code, message: message.into() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_large(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// The same refusal, telling the caller to try again after `seconds`.
    pub fn with_retry_after(self, seconds: u64) -> AppError {
        AppError::RetryAfter { inner: Box::new(self), seconds }
    }

    /// Status, code and the message the caller may see.
    pub fn parts(&self) -> (StatusCode, String, String) {
        match self {
            AppError::Status { status, code, message } => (*status, (*code).to_string(), message.clone()),
            AppError::Warehouse(e) => warehouse_parts(e),
            AppError::RetryAfter { inner, .. } => inner.parts(),
            AppError::Catalog(_) | AppError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal".into(), "服务器内部错误，请稍后再试或联系管理员".into())
            }
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }
}

/// Warehouse and ingest errors end their message with `(token)`: the token becomes the
/// code, the text the message. Errors of the caller's input are 4xx; the rest are internal.
fn warehouse_parts(e: &warehouse::WarehouseError) -> (StatusCode, String, String) {
    use warehouse::WarehouseError as W;
    let text = e.to_string();
    let code = token_of(&text).unwrap_or("warehouse_error").to_string();
    let status = match e {
        W::SqlRefused(_) | W::Bounded(_) | W::UnknownCode { .. } => StatusCode::BAD_REQUEST,
        W::Query(inner) => {
            let detail = inner.to_string();
            if detail.contains("Resources exhausted") {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "memory_limit".into(),
                    "查询超出内存上限，请缩小范围（县区、季度）后重试 (memory_limit)".into(),
                );
            }
            StatusCode::BAD_REQUEST
        }
        W::Ingest(inner) => match inner {
            ingest::IngestError::FileTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ingest::IngestError::TableNotAllowed { .. } => StatusCode::FORBIDDEN,
            ingest::IngestError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        },
        W::NotInitialised(_) | W::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
        W::Conflict(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        return (status, "internal".into(), "服务器内部错误，请稍后再试或联系管理员".into());
    }
    (status, code, text)
}

/// The `(token)` at the end of a message (or before a `；` hint).
fn token_of(text: &str) -> Option<&str> {
    let mut best = None;
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        let inner = &after[..close];
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            best = Some(inner);
        }
        rest = &after[close + 1..];
    }
    best
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = %self, code = %code, "request failed");
        } else {
            tracing::debug!(error = %self, code = %code, "request refused");
        }
        let mut response = (status, axum::Json(ErrorBody { code, message })).into_response();
        let retry = match &self {
            AppError::RetryAfter { seconds, .. } => Some(*seconds),
            AppError::Warehouse(warehouse::WarehouseError::Conflict(_) | warehouse::WarehouseError::Timeout(_)) => {
                Some(5)
            }
            _ => None,
        };
        if let Some(seconds) = retry {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(seconds));
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::token_of;

    #[test]
    fn tokens_are_found_at_the_end() {
        assert_eq!(token_of("查询被拒绝：只允许 (sql_refused)"), Some("sql_refused"));
        assert_eq!(token_of("文件 a (1).csv 太大 (file_too_large)；请拆分"), Some("file_too_large"));
        assert_eq!(token_of("没有"), None);
    }
}
