//! File downloads: the content types the server sends and the `Content-Disposition` that
//! names a download in ASCII and in Chinese. The bytes themselves are encoded by
//! `dashboards::encoding` (CSV), `dashboards::xlsx` and `dashboards::charts`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A file download: content type and `Content-Disposition` with an ASCII name and the
/// Chinese name (RFC 5987).
pub fn download(bytes: Vec<u8>, content_type: &'static str, ascii_name: &str, chinese_name: &str) -> Response {
    let disposition =
        format!("attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{}", crate::auth::urlencode(chinese_name));
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

pub const CSV: &str = "text/csv; charset=utf-8";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const PNG: &str = "image/png";
pub const SVG: &str = "image/svg+xml";
