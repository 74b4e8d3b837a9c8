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
    /// 账号库（账号、令牌、审计日志）：postgres://用户:密码@主机/库，或 sqlite://文件（默认：<数据仓库>/yishi.db）。
    #[arg(long, global = true, env = "YISHI_CATALOG", value_name = "地址")]
    pub(crate) catalog: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// 监听地址。
    #[arg(long, env = "YISHI_LISTEN", default_value = "127.0.0.1:8080", value_name = "地址")]
    pub(crate) listen: SocketAddr,
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
    /// 上传台账文件的大小上限，例如 256MiB。
    #[arg(long, env = "YISHI_MAX_UPLOAD_SIZE", default_value = "256MiB", value_parser = parse_size, value_name = "大小")]
    pub(crate) max_upload_size: u64,
    /// 请求超过这么多秒即放弃，答复 timeout 错误。
    #[arg(long, env = "YISHI_REQUEST_TIMEOUT", default_value_t = 120, value_name = "秒")]
    pub(crate) request_timeout: u64,
    /// 数据仓库查询的内存上限（所有查询共用），例如 2GiB。
    #[arg(long, env = "YISHI_QUERY_MEMORY", default_value = "2GiB", value_parser = parse_size, value_name = "大小")]
    pub(crate) query_memory: u64,
    /// SQL 查询结果的大小上限，例如 64MiB；超出部分截去，结果中注明。
    #[arg(long, env = "YISHI_MAX_SQL_SIZE", default_value = "64MiB", value_parser = parse_size, value_name = "大小")]
    pub(crate) max_sql_size: u64,
    /// SQL 查询结果最多的行数。
    #[arg(long, env = "YISHI_MAX_SQL_ROWS", default_value_t = 100_000, value_name = "行数")]
    pub(crate) max_sql_rows: usize,
    /// 同时接收和导入的上传文件共用的内存，例如 1GiB；超出时请上传者稍后重试。
    #[arg(long, env = "YISHI_UPLOAD_MEMORY", default_value = "1GiB", value_parser = parse_size, value_name = "大小")]
    pub(crate) upload_memory: u64,
    /// 同时运行的数据仓库查询数；更多的排队等候。
    #[arg(long, env = "YISHI_MAX_QUERIES", default_value_t = 4, value_name = "个数")]
    pub(crate) max_queries: usize,
    /// 会话 Cookie 标记为 Secure（经 HTTPS 提供服务时）。
    #[arg(long, env = "YISHI_SECURE_COOKIES")]
    pub(crate) secure_cookies: bool,
    /// 报表缓存保留的报表数；0 为不缓存（每次重新计算，用于测速）。
    #[arg(long, env = "YISHI_REPORT_CACHE", default_value_t = 512, value_name = "个数")]
    pub(crate) report_cache: usize,
    #[command(flatten)]
    pub(crate) schedule: ScheduleArgs,
    #[command(flatten)]
    pub(crate) alerts: AlertArgs,
}

