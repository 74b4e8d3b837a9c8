//! The pages' assets: the tables' script (`dashboards::pages::TABLES_JS`, public, revalidated
//! each time: it is small and changes with yishi), and the embedded CJK font (`dashboards::fonts::CJK_FONT`), so a
//! machine without Chinese fonts shows 汉字 rather than boxes. Same origin (the pages'
//! `default-src 'self'` allows it), public (the login page needs it too), cached for a
//! week and revalidated by its ETag, the SHA-256 of the font.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// `GET /assets/cjk.otf` ([`dashboards::fonts::CJK_FONT_PATH`]): the font, or 304 when the
/// browser's copy is current.
pub async fn cjk_font(headers: HeaderMap) -> Response {
    let etag = etag();
    let current = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag.to_str().unwrap_or_default()));
    let cache = HeaderValue::from_static("public, max-age=604800");
    if current {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)])
            .into_response();
    }
    let font_type = HeaderValue::from_static("font/otf");
    (
        [(header::CONTENT_TYPE, font_type), (header::ETAG, etag.clone()), (header::CACHE_CONTROL, cache)],
        dashboards::fonts::CJK_FONT,
    )
        .into_response()
}

/// `"<first 16 bytes of the font's SHA-256, hex>"`, computed once.
fn etag() -> &'static HeaderValue {
    static ETAG: OnceLock<HeaderValue> = OnceLock::new();
    ETAG.get_or_init(|| {
        let digest = Sha256::digest(dashboards::fonts::CJK_FONT);
        let tag = format!("\"{}\"", hex::encode(&digest[..16]));
        HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"cjk\""))
    })
}

/// `GET /assets/tables.js` ([`dashboards::pages::TABLES_JS_PATH`]): sorting, search and
/// paging of the pages' tables.
pub async fn tables_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, no-cache")),
        ],
        dashboards::pages::TABLES_JS,
    )
        .into_response()
}
