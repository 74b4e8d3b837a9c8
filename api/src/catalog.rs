//! The catalog: counties, communities, users, API tokens, browser sessions, the ingest
//! batches uploaded through the server and the audit log, in SQL.
//!
//! One code path for both backends: an `AnyPool` over SQLite (the default, a file
//! `yishi.db` inside the warehouse folder) or PostgreSQL (`--catalog postgres://…`), with a
//! portable schema (TEXT, BIGINT, booleans as 0/1, times as epoch milliseconds) and `$n`
//! placeholders, which SQLite accepts too. Each backend has its own migrations folder; the
//! migrations run when the catalog is opened.

use std::time::Duration;

use ingest::Scope;
use serde::Serialize;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, FromRow, Row};

use crate::accounts::{self, Account, Role};
use crate::error::{AppError, AppResult};
use crate::login::HashGate;

/// The SQL catalog of the server.
#[derive(Debug, Clone)]
pub struct Catalog {
    pool: AnyPool,
    backend: Backend,
}

/// Which database holds the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The catalog URL of a warehouse: `sqlite://<warehouse>/yishi.db?mode=rwc`.
pub fn default_url(warehouse_root: &str) -> AppResult<String> {
    let location = warehouse::Location::parse(warehouse_root)?;
    let dir = location.local_dir().ok_or_else(|| {
        AppError::bad_request(
            "catalog_required",
            "仓库不在本地磁盘上，请用 --catalog postgres://… 指定目录数据库（或 YISHI_CATALOG）",
        )
    })?;
    std::fs::create_dir_all(&dir).map_err(|e| AppError::Internal(format!("无法创建 {}：{e}", dir.display())))?;
    Ok(format!("sqlite://{}?mode=rwc", dir.join("yishi.db").display()))
}

/// A user row.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub scope_code: Option<String>,
    pub disabled: i64,
}

/// An API token as listed (never the token itself).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub prefix: String,
    pub label: String,
    pub role: String,
    pub scope_code: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A batch uploaded through the server.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct BatchRow {
    pub id: i64,
    /// Epoch milliseconds, UTC.
    pub at: i64,
    pub actor: String,
    pub role: String,
    pub county_code: Option<String>,
    pub community_code: Option<String>,
    pub table_name: String,
    pub file_name: String,
    pub file_sha256: String,
    pub outcome: String,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub rows_inserted: i64,
    pub rows_updated: i64,
    pub version: Option<i64>,
}

/// A batch to record.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub account: &'a Account,
    pub table_name: &'a str,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub outcome: &'a str,
    pub rows_accepted: i64,
    pub rows_rejected: i64,
    pub rows_inserted: i64,
    pub rows_updated: i64,
    pub version: Option<i64>,
    pub errors_json: String,
    pub rejects_csv: Option<Vec<u8>>,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub role: String,
    pub county_code: Option<String>,
    pub community_code: Option<String>,
    /// login, login_failed, logout, ingest, report, export, chart, sql, page.
    pub action: String,
    /// What was acted on: a report and its period, a table, a query.
    pub target: String,
    pub detail: String,
    /// The HTTP status answered.
    pub status: i64,
}

/// A county or community as the filters list them.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Place {
    pub code: String,
    pub name: String,
    pub county_code: String,
}

/// Epoch milliseconds as Beijing time, "2026-12-07 11:14".
pub fn beijing_time(ms: i64) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&offset).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

const USER_COLUMNS: &str = "id, username, display_name, password_hash, role, scope_code, disabled";
const BATCH_COLUMNS: &str = "id, at, actor, role, county_code, community_code, table_name, file_name, file_sha256, \
     outcome, rows_accepted, rows_rejected, rows_inserted, rows_updated, version";