/// Subscriptions and alerts: how often they are evaluated, and the SMTP server for e-mail.
/// (Its `Debug` hides the SMTP password.)
#[derive(Args)]
pub(crate) struct AlertArgs {
    /// 每隔几分钟检查一次订阅的提醒条件并发送（0 为不检查）。
    #[arg(long, env = "YISHI_ALERT_EVERY_MINUTES", default_value_t = 10, value_name = "分钟")]
    pub(crate) alert_every_minutes: u64,
    /// 发送提醒邮件的 SMTP 服务器（主机名）；不写则不发邮件，邮件订阅记为发送失败。
    #[arg(long, env = "YISHI_SMTP_HOST", value_name = "主机")]
    pub(crate) smtp_host: Option<String>,
    /// SMTP 端口（默认按加密方式：none 为 25，starttls 为 587，tls 为 465）。
    #[arg(long, env = "YISHI_SMTP_PORT", value_name = "端口")]
    pub(crate) smtp_port: Option<u16>,
    /// SMTP 连接加密：none（不加密，只用于本地网络内的中继）、starttls（先明文连接再升级为 TLS，服务器不支持则不发送）、tls（从连接起就是 TLS，常见于 465 端口）。证书按系统的根证书核对主机名。
    #[arg(long, env = "YISHI_SMTP_SECURITY", default_value = "none", value_name = "方式")]
    pub(crate) smtp_security: String,
    /// 另外信任的 CA 证书（PEM 文件），用于政务内网自建 CA 签发证书的邮件服务器。
    #[arg(long, env = "YISHI_SMTP_CA_FILE", value_name = "文件")]
    pub(crate) smtp_ca_file: Option<std::path::PathBuf>,
    /// SMTP 用户名（需要登录时）。
    #[arg(long, env = "YISHI_SMTP_USER", value_name = "用户名")]
    pub(crate) smtp_user: Option<String>,
    /// SMTP 密码（建议用环境变量 YISHI_SMTP_PASSWORD 传入，不会写进日志）。
    #[arg(long, env = "YISHI_SMTP_PASSWORD", hide_env_values = true, value_name = "密码")]
    pub(crate) smtp_password: Option<String>,
    /// 发件人，例如 "议事提醒 <yishi@example.cn>"。
    #[arg(long, env = "YISHI_SMTP_FROM", default_value = "议事提醒 <yishi@localhost>", value_name = "发件人")]
    pub(crate) smtp_from: String,
    /// 本平台对外的地址，例如 https://yishi.example.gov.cn：群机器人和邮件提醒里的下载链接写成完整地址，点开即可下载（需登录）。不写则为 /api/v1/… 这样的相对地址。
    #[arg(long, env = "YISHI_PUBLIC_URL", value_name = "地址")]
    pub(crate) public_url: Option<String>,
    /// 允许订阅和发送到内网、本机或链路本地地址的 Webhook（例如政务内网里的群机器人）。默认拒绝：防止借提醒让服务器访问内网（SSRF）；订阅时和每次发送时都检查主机解析到的地址。
    #[arg(long, env = "YISHI_ALERT_ALLOW_PRIVATE_WEBHOOKS")]
    pub(crate) alert_allow_private_webhooks: bool,
}

impl std::fmt::Debug for AlertArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertArgs")
            .field("alert_every_minutes", &self.alert_every_minutes)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("smtp_user", &self.smtp_user)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("smtp_from", &self.smtp_from)
            .field("public_url", &self.public_url)
            .field("alert_allow_private_webhooks", &self.alert_allow_private_webhooks)
            .finish()
    }
}

impl AlertArgs {
    /// The SMTP server for alert e-mail; a bad setting is refused with what to write.
    fn smtp(&self, host: &str) -> Result<api::delivery::Smtp> {
        use api::delivery::SmtpSecurity;
        let security = SmtpSecurity::parse(&self.smtp_security).ok_or_else(|| {
            anyhow::anyhow!("--smtp-security：“{}”无效，可用 none、starttls、tls", self.smtp_security)
        })?;
        if !self.smtp_from.contains('@') {
            anyhow::bail!("--smtp-from：发件人“{}”不是邮箱地址，例如 议事提醒 <yishi@example.cn>", self.smtp_from);
        }
        let extra_ca_pem = match &self.smtp_ca_file {
            Some(path) => {
                Some(std::fs::read(path).with_context(|| format!("--smtp-ca-file：无法读取 {}", path.display()))?)
            }
            None => None,
        };
        if security == SmtpSecurity::None && self.smtp_password.is_some() {
            eprintln!("提示：--smtp-security none 时 SMTP 密码以明文传送，只应在本机或可信的内网中继上使用");
        }
        Ok(api::delivery::Smtp {
            host: host.to_string(),
            port: self.smtp_port.unwrap_or(security.default_port()),
            security,
            username: self.smtp_user.clone(),
            password: self.smtp_password.clone(),
            from: self.smtp_from.clone(),
            extra_ca_pem,
        })
    }

