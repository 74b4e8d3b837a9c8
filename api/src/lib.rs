//! The yishi server: maps HTTP to the warehouse's scoped calls.
//!
//! - [`catalog`]: counties, communities, users, tokens, sessions, uploaded batches and the
//!   audit log in SQLite or PostgreSQL (sqlx, migrations run at start).
//! - [`auth`]: bearer tokens and session cookies as typed extractors; every request's
//!   scope goes down to the warehouse, which enforces it below the SQL.
//! - [`state`]: what every handler reaches ([`AppState`]): the warehouse, the catalog, the
//!   limits, the caches, the query threads.
//! - [`reports`], [`charts`], [`ledger`], [`uploads`], [`places`]: the server's work, which
//!   the JSON API and the pages both call — reports through the cache, charts drawn by
//!   `dashboards::charts`, the ledger rows the pages list, uploads read within the limits
//!   and ingested, places copied into the catalog.
//! - [`routes`]: the JSON API under `/api/v1`, `/healthz`, and the dashboards (HTML in
//!   Chinese rendered by `dashboards::pages`); they only map requests to those calls and
//!   answers to responses.
//! - [`schemes`]: each county's scoring schemes (versioned, in the catalog) and frozen
//!   year-end results; [`reports`] computes every county with its scheme in force.
//! - [`cache`]: reports, chart images and years with data, keyed by what they were
//!   computed from (scope, period, every county's scheme version, table versions).
//! - [`queries`]: the warehouse's own threads.
//! - [`login`]: failed logins throttled per user name and client address, password hashing
//!   bounded.
//!
//! [`router`] is the unit under test; it adds the security headers to every response.
//! [`serve`] binds it with limits, request logs, the client's address and a graceful
//! shutdown.

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod charts;
pub mod delivery;
pub mod documents;
pub mod error;
pub mod holds;
pub mod ledger;
pub mod login;
pub mod openapi;
pub mod packs;
pub mod places;
pub mod public;
pub mod queries;
pub mod reports;
pub mod routes;
pub mod schedule;
pub mod schemes;
pub mod state;
pub mod uploads;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

pub use catalog::Catalog;
pub use error::{AppError, AppResult};
pub use state::{AppState, Config, Inner};

/// The `Content-Security-Policy` of HTML pages: only this site's images (and `data:`), the
/// pages' inline style sheet and their one `javascript:window.print()` link; no framing, no
/// `<base>`, forms post only here.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
     script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The `Content-Security-Policy` of everything else (JSON, CSV, XLSX, PNG, SVG, redirects):
/// opened directly, nothing in it loads or runs (an SVG chart draws text from uploaded
/// names), only inline styles and images as an SVG needs.
pub const DATA_CSP: &str = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy for `response`: its own when its handler set a stricter one (the public
/// page allows no script), else by content type.
fn content_security_policy(response: &Response) -> Option<HeaderValue> {
    if let Some(own) = response.headers().get(header::CONTENT_SECURITY_POLICY) {
        return Some(own.clone());
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let html = content_type.trim_start().to_ascii_lowercase().starts_with("text/html");
    Some(HeaderValue::from_static(if html { PAGE_CSP } else { DATA_CSP }))
}

/// The whole application: API, pages, health, with limits, request logs, the
/// `Authorization` and `Cookie` headers hidden from logs, and the security headers
/// (`Content-Security-Policy`, `X-Frame-Options`, `X-Content-Type-Options`,
/// `Referrer-Policy`) on every response, errors included.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout;
    let body_limit = state.config.max_body_bytes;
    routes::routes(state.clone())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(move |req: Request, next: Next| request_timeout(timeout, req, next)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetSensitiveRequestHeadersLayer::new([header::AUTHORIZATION, header::COOKIE]))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            content_security_policy as fn(&Response) -> Option<HeaderValue>,
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
}

async fn request_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => AppError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("请求处理超过 {} 秒，已中止；请缩小范围后重试", limit.as_secs()),
        )
        .into_response(),
    }
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then finishes the
/// requests in flight and closes the catalog. Each request carries its peer's address
/// (`ConnectInfo<SocketAddr>`) for the login throttle.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let catalog = state.catalog.clone();
    // The written reports' PDF font, compressed before the first download asks for it.
    tokio::task::spawn_blocking(dashboards::documents::pdf::prepare);
    let app = router(state);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await?;
    catalog.close().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