impl Catalog {
    /// Connects to `url` (sqlite:… or postgres://…) and runs the migrations.
    pub async fn open(url: &str) -> AppResult<Catalog> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(AppError::bad_request(
                "bad_catalog_url",
                format!("目录数据库地址“{}”无法识别：应为 sqlite://文件?mode=rwc 或 postgres://…", redact(url)),
            ));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let max = if backend == Backend::Sqlite { 4 } else { 8 };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .connect(&url)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, url = %redact(&url), "catalog connect failed");
                AppError::new(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    "catalog_unavailable",
                    format!("无法连接目录数据库 {}：{e}", redact(&url)),
                )
            })?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await,
        };
        migrated.map_err(|e| AppError::Internal(format!("目录数据库迁移失败：{e}")))?;
        Ok(Catalog { pool, backend })
    }

    /// The pool, for the modules that keep their own tables in the catalog (alerts).
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub async fn ping(&self) -> AppResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    // ---- counties and communities -------------------------------------------------

    pub async fn upsert_county(&self, code: &str, name: &str) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO counties (code, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        )
        .bind(code)
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn upsert_community(&self, code: &str, county_code: &str, name: &str) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO communities (code, county_code, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, county_code = excluded.county_code",
        )
        .bind(code)
        .bind(county_code)
        .bind(name)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Counties the scope may see, by code.
    pub async fn counties(&self, scope: &Scope) -> AppResult<Vec<Place>> {
        let (filter, code) = match scope.county_code() {
            Some(c) => (" WHERE code = $1", Some(c.to_string())),
            None => ("", None),
        };
        let sql = format!("SELECT code, name, code AS county_code FROM counties{filter} ORDER BY code");
        let mut q = sqlx::query_as::<_, Place>(AssertSqlSafe(sql));
        if let Some(code) = code {
            q = q.bind(code);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// Communities the scope may see, by code.
    pub async fn communities(&self, scope: &Scope) -> AppResult<Vec<Place>> {
        let (filter, code) = match scope {
            Scope::Platform => ("", None),
            Scope::County(c) => (" WHERE county_code = $1", Some(c.clone())),
            Scope::Community(c) => (" WHERE code = $1", Some(c.clone())),
        };
        let sql = format!("SELECT code, name, county_code FROM communities{filter} ORDER BY code");
        let mut q = sqlx::query_as::<_, Place>(AssertSqlSafe(sql));
        if let Some(code) = code {
            q = q.bind(code);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    // ---- users ----------------------------------------------------------------------

    /// Adds a user with an argon2id hash of the password; refuses a taken name.
    pub async fn add_user(&self, username: &str, display_name: &str, password: &str, scope: &Scope) -> AppResult<i64> {
        let username = username.trim();
        if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
            return Err(AppError::bad_request("bad_username", "用户名不能为空、不能含空格，最多 64 个字符"));
        }
        accounts::check_password_strength(password)?;
        if self.user(username).await?.is_some() {
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                "user_exists",
                format!("用户“{username}”已存在；改密码请用 yishi user passwd"),
            ));
        }
        let hash = accounts::hash_password(password)?;
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, role, scope_code, disabled, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
        )
        .bind(username)
        .bind(if display_name.trim().is_empty() { username } else { display_name.trim() })
        .bind(hash)
        .bind(Role::of(scope).name())
        .bind(accounts::scope_code(scope).map(str::to_string))
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    pub async fn user(&self, username: &str) -> AppResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        Ok(sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql)).bind(username).fetch_optional(&self.pool).await?)
    }

    pub async fn set_password(&self, username: &str, password: &str) -> AppResult<bool> {
        accounts::check_password_strength(password)?;
        let hash = accounts::hash_password(password)?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
            .bind(hash)
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Disables a user and revokes its sessions and tokens.
    pub async fn disable_user(&self, username: &str) -> AppResult<bool> {
        let Some(user) = self.user(username).await? else { return Ok(false) };
        let now = now_ms();
        sqlx::query("UPDATE users SET disabled = 1 WHERE id = $1").bind(user.id).execute(&self.pool).await?;
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(user.id)
            .execute(&self.pool)
            .await?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(user.id)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    pub async fn users(&self) -> AppResult<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY id");
        Ok(sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql)).fetch_all(&self.pool).await?)
    }

    /// The account of a user whose password matches; `None` for a wrong name or password
    /// or a disabled user (the caller cannot tell which). Every check, the stand-in one for
    /// an unknown name included, runs through `gate` on the blocking pool; a full gate is a
    /// 503 `login_busy`.
    pub async fn login(&self, gate: &HashGate, username: &str, password: &str) -> AppResult<Option<Account>> {
        let user = self.user(username.trim()).await?;
        // An unknown name is checked against a stand-in hash, so names cannot be probed by
        // timing.
        let hash = user.as_ref().map_or_else(|| DUMMY_HASH.to_string(), |u| u.password_hash.clone());
        let password = password.to_string();
        let ok = gate.run(move || accounts::verify_password(&password, &hash)).await?;
        match user {
            Some(user) if ok && user.disabled == 0 => Ok(Some(account_of_user(&user, "session")?)),
            _ => Ok(None),
        }
    }

    // ---- API tokens -----------------------------------------------------------------

    /// Creates a token for the scope; returns its id and the token, which is shown once
    /// and stored only as its SHA-256 hash.
    pub async fn create_token(&self, label: &str, user: Option<&str>, scope: &Scope) -> AppResult<(i64, String)> {
        let user_id = match user {
            Some(name) => {
                let row = self.user(name).await?.ok_or_else(|| AppError::not_found(format!("用户“{name}”不存在")))?;
                let user_scope = accounts::scope_from(&row.role, row.scope_code.as_deref())?;
                if !contains(&user_scope, scope) {
                    return Err(AppError::forbidden(
                        "forbidden_scope",
                        format!("用户“{name}”（{user_scope}）不能持有{scope}的令牌"),
                    ));
                }
                Some(row.id)
            }
            None => None,
        };
        let token = accounts::new_secret(accounts::TOKEN_PREFIX);
        let row = sqlx::query(
            "INSERT INTO tokens (token_hash, prefix, label, user_id, role, scope_code, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(accounts::secret_hash(&token))
        .bind(accounts::display_prefix(&token))
        .bind(label)
        .bind(user_id)
        .bind(Role::of(scope).name())
        .bind(accounts::scope_code(scope).map(str::to_string))
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get::<i64, _>(0)?, token))
    }

    /// The account a bearer token stands for. Errors say whether it was unknown or revoked.
    pub async fn token_account(&self, token: &str) -> AppResult<Account> {
        let hash = accounts::secret_hash(token);
        let row = sqlx::query(
            "SELECT t.id, t.label, t.role, t.scope_code, t.revoked_at, u.username, u.display_name, u.disabled \
             FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Err(AppError::unauthorized("invalid_token", "令牌无效：请检查 Authorization: Bearer 后的令牌"));
        };
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let disabled: Option<i64> = row.try_get("disabled")?;
        if revoked.is_some() || disabled.unwrap_or(0) != 0 {
            return Err(AppError::unauthorized("token_revoked", "令牌已被吊销，请向管理员申请新令牌"));
        }
        let id: i64 = row.try_get("id")?;
        let role: String = row.try_get("role")?;
        let code: Option<String> = row.try_get("scope_code")?;
        let label: String = row.try_get("label")?;
        let username: Option<String> = row.try_get("username")?;
        let display: Option<String> = row.try_get("display_name")?;
        let scope = accounts::scope_from(&role, code.as_deref())?;
        // Best effort (a failed update must not refuse the request), at most once a minute
        // per token so that busy scripts do not turn every read into a write.
        let now = now_ms();
        let _ = sqlx::query(
            "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(now - 60_000)
        .execute(&self.pool)
        .await;
        let name = username.unwrap_or(label);
        Ok(Account {
            display_name: display.unwrap_or_else(|| name.clone()),
            name,
            role: Role::of(&scope),
            scope,
            via: "token",
        })
    }

    /// Revokes tokens by id, by the shown prefix, or by the token itself. Returns how many
    /// were revoked.
    pub async fn revoke_token(&self, selector: &str) -> AppResult<u64> {
        let selector = selector.trim();
        let now = now_ms();
        let done = if let Ok(id) = selector.parse::<i64>() {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?
        } else if selector.len() > accounts::TOKEN_PREFIX.len() + 6 {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(accounts::secret_hash(selector))
                .execute(&self.pool)
                .await?
        } else {
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE prefix = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(selector)
                .execute(&self.pool)
                .await?
        };
        Ok(done.rows_affected())
    }

    pub async fn tokens(&self) -> AppResult<Vec<TokenInfo>> {
        Ok(sqlx::query_as::<_, TokenInfo>(
            "SELECT id, prefix, label, role, scope_code, created_at, last_used_at, revoked_at FROM tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    // ---- browser sessions ------------------------------------------------------------

    /// A new session for a user; returns the session id for the cookie (stored hashed).
    pub async fn create_session(&self, username: &str, ttl: Duration) -> AppResult<String> {
        let user = self.user(username).await?.ok_or_else(|| AppError::not_found("用户不存在"))?;
        let secret = accounts::new_secret(accounts::SESSION_PREFIX);
        let now = now_ms();
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX / 2);
        sqlx::query("INSERT INTO sessions (session_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(accounts::secret_hash(&secret))
            .bind(user.id)
            .bind(now)
            .bind(now.saturating_add(ttl_ms))
            .execute(&self.pool)
            .await?;
        Ok(secret)
    }

    /// The account of a live session, or `None` (unknown, expired, revoked, user disabled).
    pub async fn session_account(&self, secret: &str) -> AppResult<Option<Account>> {
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.session_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        let user = sqlx::query_as::<_, UserRow>(AssertSqlSafe(sql))
            .bind(accounts::secret_hash(secret))
            .bind(now_ms())
            .fetch_optional(&self.pool)
            .await?;
        match user {
            Some(u) if u.disabled == 0 => Ok(Some(account_of_user(&u, "session")?)),
            _ => Ok(None),
        }
    }

    pub async fn end_session(&self, secret: &str) -> AppResult<()> {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE session_hash = $2")
            .bind(now_ms())
            .bind(accounts::secret_hash(secret))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- ingest batches ---------------------------------------------------------------

    pub async fn record_batch(&self, b: &NewBatch<'_>) -> AppResult<i64> {
        let row = sqlx::query(
            "INSERT INTO ingest_batches (at, actor, role, county_code, community_code, table_name, file_name, \
             file_sha256, outcome, rows_accepted, rows_rejected, rows_inserted, rows_updated, version, errors_json, \
             rejects_csv) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(now_ms())
        .bind(&b.account.name)
        .bind(b.account.role.name())
        .bind(b.account.county_code().map(str::to_string))
        .bind(b.account.community_code().map(str::to_string))
        .bind(b.table_name)
        .bind(b.file_name)
        .bind(b.file_sha256)
        .bind(b.outcome)
        .bind(b.rows_accepted)
        .bind(b.rows_rejected)
        .bind(b.rows_inserted)
        .bind(b.rows_updated)
        .bind(b.version)
        .bind(&b.errors_json)
        .bind(b.rejects_csv.clone())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)?)
    }

    /// Batches uploaded by accounts inside `scope`, newest first.
    pub async fn batches(&self, scope: &Scope, limit: i64) -> AppResult<Vec<BatchRow>> {
        let (filter, binds) = scope_filter(scope, 1);
        let sql = format!("SELECT {BATCH_COLUMNS} FROM ingest_batches{filter} ORDER BY id DESC LIMIT {}", limit.max(1));
        let mut q = sqlx::query_as::<_, BatchRow>(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// One batch of the scope, with its row errors (JSON) and rejects CSV.
    pub async fn batch(&self, scope: &Scope, id: i64) -> AppResult<Option<(BatchRow, String, Option<Vec<u8>>)>> {
        let (filter, binds) = scope_filter(scope, 2);
        let filter = if filter.is_empty() { String::new() } else { filter.replacen(" WHERE ", " AND ", 1) };
        let sql = format!("SELECT {BATCH_COLUMNS}, errors_json, rejects_csv FROM ingest_batches WHERE id = $1{filter}");
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id);
        for b in binds {
            q = q.bind(b);
        }
        let Some(row) = q.fetch_optional(&self.pool).await? else { return Ok(None) };
        let batch = BatchRow::from_row(&row)?;
        let errors: String = row.try_get("errors_json")?;
        let rejects: Option<Vec<u8>> = row.try_get("rejects_csv")?;
        Ok(Some((batch, errors, rejects)))
    }

    // ---- audit log --------------------------------------------------------------------

    /// Records an action; a failure is logged, never shown (the action already happened).
    pub async fn audit(&self, account: Option<&Account>, action: &str, target: &str, detail: &str, status: u16) {
        let (actor, role) = match account {
            Some(a) => (a.name.as_str(), a.role.name()),
            None => ("anonymous", "none"),
        };
        let result = sqlx::query(
            "INSERT INTO audit_log (at, actor, role, county_code, community_code, action, target, detail, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(now_ms())
        .bind(actor)
        .bind(role)
        .bind(account.and_then(|a| a.county_code()).map(str::to_string))
        .bind(account.and_then(|a| a.community_code()).map(str::to_string))
        .bind(action)
        .bind(truncate(target, 500))
        .bind(truncate(detail, 2000))
        .bind(i64::from(status))
        .execute(&self.pool)
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, action, "audit log write failed");
        }
    }

    /// Audit lines of accounts inside `scope`, newest first.
    pub async fn audit_log(&self, scope: &Scope, action: Option<&str>, limit: i64) -> AppResult<Vec<AuditRow>> {
        let (mut filter, mut binds) = scope_filter(scope, 1);
        if let Some(action) = action {
            let n = binds.len() + 1;
            filter.push_str(&format!("{} action = ${n}", if filter.is_empty() { " WHERE" } else { " AND" }));
            binds.push(action.to_string());
        }
        let sql = format!(
            "SELECT id, at, actor, role, county_code, community_code, action, target, detail, status \
             FROM audit_log{filter} ORDER BY id DESC LIMIT {}",
            limit.max(1)
        );
        let mut q = sqlx::query_as::<_, AuditRow>(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }
}

// ---- county schemes and frozen results ---------------------------------------------------

/// One version of a county's scoring scheme.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct SchemeRow {
    pub county_code: String,
    /// 1, 2, … per county, in upload order.
    pub version: i64,
    pub name: String,
    /// The uploaded TOML text, as uploaded.
    pub toml: String,
    /// SHA-256 of the scheme's canonical form (`Scheme::hash`), as reports name it.
    pub hash: String,
    /// YYYY-MM-DD: used for periods ending on or after this day.
    pub in_force_from: String,
    pub uploaded_by: String,
    /// Epoch milliseconds, UTC.
    pub uploaded_at: i64,
}

/// A frozen year-end assessment: the scheme version and table versions it was computed on.
#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
pub struct FreezeRow {
    pub county_code: String,
    pub year: i64,
    /// The county's scheme version (none: the contract's default).
    pub scheme_version: Option<i64>,
    /// `topics=3,evaluations=5,…`, as `as_of_version` takes it.
    pub versions: String,
    pub frozen_by: String,
    /// Epoch milliseconds, UTC.
    pub frozen_at: i64,
}

/// A scheme to store.
#[derive(Debug, Clone)]
pub struct NewScheme<'a> {
    pub county_code: &'a str,
    pub name: &'a str,
    pub toml: &'a str,
    pub hash: &'a str,
    pub in_force_from: &'a str,
    pub uploaded_by: &'a str,
}

const SCHEME_COLUMNS: &str = "county_code, version, name, toml, hash, in_force_from, uploaded_by, uploaded_at";

impl Catalog {
    /// Stores a county's next scheme version (one more than its last). Two uploads at once
    /// may pick the same number: the second is a 409, to be sent again.
    pub async fn add_scheme(&self, s: &NewScheme<'_>) -> AppResult<SchemeRow> {
        let last: Option<i64> = sqlx::query("SELECT MAX(version) FROM schemes WHERE county_code = $1")
            .bind(s.county_code)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let version = last.unwrap_or(0) + 1;
        let inserted = sqlx::query(
            "INSERT INTO schemes (county_code, version, name, toml, hash, in_force_from, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.county_code)
        .bind(version)
        .bind(s.name)
        .bind(s.toml)
        .bind(s.hash)
        .bind(s.in_force_from)
        .bind(s.uploaded_by)
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        if let Err(e) = inserted {
            tracing::warn!(error = %e, county = s.county_code, "scheme insert failed");
            return Err(AppError::new(
                axum::http::StatusCode::CONFLICT,
                "scheme_conflict",
                format!("县区 {} 同时有另一个方案上传，请重新上传", s.county_code),
            ));
        }
        self.scheme(s.county_code, version)
            .await?
            .ok_or_else(|| AppError::Internal("scheme just stored is gone".into()))
    }

    /// A county's scheme versions, newest first.
    pub async fn schemes(&self, county_code: &str) -> AppResult<Vec<SchemeRow>> {
        let sql = format!("SELECT {SCHEME_COLUMNS} FROM schemes WHERE county_code = $1 ORDER BY version DESC");
        Ok(sqlx::query_as::<_, SchemeRow>(AssertSqlSafe(sql)).bind(county_code).fetch_all(&self.pool).await?)
    }

    pub async fn scheme(&self, county_code: &str, version: i64) -> AppResult<Option<SchemeRow>> {
        let sql = format!("SELECT {SCHEME_COLUMNS} FROM schemes WHERE county_code = $1 AND version = $2");
        Ok(sqlx::query_as::<_, SchemeRow>(AssertSqlSafe(sql))
            .bind(county_code)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Each county's scheme in force on `day` (YYYY-MM-DD): of the versions in force from
    /// that day or earlier, the latest uploaded. `county`: that county's only.
    pub async fn schemes_in_force(&self, day: &str, county: Option<&str>) -> AppResult<Vec<SchemeRow>> {
        let filter = if county.is_some() { " AND county_code = $2" } else { "" };
        let sql = format!(
            "SELECT {SCHEME_COLUMNS} FROM schemes WHERE in_force_from <= $1{filter} ORDER BY county_code, version DESC"
        );
        let mut q = sqlx::query_as::<_, SchemeRow>(AssertSqlSafe(sql)).bind(day);
        if let Some(c) = county {
            q = q.bind(c);
        }
        let mut rows = q.fetch_all(&self.pool).await?;
        rows.dedup_by(|later, first| later.county_code == first.county_code);
        Ok(rows)
    }

    /// Records (or records again) the frozen year-end assessment of a county.
    pub async fn freeze(&self, f: &FreezeRow) -> AppResult<()> {
        sqlx::query(
            "INSERT INTO freezes (county_code, year, scheme_version, versions, frozen_by, frozen_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (county_code, year) DO UPDATE SET \
             scheme_version = excluded.scheme_version, versions = excluded.versions, \
             frozen_by = excluded.frozen_by, frozen_at = excluded.frozen_at",
        )
        .bind(&f.county_code)
        .bind(f.year)
        .bind(f.scheme_version)
        .bind(&f.versions)
        .bind(&f.frozen_by)
        .bind(f.frozen_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn frozen(&self, county_code: &str, year: i32) -> AppResult<Option<FreezeRow>> {
        Ok(sqlx::query_as::<_, FreezeRow>(
            "SELECT county_code, year, scheme_version, versions, frozen_by, frozen_at FROM freezes \
             WHERE county_code = $1 AND year = $2",
        )
        .bind(county_code)
        .bind(i64::from(year))
        .fetch_optional(&self.pool)
        .await?)
    }
}

// ---- public 晒 pages --------------------------------------------------------------------

/// A community whose public page is on.
#[derive(Debug, Clone, FromRow)]
pub struct PublicPageRow {
    pub community_code: String,
    /// 1: cadres by name; 0: by role only.
    pub show_names: i64,
    pub enabled_by: String,
    pub enabled_at: i64,
}

impl Catalog {
    /// The community's public page setting, or `None` when its page is off.
    pub async fn public_page(&self, community_code: &str) -> AppResult<Option<PublicPageRow>> {
        Ok(sqlx::query_as::<_, PublicPageRow>(
            "SELECT community_code, show_names, enabled_by, enabled_at FROM public_pages WHERE community_code = $1",
        )
        .bind(community_code)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every community whose public page is on.
    pub async fn public_pages(&self) -> AppResult<Vec<PublicPageRow>> {
        Ok(sqlx::query_as::<_, PublicPageRow>(
            "SELECT community_code, show_names, enabled_by, enabled_at FROM public_pages ORDER BY community_code",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Turns a community's public page on (with `row`'s setting) or, with `None`, off.
    pub async fn set_public_page(&self, community_code: &str, row: Option<&PublicPageRow>) -> AppResult<()> {
        match row {
            Some(r) => {
                sqlx::query(
                    "INSERT INTO public_pages (community_code, show_names, enabled_by, enabled_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (community_code) DO UPDATE SET \
                     show_names = excluded.show_names, enabled_by = excluded.enabled_by, enabled_at = excluded.enabled_at",
                )
                .bind(community_code)
                .bind(r.show_names)
                .bind(&r.enabled_by)
                .bind(r.enabled_at)
                .execute(&self.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM public_pages WHERE community_code = $1")
                    .bind(community_code)
                    .execute(&self.pool)
                    .await?;
            }
        }
        Ok(())
    }
}

/// `WHERE` clause over county_code / community_code for rows recorded by accounts inside
/// `scope`; placeholders start at `$first`.
fn scope_filter(scope: &Scope, first: usize) -> (String, Vec<String>) {
    match scope {
        Scope::Platform => (String::new(), Vec::new()),
        Scope::County(c) => (format!(" WHERE county_code = ${first}"), vec![c.clone()]),
        Scope::Community(c) => (format!(" WHERE community_code = ${first}"), vec![c.clone()]),
    }
}

fn account_of_user(user: &UserRow, via: &'static str) -> AppResult<Account> {
    let scope = accounts::scope_from(&user.role, user.scope_code.as_deref())?;
    Ok(Account {
        name: user.username.clone(),
        display_name: user.display_name.clone(),
        role: Role::of(&scope),
        scope,
        via,
    })
}

/// Whether `outer` contains every row of `inner`.
pub fn contains(outer: &Scope, inner: &Scope) -> bool {
    match (outer, inner) {
        (Scope::Platform, _) => true,
        (Scope::County(a), Scope::County(b)) => a == b,
        (Scope::County(a), Scope::Community(c)) => c.starts_with(a.as_str()),
        (Scope::Community(a), Scope::Community(b)) => a == b,
        _ => false,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_string() } else { text.chars().take(max).collect::<String>() + "…" }
}

/// A URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A valid argon2id hash of a random password, checked against when the user is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(redact("postgres://yishi:secret@127.0.0.1/yishi"), "postgres://yishi:***@127.0.0.1/yishi");
        assert_eq!(redact("sqlite://data/yishi.db"), "sqlite://data/yishi.db");
    }

    #[test]
    fn scopes_contain() {
        let county = Scope::county("141026").expect("code");
        assert!(contains(&Scope::Platform, &county));
        assert!(contains(&county, &Scope::community("141026100001").expect("code")));
        assert!(!contains(&county, &Scope::community("141021100001").expect("code")));
        assert!(!contains(&Scope::community("141026100001").expect("code"), &county));
    }
}