    /// The alert settings, or `None` when alerts are off; a bad SMTP setting is refused.
    fn settings(&self) -> Result<Option<api::alerts::Settings>> {
        if self.alert_every_minutes == 0 {
            return Ok(None);
        }
        let smtp = match &self.smtp_host {
            None => None,
            Some(host) => Some(self.smtp(host)?),
        };
        let public_url = match &self.public_url {
            Some(text) => {
                let base = text.trim().trim_end_matches('/');
                let host = base.strip_prefix("https://").or_else(|| base.strip_prefix("http://"));
                if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
                    anyhow::bail!(
                        "--public-url：“{text}”不是 http:// 或 https:// 开头的地址，例如 https://yishi.example.gov.cn"
                    );
                }
                Some(base.to_string())
            }
            None => None,
        };
        Ok(Some(api::alerts::Settings {
            every: Duration::from_secs(self.alert_every_minutes.saturating_mul(60)),
            smtp,
            public_url,
            ..api::alerts::Settings::default()
        }))
    }
}

/// The written reports on schedule.
#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    /// 定时生成书面报告的县区代码，逗号分隔，例如 141026,141021：每季度结束后生成各县区该季度的报告，
    /// 第四季度后（1月）另生成年度报告；文件名带数据版本，数据更正后另存一份新文件，旧文件保留。不写则不定时生成。
    #[arg(long, env = "YISHI_SCHEDULE_COUNTIES", value_delimiter = ',', value_name = "县区代码")]
    pub(crate) schedule_counties: Vec<String>,
    /// 季度结束后第几天生成（1 为次日）。
    #[arg(long, env = "YISHI_SCHEDULE_DAYS_AFTER", default_value_t = 1, value_name = "天数")]
    pub(crate) schedule_days_after: u32,
    /// 定时生成的报告写入的文件夹（没有则创建）。
    #[arg(long, env = "YISHI_SCHEDULE_OUT", default_value = "书面报告", value_name = "文件夹")]
    pub(crate) schedule_out: std::path::PathBuf,
    /// 定时生成的格式，逗号分隔：docx（Word）、pdf、pack（报表包：全部图表和工作簿打成一个 zip，例如 2025年第3季度_报表包_安泽县_数据版本….zip，只按季度生成）。
    #[arg(
        long,
        env = "YISHI_SCHEDULE_FORMATS",
        value_delimiter = ',',
        default_value = "docx,pdf",
        value_name = "格式"
    )]
    pub(crate) schedule_formats: Vec<ScheduleFormat>,
}

/// What `--schedule-formats` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ScheduleFormat {
    Docx,
    Pdf,
    Pack,
}

impl ScheduleArgs {
    /// The schedule, or `None` when no county is named; a bad county code is refused.
    fn schedule(&self) -> Result<Option<api::schedule::Schedule>> {
        if self.schedule_counties.is_empty() {
            return Ok(None);
        }
        for county in &self.schedule_counties {
            Scope::county(county).map_err(|e| anyhow::anyhow!("--schedule-counties：{e}"))?;
        }
        let formats = self
            .schedule_formats
            .iter()
            .filter_map(|f| match f {
                ScheduleFormat::Docx => Some(api::documents::DocumentFormat::Docx),
                ScheduleFormat::Pdf => Some(api::documents::DocumentFormat::Pdf),
                ScheduleFormat::Pack => None,
            })
            .collect();
        Ok(Some(api::schedule::Schedule {
            counties: self.schedule_counties.clone(),
            days_after: self.schedule_days_after,
            out_dir: self.schedule_out.clone(),
            formats,
            pack: self.schedule_formats.contains(&ScheduleFormat::Pack),
            // Hourly: a quarter's documents are due once a day changes.
            every: Duration::from_secs(3600),
        }))
    }
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
    /// 添加账号：`yishi user add 用户名 --platform | --county 代码 | --community 代码`。密码取自 --password-stdin 或环境变量 YISHI_PASSWORD，否则随机生成并显示。
    #[command(
        after_help = "示例：\n  yishi user add 王芳 --county 141026 --display-name 王芳\n  yishi user add 平台管理员 --platform --password-stdin < 密码.txt"
    )]
    Add(UserAddArgs),
    /// 设置新密码（密码来源同 add）。
    #[command(after_help = "示例：\n  yishi user passwd 王芳\n  yishi user passwd 王芳 --password-stdin < 新密码.txt")]
    Passwd(UserNameArgs),
    /// 停用账号，并吊销它的会话和令牌。
    #[command(after_help = "示例：\n  yishi user disable 王芳")]
    Disable(UserNameArgs),
    /// 列出账号。
    #[command(after_help = "示例：\n  yishi user list")]
    List,
}

