//! `yishi serve`, `yishi user …`, `yishi token …`, and the end of `yishi demo` (a demo login
//! and the server): the catalog and the HTTP server of the `api` crate.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ingest::Scope;
use warehouse::Warehouse;

use crate::args::{ScopeArgs, parse_size};

/// Where the catalog (accounts, tokens, audit log) lives.
#[derive(Debug, Args)]
pub(crate) struct CatalogArgs {
    /// Catalog database: postgres://user:password@host/db, or sqlite://file (default:
    /// <warehouse>/yishi.db).
    #[arg(long, global = true, env = "YISHI_CATALOG")]
    pub(crate) catalog: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "YISHI_LISTEN", default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
    /// Largest uploaded ledger file, e.g. 256MiB.
    #[arg(long, env = "YISHI_MAX_UPLOAD_SIZE", default_value = "256MiB", value_parser = parse_size)]
    pub(crate) max_upload_size: u64,
    /// Seconds before a request is abandoned with a `timeout` error.
    #[arg(long, env = "YISHI_REQUEST_TIMEOUT", default_value_t = 120)]
    pub(crate) request_timeout: u64,
    /// Memory limit of warehouse queries (shared by all), e.g. 2GiB.
    #[arg(long, env = "YISHI_QUERY_MEMORY", default_value = "2GiB", value_parser = parse_size)]
    pub(crate) query_memory: u64,
    /// Largest answer of an ad-hoc SQL query, e.g. 64MiB; the rest is cut and the answer
    /// says so.
    #[arg(long, env = "YISHI_MAX_SQL_SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub(crate) max_sql_size: u64,
    /// Rows of an ad-hoc SQL answer at most.
    #[arg(long, env = "YISHI_MAX_SQL_ROWS", default_value_t = 100_000)]
    pub(crate) max_sql_rows: usize,
    /// Memory for uploads being received and ingested at once, over all users, e.g. 1GiB;
    /// an upload beyond it is asked to retry.
    #[arg(long, env = "YISHI_UPLOAD_MEMORY", default_value = "1GiB", value_parser = parse_size)]
    pub(crate) upload_memory: u64,
    /// Warehouse queries run at once; more wait.
    #[arg(long, env = "YISHI_MAX_QUERIES", default_value_t = 4)]
    pub(crate) max_queries: usize,
    /// Mark the session cookie Secure (when served behind HTTPS).
    #[arg(long, env = "YISHI_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    pub(crate) command: UserCommand,
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Add a login: `yishi user add NAME --platform | --county C | --community C`. The
    /// password comes from --password-stdin, or YISHI_PASSWORD, or is generated and printed.
    Add(UserAddArgs),
    /// Set a new password (same sources as `add`).
    Passwd(UserNameArgs),
    /// Disable a login and revoke its sessions and tokens.
    Disable(UserNameArgs),
    /// List the logins.
    List,
}

