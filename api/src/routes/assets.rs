//! The pages' assets, all same origin (the pages' `default-src 'self'` allows them) and
//! public (the login page needs the font too):
//! - the tables' and the charts' scripts (`dashboards::pages::TABLES_JS`, `CHARTS_JS`):
//!   small and changing with yishi, so revalidated each time;
//! - the embedded CJK font (`dashboards::fonts::CJK_FONT`), so a machine without Chinese
//!   fonts shows 汉字 rather than boxes, and Apache ECharts (`dashboards::pages::ECHARTS_JS`,
//!   1 MB): cached for a week and revalidated by their ETag, the SHA-256 of the bytes.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// `GET /assets/cjk.otf` ([`dashboards::fonts::CJK_FONT_PATH`]): the font, or 304 when the
/// browser's copy is current.
pub async fn cjk_font(headers: HeaderMap) -> Response {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    cached(&headers, dashboards::fonts::CJK_FONT, "font/otf", &ETAG)
}

/// `GET /assets/echarts.min.js` ([`dashboards::pages::ECHARTS_JS_PATH`]): Apache ECharts,
/// or 304 when the browser's copy is current.
pub async fn echarts_js(headers: HeaderMap) -> Response {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    cached(&headers, dashboards::pages::ECHARTS_JS, "text/javascript; charset=utf-8", &ETAG)
}

/// `bytes` with a week's public cache and their ETag, or 304 when the request's
/// `If-None-Match` names that ETag.
fn cached(
    headers: &HeaderMap,
    bytes: &'static [u8],
    content_type: &'static str,
    etag: &'static OnceLock<HeaderValue>,
) -> Response {
    let etag = etag.get_or_init(|| etag_of(bytes));
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag.to_str().unwrap_or_default()));
    let cache = HeaderValue::from_static("public, max-age=604800");
    if current {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)])
            .into_response();
    }
    let content_type = HeaderValue::from_static(content_type);
    ([(header::CONTENT_TYPE, content_type), (header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)], bytes)
        .into_response()
}

/// `"<first 16 bytes of the SHA-256 of bytes, hex>"`.
fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let tag = format!("\"{}\"", hex::encode(&digest[..16]));
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"asset\""))
}

/// `GET /assets/tables.js` ([`dashboards::pages::TABLES_JS_PATH`]): sorting, search and
/// paging of the pages' tables.
pub async fn tables_js() -> Response {
    script(dashboards::pages::TABLES_JS)
}

/// `GET /assets/charts.js` ([`dashboards::pages::CHARTS_JS_PATH`]): the pages' charts as
/// ECharts charts.
pub async fn charts_js() -> Response {
    script(dashboards::pages::CHARTS_JS)
}

/// One of the pages' own scripts: small, revalidated each time.
fn script(text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache")),
        ],
        text,
    )
        .into_response()
}