#[derive(Debug, Args)]
pub(crate) struct UserAddArgs {
    /// 用户名（登录用）。
    #[arg(value_name = "用户名")]
    pub(crate) name: String,
    /// 平台账号（看得到所有县区）。
    #[arg(long)]
    pub(crate) platform: bool,
    /// 网页上显示的姓名（默认：用户名）。
    #[arg(long, value_name = "姓名")]
    pub(crate) display_name: Option<String>,
    /// 从标准输入的第一行读密码。
    #[arg(long)]
    pub(crate) password_stdin: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UserNameArgs {
    /// 用户名。
    #[arg(value_name = "用户名")]
    pub(crate) name: String,
    /// 从标准输入的第一行读密码。
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
    /// 创建接口令牌：`yishi token create --platform | --county 代码 | --community 代码`。令牌只显示一次（单独在最后一行）；只保存它的哈希值。
    #[command(
        after_help = "示例：\n  yishi token create --county 141026 --label 县大数据中心\n  yishi token create --community 141026100001 --for-user 王芳"
    )]
    Create(TokenCreateArgs),
    /// 吊销令牌：按编号、显示的前缀（如 yishi_ab12cd）或令牌本身。
    #[command(after_help = "示例：\n  yishi token revoke yishi_ab12cd")]
    Revoke(TokenRevokeArgs),
    /// 列出令牌（不显示令牌本身）。
    #[command(after_help = "示例：\n  yishi token list")]
    List,
}