#[derive(Debug, Args)]
pub(crate) struct UserAddArgs {
    pub(crate) name: String,
    /// A platform account (sees every county).
    #[arg(long)]
    pub(crate) platform: bool,
    /// Name shown on the pages (default: the user name).
    #[arg(long)]
    pub(crate) display_name: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UserNameArgs {
    pub(crate) name: String,
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    pub(crate) command: TokenCommand,
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token: `yishi token create --platform | --county C | --community C`.
    /// The token is printed once, alone on the last line; only its hash is kept.
    Create(TokenCreateArgs),
    /// Revoke tokens by id, by the shown prefix (yishi_ab12cd), or by the token itself.
    Revoke(TokenRevokeArgs),
    /// List tokens (never the tokens themselves).
    List,
}

#[derive(Debug, Args)]
pub(crate) struct TokenCreateArgs {
    /// A platform token (every county).
    #[arg(long)]
    pub(crate) platform: bool,
    /// What the token is for, recorded in the batch and audit logs (default: --user or
    /// the scope).
    #[arg(long)]
    pub(crate) label: Option<String>,
    /// Bind the token to a login: disabling the login revokes it.
    #[arg(long)]
    pub(crate) for_user: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenRevokeArgs {
    pub(crate) token: String,
}

/// The scope named by `--platform` or the global `--county` / `--community`.
fn scope_named(platform: bool, scope: &ScopeArgs) -> Result<Scope> {
    match (platform, &scope.county, &scope.community) {
        (true, None, None) => Ok(Scope::Platform),
        (true, _, _) => bail!("--platform 不能与 --county 或 --community 同时使用"),
        (false, Some(c), _) => Ok(Scope::county(c)?),
        (false, None, Some(c)) => Ok(Scope::community(c)?),
        (false, None, None) => bail!("请指定范围：--platform、--county 县区代码 或 --community 社区代码"),
    }
}

async fn open_catalog(warehouse_root: &str, args: &CatalogArgs) -> Result<api::Catalog> {
    let url = match &args.catalog {
        Some(url) => url.clone(),
        None => api::catalog::default_url(warehouse_root).map_err(|e| anyhow::anyhow!("{}", e.parts().2))?,
    };
    api::Catalog::open(&url).await.map_err(|e| anyhow::anyhow!("{}", e.parts().2))
}

fn api_error(e: api::AppError) -> anyhow::Error {
    let (_, code, message) = e.parts();
    if code == "internal" { anyhow::anyhow!("{e}") } else { anyhow::anyhow!("{message}") }
}

/// A password from stdin, YISHI_PASSWORD, or a new random one (printed).
fn password(from_stdin: bool) -> Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("无法从标准输入读取密码")?;
        return Ok((line.trim_end_matches(['\r', '\n']).to_string(), false));
    }
    if let Ok(p) = std::env::var("YISHI_PASSWORD")
        && !p.is_empty()
    {
        return Ok((p, false));
    }
    let random = api::accounts::new_secret("");
    Ok((random[..16].to_string(), true))
}

pub(crate) async fn serve(root: &str, args: &ServeArgs) -> Result<ExitCode> {
    let config = api::Config {
        max_upload_bytes: args.max_upload_size,
        request_timeout: Duration::from_secs(args.request_timeout.max(1)),
        max_concurrent_queries: args.max_queries.max(1),
        secure_cookies: args.secure_cookies,
        max_sql_bytes: usize::try_from(args.max_sql_size).unwrap_or(usize::MAX),
        max_sql_rows: args.max_sql_rows.max(1),
        upload_memory_bytes: args.upload_memory.max(args.max_upload_size),
        ..api::Config::default()
    };
    let memory = usize::try_from(args.query_memory).unwrap_or(usize::MAX);
    run_server(root, &args.catalog, args.listen, config, Some(memory)).await
}

