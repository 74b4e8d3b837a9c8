//! The yishi server: maps HTTP to the warehouse's scoped calls.
//!
//! - [`catalog`]: counties, communities, users, tokens, sessions, uploaded batches and the
//!   audit log in SQLite or PostgreSQL (sqlx, migrations run at start).
//! - [`auth`]: bearer tokens and session cookies as typed extractors; every request's
//!   scope goes down to the warehouse, which enforces it below the SQL.
//! - [`routes`]: the JSON API under `/api/v1`, `/healthz`, and the dashboards (HTML in
//!   Chinese rendered by `dashboards::pages`).
//! - [`cache`]: reports keyed by scope, period, scheme and table versions.
//! - [`login`]: failed logins throttled per user name and client address, password hashing
//!   bounded.
//!
//! [`router`] is the unit under test; it adds the security headers to every response.
//! [`serve`] binds it with limits, request logs, the client's address and a graceful
//! shutdown.

pub mod accounts;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod charts;
pub mod error;
pub mod login;
pub mod openapi;
pub mod queries;
pub mod routes;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use warehouse::Warehouse;

pub use catalog::Catalog;
pub use error::{AppError, AppResult};

/// Limits and settings of a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest ledger file accepted by an upload.
    pub max_upload_bytes: u64,
    /// Largest body of any other request (SQL, login form).
    pub max_body_bytes: usize,
    /// A request still running after this is answered 503 `timeout`.
    pub request_timeout: Duration,
    /// How long a browser login lasts.
    pub session_ttl: Duration,
    /// Reports kept in the cache.
    pub cache_entries: usize,
    /// Warehouse queries (reports, SQL, ingests) run at once; others wait their turn.
    pub max_concurrent_queries: usize,
    /// Largest result of ad-hoc SQL, in rows.
    pub max_sql_rows: usize,
    /// Largest result of ad-hoc SQL, in bytes (JSON or CSV alike).
    pub max_sql_bytes: usize,
    /// Uploaded files held in memory at once, in bytes, over all uploads: a further upload
    /// is answered 503 with `Retry-After` until earlier ones are done.
    pub upload_memory_bytes: u64,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    /// Failed-login throttle and password-hashing bounds.
    pub login: login::LoginLimits,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_upload_bytes: 256 << 20,
            max_body_bytes: 1 << 20,
            request_timeout: Duration::from_secs(120),
            session_ttl: Duration::from_secs(12 * 3600),
            cache_entries: 512,
            max_concurrent_queries: 4,
            max_sql_rows: 100_000,
            max_sql_bytes: 64 << 20,
            upload_memory_bytes: 1 << 30,
            secure_cookies: false,
            login: login::LoginLimits::default(),
        }
    }
}

/// Everything a handler reaches: the warehouse, the catalog, the limits, the cache.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub warehouse: Warehouse,
    pub catalog: Catalog,
    pub config: Config,
    pub cache: cache::ReportCache,
    pub images: charts::ImageCache,
    pub queries: tokio::sync::Semaphore,
    /// The warehouse's own threads (see [`queries::QueryRuntime`]).
    pub query_runtime: queries::QueryRuntime,
    /// Upload bytes held in memory, in KiB permits (see [`Config::upload_memory_bytes`]).
    pub upload_memory: Arc<tokio::sync::Semaphore>,
    /// Failed logins per user name and client address.
    pub logins: login::Throttle,
    /// Password verifications at once.
    pub hashing: login::HashGate,
    /// The years with data in each scope asked about, with the table versions they were
    /// read at.
    pub years: std::sync::Mutex<YearsSeen>,
}

/// The table versions the years were read at, and the years of each scope asked about.
pub type YearsSeen =
    (std::collections::BTreeMap<ingest::Table, u64>, std::collections::HashMap<ingest::Scope, Vec<i32>>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(warehouse: Warehouse, catalog: Catalog, config: Config) -> AppState {
        AppState(Arc::new(Inner {
            cache: cache::ReportCache::new(config.cache_entries),
            images: charts::ImageCache::default(),
            queries: tokio::sync::Semaphore::new(config.max_concurrent_queries.max(1)),
            query_runtime: queries::QueryRuntime::new(),
            upload_memory: Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(config.upload_memory_bytes >> 10)
                    .unwrap_or(usize::MAX)
                    .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            )),
            years: std::sync::Mutex::new(Default::default()),
            logins: login::Throttle::new(&config.login),
            hashing: login::HashGate::new(config.login.max_hashing, config.login.max_waiting),
            warehouse,
            catalog,
            config,
        }))
    }

    /// Runs one internal (trusted, unbounded) query in `scope` on the query threads, as
    /// one of the queries allowed at once.
    pub async fn query(&self, scope: &ingest::Scope, sql: &str) -> AppResult<warehouse::QueryResult> {
        let _permit = self.queries.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
        let (warehouse, scope, sql) = (self.warehouse.clone(), scope.clone(), sql.to_string());
        self.query_runtime.run(async move { Ok(warehouse.sql(&scope, &sql).await?) }).await
    }

    /// Copies the communities table's counties and communities into the catalog (for the
    /// filters and to check account scopes).
    pub async fn sync_places(&self) -> AppResult<usize> {
        routes::sync_places(self).await
    }
}

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

fn content_security_policy(response: &Response) -> Option<HeaderValue> {
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