#[derive(Debug, Args)]
pub(crate) struct TokenCreateArgs {
    /// 平台令牌（所有县区）。
    #[arg(long)]
    pub(crate) platform: bool,
    /// 令牌的用途，记入导入日志和审计日志（默认：--user 或账号范围）。
    #[arg(long, value_name = "说明")]
    pub(crate) label: Option<String>,
    /// 把令牌绑定到一个账号：停用该账号即吊销令牌。
    #[arg(long, value_name = "用户名")]
    pub(crate) for_user: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenRevokeArgs {
    /// 令牌编号、前缀或令牌本身。
    #[arg(value_name = "令牌")]
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

/// The catalog when one is at hand: `--catalog` (or YISHI_CATALOG), else the warehouse's
/// own `yishi.db` if the server has made one; `None` otherwise (the commands then use the
/// contract's default scheme, or `--scheme FILE`).
pub(crate) async fn catalog_at_hand(warehouse_root: &str, args: &CatalogArgs) -> Result<Option<api::Catalog>> {
    if args.catalog.is_none() {
        let local = warehouse::Location::parse(warehouse_root).ok().and_then(|l| l.local_dir());
        if !local.is_some_and(|dir| dir.join("yishi.db").is_file()) {
            return Ok(None);
        }
    }
    Ok(Some(open_catalog(warehouse_root, args).await?))
}

/// The server's state over the CLI's warehouse and catalog: a command computes through it
/// exactly as the server does (each county's scheme in force, frozen results).
pub(crate) fn cli_state(wh: &warehouse::Warehouse, catalog: api::Catalog) -> api::AppState {
    api::AppState::new(wh.clone(), catalog, api::Config::default())
}

#[derive(Debug, Args)]
pub(crate) struct FreezeArgs {
    /// 冻结哪一年的年度考核，例如 2025。
    #[arg(long, value_name = "年份")]
    pub(crate) year: i32,
    #[command(flatten)]
    pub(crate) catalog: CatalogArgs,
}

/// `yishi freeze --year 2025 --county C`: records in the catalog the scheme version in
/// force at the year's end and the latest table versions (as `POST /api/v1/freezes/C`).
pub(crate) async fn freeze(root: &str, scope: &Scope, args: &FreezeArgs) -> Result<ExitCode> {
    let Scope::County(county) = scope else {
        anyhow::bail!("冻结按县区进行：请加 --county 县区代码（如 --county 141026）");
    };
    let wh = warehouse::Warehouse::open(root).await?;
    wh.check_scope(scope).await?;
    let catalog = open_catalog(root, &args.catalog).await?;
    let by = std::env::var("YISHI_USER").unwrap_or_else(|_| "命令行".to_string());
    let row = api::schemes::freeze(&catalog, &wh, county, args.year, &by).await.map_err(api_error)?;
    catalog
        .audit(
            None,
            "freeze",
            &format!("freeze {county} {}", args.year),
            &format!("yishi freeze by {by}: {}", row.versions),
            200,
        )
        .await;
    catalog.close().await;
    let scheme = row.scheme_version.map_or_else(|| "数据契约默认方案".to_string(), |v| format!("本县第{v}版方案"));
    println!("已冻结 {county} 的{}年度考核：{scheme}，数据版本 {}", args.year, row.versions);
    eprintln!("此后查看该年度的干部、社区考核都显示冻结结果；看最新数据请加 --latest（网页、接口加 latest=true）");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn api_error(e: api::AppError) -> anyhow::Error {
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
        cache_entries: args.report_cache,
        allow_private_webhooks: args.alerts.alert_allow_private_webhooks,
        ..api::Config::default()
    };
    let memory = usize::try_from(args.query_memory).unwrap_or(usize::MAX);
    let schedule = args.schedule.schedule()?;
    let alerts = args.alerts.settings()?;
    run_server(root, &args.catalog, args.listen, config, Some(memory), (schedule, alerts)).await
}

async fn run_server(
    root: &str,
    catalog: &CatalogArgs,
    listen: SocketAddr,
    config: api::Config,
    memory: Option<usize>,
    (schedule, alerts): (Option<api::schedule::Schedule>, Option<api::alerts::Settings>),
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
    if let Some(schedule) = schedule {
        println!(
            "定时生成书面报告{}：县区 {}，季度结束后第 {} 天，写入 {}",
            if schedule.pack { "和报表包" } else { "" },
            schedule.counties.join("、"),
            schedule.days_after,
            schedule.out_dir.display()
        );
        let stop = api::shutdown_signal();
        tokio::spawn(api::schedule::run(state.clone(), schedule, api::schedule::SystemClock, stop));
    }
    if let Some(alerts) = alerts {
        let stop = api::shutdown_signal();
        tokio::spawn(api::alerts::run(state.clone(), alerts, api::schedule::SystemClock, stop));
    }
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
    // A warehouse in object storage has no folder for the catalog: the demo keeps its
    // SQLite catalog in the working folder (`yishi serve` asks for --catalog instead).
    let remote = warehouse::Location::parse(root)?.local_dir().is_none();
    let demo_catalog = CatalogArgs { catalog: Some("sqlite://yishi-demo.db?mode=rwc".to_string()) };
    let catalog_args = if remote && catalog_args.catalog.is_none() { &demo_catalog } else { catalog_args };
    if std::ptr::eq(catalog_args, &demo_catalog) {
        println!("账号库：工作文件夹中的 yishi-demo.db（数据仓库在对象存储上）");
    }
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
    run_server(root, catalog_args, listen, api::Config::default(), Some(warehouse::DEFAULT_MEMORY_LIMIT), (None, None))
        .await
}