async fn run_server(
    root: &str,
    catalog: &CatalogArgs,
    listen: SocketAddr,
    config: api::Config,
    memory: Option<usize>,
) -> Result<ExitCode> {
    let wh = Warehouse::open(root).await?.with_memory_limit(memory)?;
    let catalog = open_catalog(root, catalog).await?;
    let state = api::AppState::new(wh, catalog, config);
    match state.sync_places().await {
        Ok(n) => tracing::info!(communities = n, "places copied into the catalog"),
        Err(e) => eprintln!("提示：无法从社区名录同步县区和社区：{}", e.parts().2),
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("无法监听 {listen}"))?;
    let addr = listener.local_addr()?;
    println!("议事服务已启动：http://{addr}/ （Ctrl-C 停止）");
    api::serve(listener, state, api::shutdown_signal()).await?;
    println!("议事服务已停止");
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn user(root: &str, scope: &ScopeArgs, args: &UserArgs) -> Result<ExitCode> {
    let catalog = open_catalog(root, &args.catalog).await?;
    match &args.command {
        UserCommand::Add(a) => {
            let scope = scope_named(a.platform, scope)?;
            let (password, generated) = password(a.password_stdin)?;
            let display = a.display_name.clone().unwrap_or_default();
            let id = catalog.add_user(&a.name, &display, &password, &scope).await.map_err(api_error)?;
            println!("已添加用户 {}（{scope}，编号 {id}）", a.name);
            if generated {
                println!("初始密码（只显示这一次）：{password}");
            }
        }
        UserCommand::Passwd(a) => {
            let (password, generated) = password(a.password_stdin)?;
            if !catalog.set_password(&a.name, &password).await.map_err(api_error)? {
                bail!("用户“{}”不存在", a.name);
            }
            println!("已为 {} 设置新密码", a.name);
            if generated {
                println!("新密码（只显示这一次）：{password}");
            }
        }
        UserCommand::Disable(a) => {
            if !catalog.disable_user(&a.name).await.map_err(api_error)? {
                bail!("用户“{}”不存在", a.name);
            }
            println!("已停用 {}，其登录和令牌均已失效", a.name);
        }
        UserCommand::List => {
            for u in catalog.users().await.map_err(api_error)? {
                let state = if u.disabled != 0 { "已停用" } else { "正常" };
                println!("{}\t{}\t{}\t{}\t{state}", u.id, u.username, u.role, u.scope_code.unwrap_or_default());
            }
        }
    }
    catalog.close().await;
    Ok(ExitCode::SUCCESS)
}

pub(crate) async fn token(root: &str, scope: &ScopeArgs, user: Option<&str>, args: &TokenArgs) -> Result<ExitCode> {
    let catalog = open_catalog(root, &args.catalog).await?;
    match &args.command {
        TokenCommand::Create(a) => {
            let scope = scope_named(a.platform, scope)?;
            let label = a
                .label
                .clone()
                .or_else(|| a.for_user.clone())
                .or_else(|| user.map(str::to_string))
                .unwrap_or_else(|| format!("token:{}", api::accounts::Role::of(&scope).name()));
            let (id, token) = catalog.create_token(&label, a.for_user.as_deref(), &scope).await.map_err(api_error)?;
            println!("已创建令牌 {id}（{scope}，标签 {label}）。令牌只显示这一次，请妥善保存：");
            println!("{token}");
        }
        TokenCommand::Revoke(a) => {
            let n = catalog.revoke_token(&a.token).await.map_err(api_error)?;
            if n == 0 {
                bail!("没有找到未吊销的令牌“{}”", a.token);
            }
            println!("已吊销 {n} 个令牌");
        }
        TokenCommand::List => {
            for t in catalog.tokens().await.map_err(api_error)? {
                let state = if t.revoked_at.is_some() { "已吊销" } else { "有效" };
                println!(
                    "{}\t{}…\t{}\t{}\t{}\t{state}",
                    t.id,
                    t.prefix,
                    t.label,
                    t.role,
                    t.scope_code.unwrap_or_default()
                );
            }
        }
    }
    catalog.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The end of `yishi demo`: a platform login `demo` with a fresh password, then the server.
pub(crate) async fn demo_serve(root: &str, listen: SocketAddr, catalog_args: &CatalogArgs) -> Result<ExitCode> {
    let catalog = open_catalog(root, catalog_args).await?;
    let (password, _) = password(false)?;
    if catalog.user("demo").await.map_err(api_error)?.is_some() {
        catalog.set_password("demo", &password).await.map_err(api_error)?;
    } else {
        catalog.add_user("demo", "演示用户", &password, &Scope::Platform).await.map_err(api_error)?;
    }
    catalog.close().await;
    println!();
    println!("演示账号（平台）：用户名 demo  密码 {password}");
    println!("浏览器打开 http://{listen}/login 登录");
    run_server(root, catalog_args, listen, api::Config::default(), Some(warehouse::DEFAULT_MEMORY_LIMIT)).await
}
