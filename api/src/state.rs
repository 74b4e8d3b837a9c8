//! What every handler reaches: the warehouse, the catalog, the limits, the caches and the
//! query threads ([`AppState`]), and the server's settings ([`Config`]).

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use warehouse::Warehouse;

use crate::cache::{CoverageCache, ImageCache, ReportCache};
use crate::catalog::Catalog;
use crate::error::{AppError, AppResult};
use crate::login::{HashGate, LoginLimits, Throttle};
use crate::queries::QueryRuntime;

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
    pub login: LoginLimits,
    /// Accept and send to alert webhooks on loopback, private and link-local addresses
    /// (off: refused, against SSRF; see `delivery`).
    pub allow_private_webhooks: bool,
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
            login: LoginLimits::default(),
            allow_private_webhooks: false,
        }
    }
}

/// Everything a handler reaches: the warehouse, the catalog, the limits, the caches.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub warehouse: Warehouse,
    pub catalog: Catalog,
    pub config: Config,
    pub cache: ReportCache,
    pub images: ImageCache,
    pub queries: tokio::sync::Semaphore,
    /// The warehouse's own threads (see [`QueryRuntime`]).
    pub query_runtime: QueryRuntime,
    /// Upload bytes held in memory, in KiB permits (see [`Config::upload_memory_bytes`]).
    pub upload_memory: Arc<tokio::sync::Semaphore>,
    /// Failed logins per user name and client address.
    pub logins: Throttle,
    /// Password verifications at once.
    pub hashing: HashGate,
    /// The quarters with topics in each scope asked about.
    pub coverage: CoverageCache,
    /// Files previewed on the upload page, waiting for confirmation.
    pub holds: crate::holds::Holds,
    /// Public 晒 page requests per client address.
    pub public_pages: crate::public::PublicThrottle,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(warehouse: Warehouse, catalog: Catalog, config: Config) -> AppState {
        AppState(Arc::new(Inner {
            cache: ReportCache::new(config.cache_entries),
            images: ImageCache::default(),
            queries: tokio::sync::Semaphore::new(config.max_concurrent_queries.max(1)),
            query_runtime: QueryRuntime::new(),
            upload_memory: Arc::new(tokio::sync::Semaphore::new(
                usize::try_from(config.upload_memory_bytes >> 10)
                    .unwrap_or(usize::MAX)
                    .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
            )),
            coverage: CoverageCache::default(),
            holds: crate::holds::Holds::default(),
            public_pages: crate::public::PublicThrottle::new(60),
            logins: Throttle::new(&config.login),
            hashing: HashGate::new(config.login.max_hashing, config.login.max_waiting),
            warehouse,
            catalog,
            config,
        }))
    }

    /// Runs `work` on the query threads (see [`QueryRuntime`]) as one of the warehouse
    /// queries allowed at once; the others wait their turn.
    pub async fn on_query_threads<T, F>(&self, work: F) -> AppResult<T>
    where
        F: Future<Output = AppResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let _permit = self.queries.acquire().await.map_err(|e| AppError::Internal(e.to_string()))?;
        self.query_runtime.run(work).await
    }

    /// Runs one internal (trusted, unbounded) query in `scope` on the query threads, as
    /// one of the queries allowed at once.
    pub async fn query(&self, scope: &ingest::Scope, sql: &str) -> AppResult<warehouse::QueryResult> {
        let (warehouse, scope, sql) = (self.warehouse.clone(), scope.clone(), sql.to_string());
        self.on_query_threads(async move { Ok(warehouse.sql(&scope, &sql).await?) }).await
    }
}
