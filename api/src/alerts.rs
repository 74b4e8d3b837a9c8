//! Subscriptions and alerts (issue 22): an account subscribes, in its own scope, to an
//! alert condition, delivered as an in-app notice, to a webhook (企业微信/钉钉 group robots)
//! or by e-mail. On each scheduler tick ([`run`], with the same injectable
//! [`Clock`](crate::schedule::Clock) as the written reports) every subscription's condition
//! is evaluated with the warehouse's own analyses in the subscriber's scope — the overdue
//! list, the quarterly satisfaction rate, the meetings analysis; no figure is computed
//! here — and a new set of items becomes one row of `deliveries`, unique on
//! (subscription, alert key), so an alert is never delivered twice, across ticks or
//! restarts. Pending deliveries are sent with retries and a doubling backoff; each attempt
//! is counted and its error kept. Before sending, a server claims the delivery with a
//! lease (one conditional UPDATE), so servers sharing a catalog never both send it.

use std::time::Duration;

use chrono::Datelike;
use ingest::Scope;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use warehouse::analyses::overdue::{ItemKind, Overdue};
use warehouse::analyses::{Figure, HalfMonth, ReportKind};

use crate::accounts::{self, Account};
use crate::catalog::{self, now_ms};
use crate::error::{AppError, AppResult};
use crate::reports;
use crate::schedule::{Clock, NaiveDate, due_quarter};
use crate::state::AppState;

/// Subscriptions one account may hold.
pub const MAX_SUBSCRIPTIONS: i64 = 20;
/// The longest webhook URL or e-mail address accepted.
pub const MAX_TARGET: usize = 500;
/// Items listed in one message; the rest are counted.
const MAX_LINES: usize = 30;

/// What a subscription watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// 议题或整改逾期未办结（逾期清单中 open_overdue 的事项）
    Overdue,
    /// 上一季度社区满意率低于阈值（百分数）
    SatisfactionBelow,
    /// 上一个半月（1–15 日或 16 日–月末）有社区未召开例会（每半月一次，15 日和 30 日）
    NoMeeting,
    /// 上一季度的书面报告可以下载了（县区或社区账号的范围）
    Document,
    /// 上一季度的报表包（全部图表和工作簿）可以下载了（县区或社区账号的范围）
    Pack,
}

impl Condition {
    pub const ALL: [Condition; 5] =
        [Condition::Overdue, Condition::SatisfactionBelow, Condition::NoMeeting, Condition::Document, Condition::Pack];

    pub fn token(self) -> &'static str {
        match self {
            Condition::Overdue => "overdue",
            Condition::SatisfactionBelow => "satisfaction_below",
            Condition::NoMeeting => "no_meeting",
            Condition::Document => "document",
            Condition::Pack => "pack",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Condition::Overdue => "议题或整改逾期未办结",
            Condition::SatisfactionBelow => "社区满意率低于阈值",
            Condition::NoMeeting => "半月内未召开例会",
            Condition::Document => "季度书面报告可下载",
            Condition::Pack => "季度报表包可下载",
        }
    }

    pub fn parse(text: &str) -> Option<Condition> {
        Condition::ALL.into_iter().find(|c| c.token() == text || c.chinese() == text)
    }
}

/// Where an alert goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 站内提醒（页面上显示）
    InApp,
    /// Webhook：企业微信/钉钉群机器人地址（JSON POST）
    Webhook,
    /// 电子邮件（服务器配置了 SMTP 时）
    Email,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::InApp, Channel::Webhook, Channel::Email];

    pub fn token(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Webhook => "webhook",
            Channel::Email => "email",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            Channel::InApp => "站内提醒",
            Channel::Webhook => "群机器人 Webhook",
            Channel::Email => "电子邮件",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.token() == text || c.chinese() == text)
    }
}

/// A subscription as stored.
#[derive(Debug, Clone, FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub account: String,
    pub role: String,
    pub scope_code: Option<String>,
    pub condition: String,
    pub threshold: Option<f64>,
    pub channel: String,
    pub target: String,
    pub created_at: i64,
}

/// A subscription as its owner sees it (a webhook URL's query, which holds the robot's
/// key, hidden).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub condition: Condition,
    /// 条件的中文名称
    pub condition_label: String,
    /// 满意率阈值（百分数），仅 satisfaction_below
    pub threshold: Option<f64>,
    pub channel: Channel,
    pub channel_label: String,
    /// Webhook 地址（密钥部分隐去）或邮箱；站内提醒为空
    pub target: String,
    /// 创建时间，epoch 毫秒（UTC）
    pub created_at: i64,
}

/// A new subscription, as the API and the page take it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewSubscription {
    pub condition: Condition,
    /// 满意率阈值（百分数，0–100）；satisfaction_below 省略时为 80
    #[schema(minimum = 0, maximum = 100)]
    pub threshold: Option<f64>,
    pub channel: Channel,
    /// webhook：http(s) 地址；email：邮箱地址；in_app：省略
    #[schema(max_length = 500)]
    pub target: Option<String>,
}

/// One delivery (an in-app notice, or a message sent or being sent).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub subscription_id: i64,
    pub alert_key: String,
    pub title: String,
    pub content: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub delivered_at: Option<i64>,
}

/// A webhook URL with its query and fragment hidden (企业微信 carries the robot's key in
/// `?key=…`, 钉钉 in `?access_token=…`), for pages and logs.
pub fn redact_target(target: &str) -> String {
    match target.find(['?', '#']) {
        Some(at) => format!("{}?***", &target[..at]),
        None => catalog::redact(target),
    }
}

fn view(row: &SubscriptionRow) -> Option<SubscriptionView> {
    let condition = Condition::parse(&row.condition)?;
    let channel = Channel::parse(&row.channel)?;
    Some(SubscriptionView {
        id: row.id,
        condition,
        condition_label: condition.chinese().to_string(),
        threshold: row.threshold,
        channel,
        channel_label: channel.chinese().to_string(),
        target: redact_target(&row.target),
        created_at: row.created_at,
    })
}

/// Checks a new subscription; the threshold and the target as stored.
fn checked(new: &NewSubscription) -> AppResult<(Option<f64>, String)> {
    // A threshold given is checked whatever the condition (and kept only where it counts).
    if let Some(t) = new.threshold
        && (!t.is_finite() || !(0.0..=100.0).contains(&t))
    {
        return Err(AppError::bad_request("bad_threshold", format!("满意率阈值应为 0 到 100 的百分数，收到 {t}")));
    }
    let threshold = match new.condition {
        Condition::SatisfactionBelow => Some(new.threshold.unwrap_or(80.0)),
        _ => None,
    };
    let target = new.target.as_deref().unwrap_or("").trim().to_string();
    if target.chars().count() > MAX_TARGET {
        return Err(AppError::bad_request("bad_target", format!("地址超过 {MAX_TARGET} 个字符")));
    }
    match new.channel {
        Channel::InApp => Ok((threshold, String::new())),
        Channel::Webhook => {
            let url = url::Url::parse(&target).map_err(|_| {
                AppError::bad_request(
                    "bad_webhook",
                    "Webhook 地址无效：应为 http:// 或 https:// 开头的完整地址（群机器人的地址）",
                )
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
                return Err(AppError::bad_request("bad_webhook", "Webhook 地址只接受 http:// 或 https:// 开头的地址"));
            }
            Ok((threshold, url.to_string()))
        }
        Channel::Email => {
            let valid = target.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            }) && target.matches('@').count() == 1
                && target.len() <= 254
                && !target.chars().any(|c| c.is_whitespace() || c.is_control() || ",;<>\"()[]\\".contains(c));
            if !valid {
                return Err(AppError::bad_request("bad_email", "邮箱地址无效，例如 clerk@example.cn"));
            }
            Ok((threshold, target))
        }
    }
}

/// Refuses (400 `private_webhook`) a webhook whose host is or resolves to a non-public
/// address, unless the server allows them. A name that does not resolve now is accepted:
/// a robot's host may be briefly unreachable, and every delivery checks again.
async fn checked_host(state: &AppState, target: &str) -> AppResult<()> {
    let url = url::Url::parse(target).map_err(|_| AppError::bad_request("bad_webhook", "Webhook 地址无效"))?;
    match crate::delivery::webhook_addresses(&url, state.config.allow_private_webhooks).await {
        Ok(_) => Ok(()),
        Err(e @ crate::delivery::HostError::Private { .. }) => {
            tracing::warn!(target = %redact_target(target), "alerts: webhook to a private address refused");
            Err(AppError::bad_request("private_webhook", e.to_string()))
        }
        Err(e) => {
            tracing::info!(target = %redact_target(target), error = %e, "alerts: webhook host not resolved now");
            Ok(())
        }
    }
}

/// Creates `account`'s subscription in its own scope.
pub async fn subscribe(state: &AppState, account: &Account, new: &NewSubscription) -> AppResult<SubscriptionView> {
    let (threshold, target) = checked(new)?;
    if new.channel == Channel::Webhook {
        checked_host(state, &target).await?;
    }
    let pool = state.catalog.pool();
    let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions WHERE account = $1")
        .bind(&account.name)
        .fetch_one(pool)
        .await?;
    if held >= MAX_SUBSCRIPTIONS {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "too_many_subscriptions",
            format!("每个账号最多 {MAX_SUBSCRIPTIONS} 个订阅，请先删除不用的订阅"),
        ));
    }
    let row: SubscriptionRow = sqlx::query_as(
        "INSERT INTO subscriptions (account, role, scope_code, condition, threshold, channel, target, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         RETURNING id, account, role, scope_code, condition, threshold, channel, target, created_at",
    )
    .bind(&account.name)
    .bind(account.role.name())
    .bind(accounts::scope_code(&account.scope).map(str::to_string))
    .bind(new.condition.token())
    .bind(threshold)
    .bind(new.channel.token())
    .bind(&target)
    .bind(now_ms())
    .fetch_one(pool)
    .await?;
    tracing::info!(account = %account.name, condition = new.condition.token(), channel = new.channel.token(),
        target = %redact_target(&target), "subscription created");
    view(&row).ok_or_else(|| AppError::Internal("订阅保存后无法读取".into()))
}

/// `account`'s subscriptions, oldest first.
pub async fn subscriptions(state: &AppState, account: &Account) -> AppResult<Vec<SubscriptionView>> {
    let rows: Vec<SubscriptionRow> = sqlx::query_as(
        "SELECT id, account, role, scope_code, condition, threshold, channel, target, created_at \
         FROM subscriptions WHERE account = $1 ORDER BY id",
    )
    .bind(&account.name)
    .fetch_all(state.catalog.pool())
    .await?;
    Ok(rows.iter().filter_map(view).collect())
}

/// Deletes `account`'s subscription `id` (and its deliveries); 404 when it has none such.
pub async fn unsubscribe(state: &AppState, account: &Account, id: i64) -> AppResult<()> {
    let pool = state.catalog.pool();
    let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM subscriptions WHERE id = $1 AND account = $2")
        .bind(id)
        .bind(&account.name)
        .fetch_optional(pool)
        .await?;
    if owned.is_none() {
        return Err(AppError::not_found(format!("本账号没有编号为 {id} 的订阅")));
    }
    sqlx::query("DELETE FROM deliveries WHERE subscription_id = $1").bind(id).execute(pool).await?;
    sqlx::query("DELETE FROM subscriptions WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}

/// `account`'s in-app notices, newest first.
pub async fn notices(state: &AppState, account: &Account, limit: i64) -> AppResult<Vec<DeliveryRow>> {
    Ok(sqlx::query_as(
        "SELECT d.id, d.subscription_id, d.alert_key, d.title, d.content, d.status, d.attempts, d.last_error, \
                d.created_at, d.updated_at, d.delivered_at \
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
         WHERE s.account = $1 AND s.channel = 'in_app' ORDER BY d.id DESC LIMIT $2",
    )
    .bind(&account.name)
    .bind(limit)
    .fetch_all(state.catalog.pool())
    .await?)
}

/// `account`'s in-app notices of the last 7 days (the count beside 订阅与提醒); 0 when the
/// catalog cannot say (a page is not refused for it).
pub async fn notice_count(state: &AppState, account: &Account) -> usize {
    let since = now_ms() - 7 * 24 * 3600 * 1000;
    let counted: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "SELECT COUNT(*) FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
         WHERE s.account = $1 AND s.channel = 'in_app' AND d.created_at >= $2",
    )
    .bind(&account.name)
    .bind(since)
    .fetch_one(state.catalog.pool())
    .await;
    match counted {
        Ok(n) => usize::try_from(n).unwrap_or(0),
        Err(e) => {
            tracing::warn!(error = %e, "alerts: notices not counted");
            0
        }
    }
}

/// `account`'s subscriptions as the 订阅与提醒 page lists them, each with its latest
/// delivery in words.
pub async fn subscription_lines(
    state: &AppState,
    account: &Account,
) -> AppResult<Vec<dashboards::pages::SubscriptionLine>> {
    let mut lines = Vec::new();
    for s in subscriptions(state, account).await? {
        let last = deliveries(state, s.id).await?.pop().map(|d| match d.status.as_str() {
            "delivered" if s.channel == Channel::InApp => "已提醒".to_string(),
            "delivered" => format!("已送达（第 {} 次尝试）", d.attempts),
            "failed" => format!("发送失败，已停止重试：{}", d.last_error.unwrap_or_default()),
            _ => format!("等待重试（已尝试 {} 次）：{}", d.attempts, d.last_error.unwrap_or_default()),
        });
        let condition = match s.threshold {
            Some(t) if s.condition == Condition::SatisfactionBelow => format!("{}（{t}%）", s.condition_label),
            _ => s.condition_label.clone(),
        };
        lines.push(dashboards::pages::SubscriptionLine {
            id: s.id,
            condition,
            channel: s.channel_label.clone(),
            target: s.target.clone(),
            created: catalog::beijing_time(s.created_at),
            last,
        });
    }
    Ok(lines)
}

/// Every delivery of `subscription`, oldest first (for tests and the page).
pub async fn deliveries(state: &AppState, subscription: i64) -> AppResult<Vec<DeliveryRow>> {
    Ok(sqlx::query_as(
        "SELECT id, subscription_id, alert_key, title, content, status, attempts, last_error, created_at, \
                updated_at, delivered_at FROM deliveries WHERE subscription_id = $1 ORDER BY id",
    )
    .bind(subscription)
    .fetch_all(state.catalog.pool())
    .await?)
}

// ---- evaluation ---------------------------------------------------------------------

/// What a condition found: the key that makes its delivery unique, the message, and the
/// file an e-mail attaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub key: String,
    pub title: String,
    pub lines: Vec<String>,
    pub attachment: Option<Attachment>,
}

/// The file a document or pack alert's e-mail carries. Only the period is kept: the file
/// is made when the mail is sent, in the subscriber's scope as it is then, so it never
/// holds rows the recipient may no longer see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// The quarter's written report (Word).
    Document { year: i32, quarter: u32 },
    /// The quarter's report pack (zip).
    Pack { year: i32, quarter: u32 },
}

impl Attachment {
    /// As stored in `deliveries.attachment`: `document:2025:3`, `pack:2025:3`.
    pub fn token(self) -> String {
        match self {
            Attachment::Document { year, quarter } => format!("document:{year}:{quarter}"),
            Attachment::Pack { year, quarter } => format!("pack:{year}:{quarter}"),
        }
    }

    pub fn parse(text: &str) -> Option<Attachment> {
        let mut parts = text.split(':');
        let (kind, year, quarter) = (parts.next()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        match kind {
            "document" => Some(Attachment::Document { year, quarter }),
            "pack" => Some(Attachment::Pack { year, quarter }),
            _ => None,
        }
    }

    /// The file, made for `scope`.
    pub async fn write(self, state: &AppState, scope: &Scope) -> AppResult<crate::documents::Written> {
        let asked = reports::Asked { snapshot: warehouse::Snapshot::Latest, latest: false };
        match self {
            Attachment::Document { year, quarter } => {
                let format = crate::documents::DocumentFormat::Docx;
                crate::documents::write(state, scope, (year, Some(quarter)), format, &asked).await
            }
            Attachment::Pack { year, quarter } => crate::packs::write(state, scope, year, quarter, &asked).await,
        }
    }
}

impl Alert {
    /// The message's text, in Chinese, at most [`MAX_LINES`] items.
    pub fn content(&self) -> String {
        self.content_at(None)
    }

    /// [`Alert::content`] with its download links (`Word：/api/v1/…`) made absolute on
    /// `public_url` (`https://yishi.example.gov.cn`), so a robot's group chat or a mail
    /// can open them; relative without one (an in-app notice is on the server's own pages).
    pub fn content_at(&self, public_url: Option<&str>) -> String {
        let mut text = format!("【议事提醒】{}", self.title);
        for line in self.lines.iter().take(MAX_LINES) {
            text.push('\n');
            match (public_url, line.split_once("：/api/")) {
                (Some(base), Some((label, rest))) => {
                    text.push_str(&format!("{label}：{}/api/{rest}", base.trim_end_matches('/')))
                }
                _ => text.push_str(line),
            }
        }
        if self.lines.len() > MAX_LINES {
            text.push_str(&format!("\n……另有 {} 项，请登录议事查看", self.lines.len() - MAX_LINES));
        }
        text
    }
}

type Row = dashboards::encoding::json::Row;

fn text(row: &Row, figure: Figure) -> String {
    row.get(figure.key()).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

fn int(row: &Row, figure: Figure) -> Option<i64> {
    row.get(figure.key()).and_then(serde_json::Value::as_i64)
}

/// Whether a row's community lies in `scope` (the analyses are computed in the scope
/// already; this keeps any other row out of a message all the same).
fn in_scope(row: &Row, scope: &Scope) -> bool {
    let community = text(row, Figure::CommunityCode);
    match Scope::community(&community) {
        Ok(c) => catalog::contains(scope, &c),
        Err(_) => false,
    }
}

fn key_of(condition: Condition, scope: &Scope, period: &str, items: &[String]) -> String {
    let mut hash = Sha256::new();
    for item in items {
        hash.update(item.as_bytes());
        hash.update(b"\n");
    }
    let scope = accounts::scope_code(scope).unwrap_or("platform");
    format!("{}:{scope}:{period}:{}", condition.token(), &hex::encode(hash.finalize())[..24])
}

fn community_label(row: &Row) -> String {
    let name = text(row, Figure::CommunityName);
    if name.is_empty() { text(row, Figure::CommunityCode) } else { name }
}

/// Evaluates `sub`'s condition in `scope` on `today`; `None` when nothing is to be said.
///
/// - overdue: the overdue list (`ReportKind::Overdue`) of the quarter holding `today`,
///   its topics and rectifications not closed by their deadline (as of the quarter's last
///   day, or today if that is earlier); the key is the set of items, so the same backlog
///   is told once and a new or closed item tells again;
/// - satisfaction_below: the quarterly analysis of the last quarter ended, its
///   communities whose satisfaction rate is below the threshold;
/// - no_meeting: the last half-month ended, its communities without a regular session.
pub async fn evaluate(
    state: &AppState,
    condition: Condition,
    threshold: Option<f64>,
    scope: &Scope,
    today: NaiveDate,
) -> AppResult<Option<Alert>> {
    match condition {
        Condition::Document => document(state, scope, today).await,
        Condition::Pack => pack(state, scope, today).await,
        Condition::Overdue => {
            let (year, quarter) = (today.year(), today.month0() / 3 + 1);
            let report = reports::report(state, ReportKind::Overdue, scope, year, Some(quarter)).await?;
            let mut rows: Vec<Row> = dashboards::encoding::json::report_rows(&report)
                .into_iter()
                .filter(|r| text(r, Figure::Overdue) == Overdue::OpenOverdue.token() && in_scope(r, scope))
                .collect();
            if rows.is_empty() {
                return Ok(None);
            }
            rows.sort_by_key(|r| (text(r, Figure::CommunityCode), text(r, Figure::ItemKind), text(r, Figure::ItemId)));
            let ids: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "{}/{}/{}",
                        text(r, Figure::CommunityCode),
                        text(r, Figure::ItemKind),
                        text(r, Figure::ItemId)
                    )
                })
                .collect();
            let lines = rows
                .iter()
                .map(|r| {
                    let kind = if text(r, Figure::ItemKind) == ItemKind::Topic.token() { "议题" } else { "整改" };
                    format!(
                        "{} {kind} {}《{}》时限 {}，已逾期 {} 天",
                        community_label(r),
                        text(r, Figure::ItemId),
                        text(r, Figure::Title),
                        text(r, Figure::Deadline),
                        int(r, Figure::DaysOverdue).unwrap_or(0)
                    )
                })
                .collect();
            Ok(Some(Alert {
                key: key_of(condition, scope, "open", &ids),
                title: format!("逾期未办结的议题和整改共 {} 项", rows.len()),
                lines,
                attachment: None,
            }))
        }
        Condition::NoMeeting => no_meeting(state, scope, today).await,
        Condition::SatisfactionBelow => {
            let (year, quarter) = due_quarter(today, 1);
            let report = reports::report(state, ReportKind::Quarterly, scope, year, Some(quarter)).await?;
            let threshold = threshold.unwrap_or(80.0);
            let mut found: Vec<(String, String)> = Vec::new();
            for row in dashboards::encoding::json::report_rows(&report) {
                if !in_scope(&row, scope) {
                    continue;
                }
                let rate = row.get(Figure::SatisfactionRate.key()).and_then(serde_json::Value::as_f64);
                let line = rate
                    .filter(|r| r * 100.0 < threshold)
                    .map(|r| format!("{} 满意率 {:.1}%（阈值 {threshold}%）", community_label(&row), r * 100.0));
                if let Some(line) = line {
                    found.push((text(&row, Figure::CommunityCode), line));
                }
            }
            if found.is_empty() {
                return Ok(None);
            }
            found.sort();
            let ids: Vec<String> = found.iter().map(|(code, _)| code.clone()).collect();
            Ok(Some(Alert {
                key: key_of(condition, scope, &format!("{year}Q{quarter}:{threshold}"), &ids),
                title: format!("{year}年第{quarter}季度满意率低于 {threshold}% 的社区共 {} 个", found.len()),
                lines: found.into_iter().map(|(_, line)| line).collect(),
                attachment: None,
            }))
        }
    }
}

/// The communities of `scope` without a regular session in the last half-month ended
/// (`warehouse::analyses::HalfMonth`: the 1st–15th or the 16th–last day; the warehouse
/// says which communities held none), named with the half-month: 「2025年9月下半月未召开
/// 例会」. A half-month of a year in which the scope has no topics says nothing (every
/// community of a year outside the ledger would be listed).
async fn no_meeting(state: &AppState, scope: &Scope, today: NaiveDate) -> AppResult<Option<Alert>> {
    let half = HalfMonth::last_completed(today);
    if !reports::quarters_with_data(state, scope).await?.iter().any(|(y, _)| *y == half.year) {
        return Ok(None);
    }
    let (warehouse, asked) = (state.warehouse.clone(), scope.clone());
    let missing =
        state.on_query_threads(async move { Ok(warehouse.without_regular_session(&asked, half).await?) }).await?;
    // The session is the scope's already; any other row is kept out all the same.
    let missing: Vec<(String, String)> = missing
        .into_iter()
        .filter(|(code, _)| Scope::community(code).is_ok_and(|c| catalog::contains(scope, &c)))
        .collect();
    if missing.is_empty() {
        return Ok(None);
    }
    let period = half.chinese();
    let ids: Vec<String> = missing.iter().map(|(code, _)| code.clone()).collect();
    Ok(Some(Alert {
        key: key_of(Condition::NoMeeting, scope, &half.key(), &ids),
        title: format!("{period}未召开例会的社区共 {} 个", missing.len()),
        lines: missing
            .into_iter()
            .map(|(code, name)| format!("{} {period}未召开例会", if name.is_empty() { code } else { name }))
            .collect(),
        attachment: None,
    }))
}

/// `county=141026` or `community=141026100001` and the last quarter ended, when `scope`
/// names a place with topics in that quarter (a platform account names none).
async fn due_place(state: &AppState, scope: &Scope, today: NaiveDate) -> AppResult<Option<(String, i32, u32)>> {
    let place = match scope {
        Scope::Platform => return Ok(None),
        Scope::County(c) => format!("county={c}"),
        Scope::Community(c) => format!("community={c}"),
    };
    let (year, quarter) = due_quarter(today, 1);
    if !reports::quarters_with_data(state, scope).await?.contains(&(year, quarter)) {
        return Ok(None);
    }
    Ok(Some((place, year, quarter)))
}

/// The written report of the last quarter ended (and, after the fourth, of the year) for
/// a county's or community's own scope, once the scope has topics in that quarter: where
/// to download it (an e-mail attaches the quarter's Word file). A platform account names
/// no place: nothing.
async fn document(state: &AppState, scope: &Scope, today: NaiveDate) -> AppResult<Option<Alert>> {
    let Some((place, year, quarter)) = due_place(state, scope, today).await? else { return Ok(None) };
    let url = |format: &str, quarter: Option<u32>| {
        let q = quarter.map(|q| format!("&quarter={q}")).unwrap_or_default();
        format!("/api/v1/documents/report.{format}?year={year}{q}&{place}")
    };
    let mut lines =
        vec![format!("Word：{}", url("docx", Some(quarter))), format!("PDF：{}", url("pdf", Some(quarter)))];
    if quarter == 4 {
        lines.push(format!("{year}年度报告 Word：{}", url("docx", None)));
        lines.push(format!("{year}年度报告 PDF：{}", url("pdf", None)));
    }
    lines.push("也可登录议事，在「书面报告」页下载。".to_string());
    let period = format!("{year}Q{quarter}");
    Ok(Some(Alert {
        key: key_of(Condition::Document, scope, &period, &[period.clone()]),
        title: format!("{year}年第{quarter}季度说事议事工作满意度分析报告已可下载"),
        lines,
        attachment: Some(Attachment::Document { year, quarter }),
    }))
}

/// The report pack (charts and workbook, one zip) of the last quarter ended for a
/// county's or community's own scope, once it has topics in that quarter: where to
/// download it (an e-mail attaches the zip).
async fn pack(state: &AppState, scope: &Scope, today: NaiveDate) -> AppResult<Option<Alert>> {
    let Some((place, year, quarter)) = due_place(state, scope, today).await? else { return Ok(None) };
    let period = format!("{year}Q{quarter}");
    Ok(Some(Alert {
        key: key_of(Condition::Pack, scope, &period, &[period.clone()]),
        title: format!("{year}年第{quarter}季度报表包（全部图表和工作簿）已可下载"),
        lines: vec![
            format!("报表包（zip）：/api/v1/packs/{}?year={year}&quarter={quarter}&{place}", crate::packs::FILE),
            "也可用 yishi export pack 在本机生成。".to_string(),
        ],
        attachment: Some(Attachment::Pack { year, quarter }),
    }))
}

// ---- the tick -----------------------------------------------------------------------

/// How alerts are delivered.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How often the server evaluates the subscriptions.
    pub every: Duration,
    /// Tries of one delivery within one tick.
    pub attempts_per_tick: u32,
    /// The wait before the second try; doubled before each further one.
    pub backoff: Duration,
    /// After this many tries in all a delivery is given up (status failed).
    pub max_attempts: i64,
    /// The SMTP server for e-mail, if configured.
    pub smtp: Option<crate::delivery::Smtp>,
    /// This server's name on the deliveries it claims (random per process): servers
    /// sharing a catalog never send the same delivery.
    pub claimer: String,
    /// How long a claim holds: longer than a tick's tries of one delivery (with a pack
    /// to make for a mail), so a claim only lapses when its server died.
    pub lease: Duration,
    /// The server's address as people reach it (`--public-url`): webhook and mail
    /// messages carry absolute download links on it.
    pub public_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            every: Duration::from_secs(600),
            attempts_per_tick: 3,
            backoff: Duration::from_secs(2),
            max_attempts: 10,
            smtp: None,
            claimer: format!("yishi-{}-{}", std::process::id(), &accounts::new_secret("")[..12]),
            lease: Duration::from_secs(15 * 60),
            public_url: None,
        }
    }
}

/// What one tick did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// New deliveries recorded (new alerts).
    pub created: usize,
    /// Deliveries sent (or shown, for in-app) in this tick.
    pub delivered: usize,
    /// Tries that failed in this tick.
    pub failed_attempts: usize,
}

/// The scope a subscription is evaluated in: its user's current scope (none if the user
/// was disabled), else the scope it was created with (a token's).
async fn scope_of(state: &AppState, sub: &SubscriptionRow) -> AppResult<Option<Scope>> {
    account_scope(state, &sub.account, &sub.role, sub.scope_code.as_deref()).await
}

async fn account_scope(state: &AppState, account: &str, role: &str, code: Option<&str>) -> AppResult<Option<Scope>> {
    match state.catalog.user(account).await? {
        Some(user) if user.disabled != 0 => Ok(None),
        Some(user) => Ok(Some(accounts::scope_from(&user.role, user.scope_code.as_deref())?)),
        None => Ok(Some(accounts::scope_from(role, code)?)),
    }
}

/// Evaluates every subscription on `today`, records each new alert once, and sends what
/// is pending.
pub async fn tick(state: &AppState, settings: &Settings, today: NaiveDate) -> TickReport {
    let mut report = TickReport::default();
    let subs: Vec<SubscriptionRow> = match sqlx::query_as(
        "SELECT id, account, role, scope_code, condition, threshold, channel, target, created_at \
         FROM subscriptions ORDER BY id",
    )
    .fetch_all(state.catalog.pool())
    .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "alerts: subscriptions unreadable");
            return report;
        }
    };
    for sub in &subs {
        match record(state, sub, today, settings.public_url.as_deref()).await {
            Ok(true) => report.created += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(subscription = sub.id, error = %e, "alerts: condition not evaluated"),
        }
    }
    send_pending(state, settings, &mut report).await;
    report
}

/// Evaluates one subscription; whether a new delivery was recorded.
async fn record(
    state: &AppState,
    sub: &SubscriptionRow,
    today: NaiveDate,
    public_url: Option<&str>,
) -> AppResult<bool> {
    let Some(condition) = Condition::parse(&sub.condition) else { return Ok(false) };
    let Some(scope) = scope_of(state, sub).await? else { return Ok(false) };
    let Some(alert) = evaluate(state, condition, sub.threshold, &scope, today).await? else { return Ok(false) };
    let now = now_ms();
    let in_app = sub.channel == Channel::InApp.token();
    // Only a mail carries a file; the others carry the link.
    let attachment = alert.attachment.filter(|_| sub.channel == Channel::Email.token()).map(Attachment::token);
    let inserted = sqlx::query(
        "INSERT INTO deliveries (subscription_id, alert_key, title, content, status, attempts, last_error, \
         created_at, updated_at, delivered_at, attachment) VALUES ($1, $2, $3, $4, $5, 0, NULL, $6, $6, $7, $8) \
         ON CONFLICT (subscription_id, alert_key) DO NOTHING",
    )
    .bind(sub.id)
    .bind(&alert.key)
    .bind(&alert.title)
    .bind(alert.content_at(public_url.filter(|_| !in_app)))
    .bind(if in_app { "delivered" } else { "pending" })
    .bind(now)
    .bind(in_app.then_some(now))
    .bind(attachment)
    .execute(state.catalog.pool())
    .await?
    .rows_affected();
    if inserted > 0 {
        tracing::info!(subscription = sub.id, key = %alert.key, "alerts: new alert recorded");
    }
    Ok(inserted > 0)
}

#[derive(Debug, FromRow)]
struct Pending {
    id: i64,
    title: String,
    content: String,
    attempts: i64,
    attachment: Option<String>,
    channel: String,
    target: String,
    account: String,
    role: String,
    scope_code: Option<String>,
}

/// The file a pending mail attaches, made now in its subscriber's current scope; `None`
/// when it attaches nothing, an error (as the delivery records it) when it cannot be made.
async fn mail_file(state: &AppState, p: &Pending) -> Option<Result<crate::delivery::MailFile, String>> {
    let attachment = Attachment::parse(p.attachment.as_deref()?)?;
    let made = async {
        let scope = account_scope(state, &p.account, &p.role, p.scope_code.as_deref())
            .await
            .map_err(|e| e.parts().2)?
            .ok_or_else(|| "订阅的账号已停用，附件不再生成".to_string())?;
        let written = attachment.write(state, &scope).await.map_err(|e| format!("附件无法生成：{}", e.parts().2))?;
        let content_type = match attachment {
            Attachment::Document { .. } => crate::documents::DocumentFormat::Docx.content_type(),
            Attachment::Pack { .. } => crate::packs::CONTENT_TYPE,
        };
        Ok(crate::delivery::MailFile { name: written.file_name, content_type, bytes: written.bytes })
    };
    Some(made.await)
}

/// Sends every pending delivery not claimed by another server, each up to
/// `attempts_per_tick` times with a doubling backoff; records each attempt.
async fn send_pending(state: &AppState, settings: &Settings, report: &mut TickReport) {
    let pending: Vec<Pending> = match sqlx::query_as(
        "SELECT d.id, d.title, d.content, d.attempts, d.attachment, s.channel, s.target, s.account, s.role, \
                s.scope_code \
         FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id \
         WHERE d.status = 'pending' AND (d.claimed_until IS NULL OR d.claimed_until < $1) ORDER BY d.id",
    )
    .bind(now_ms())
    .fetch_all(state.catalog.pool())
    .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "alerts: deliveries unreadable");
            return;
        }
    };
    for p in pending {
        if !claim(state, settings, p.id).await {
            continue;
        }
        send_one(state, settings, &p, report).await;
        release(state, settings, p.id).await;
    }
}

/// Claims delivery `id` for this server until its lease ends: one conditional UPDATE,
/// which only one server can win while the delivery is pending and unclaimed (or its
/// claim lapsed). Another server sending it, or having sent it since it was listed, is
/// `false`.
async fn claim(state: &AppState, settings: &Settings, id: i64) -> bool {
    let now = now_ms();
    let lease = i64::try_from(settings.lease.as_millis()).unwrap_or(i64::MAX);
    let won = sqlx::query(
        "UPDATE deliveries SET claimed_by = $1, claimed_until = $2 \
         WHERE id = $3 AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $4)",
    )
    .bind(&settings.claimer)
    .bind(now.saturating_add(lease))
    .bind(id)
    .bind(now)
    .execute(state.catalog.pool())
    .await;
    match won {
        Ok(done) => done.rows_affected() == 1,
        Err(e) => {
            tracing::error!(delivery = id, error = %e, "alerts: delivery not claimed");
            false
        }
    }
}

/// Gives up this server's claim on `id` after the tick's tries, so a later tick of any
/// server can retry a delivery still pending.
async fn release(state: &AppState, settings: &Settings, id: i64) {
    let released =
        sqlx::query("UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2")
            .bind(id)
            .bind(&settings.claimer)
            .execute(state.catalog.pool())
            .await;
    if let Err(e) = released {
        tracing::warn!(delivery = id, error = %e, "alerts: claim not released (it lapses at its lease's end)");
    }
}

/// Up to `attempts_per_tick` tries of one claimed delivery, each recorded.
async fn send_one(state: &AppState, settings: &Settings, p: &Pending, report: &mut TickReport) {
    let file = match Channel::parse(&p.channel) {
        Some(Channel::Email) if settings.smtp.is_some() => mail_file(state, p).await,
        _ => None,
    };
    let mut attempts = p.attempts;
    let mut wait = settings.backoff;
    for n in 0..settings.attempts_per_tick.max(1) {
        if n > 0 {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
        attempts += 1;
        let outcome = try_once(state, settings, p, file.as_ref()).await;
        let done = outcome.is_ok();
        let error = outcome.err();
        let status = if done {
            "delivered"
        } else if attempts >= settings.max_attempts {
            "failed"
        } else {
            "pending"
        };
        if let Some(e) = &error {
            report.failed_attempts += 1;
            tracing::warn!(delivery = p.id, attempts, target = %redact_target(&p.target), error = %e, "alerts: delivery failed");
        }
        if !record_attempt(state, settings, p.id, (status, attempts), error).await {
            break;
        }
        if done {
            report.delivered += 1;
            tracing::info!(delivery = p.id, attempts, target = %redact_target(&p.target), "alerts: delivered");
            break;
        }
        if status == "failed" {
            break;
        }
    }
}

/// One try over the subscription's channel.
async fn try_once(
    state: &AppState,
    settings: &Settings,
    p: &Pending,
    file: Option<&Result<crate::delivery::MailFile, String>>,
) -> Result<(), String> {
    match Channel::parse(&p.channel) {
        Some(Channel::Webhook) => {
            crate::delivery::webhook(&p.target, &p.content, state.config.allow_private_webhooks).await
        }
        Some(Channel::Email) => match (&settings.smtp, file) {
            (None, _) => Err("服务器未配置 SMTP（--smtp-host），无法发送邮件".to_string()),
            (Some(_), Some(Err(e))) => Err(e.clone()),
            (Some(smtp), file) => smtp.send(&p.target, &p.title, &p.content, file.and_then(|f| f.as_ref().ok())).await,
        },
        _ => Ok(()),
    }
}

/// Records one try while this server holds the claim; `false` when it could not (the
/// claim lapsed and another server took the delivery over, or the catalog failed).
async fn record_attempt(
    state: &AppState,
    settings: &Settings,
    id: i64,
    (status, attempts): (&str, i64),
    error: Option<String>,
) -> bool {
    let now = now_ms();
    let done = status == "delivered";
    let saved = sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, last_error = COALESCE($3, last_error), \
         updated_at = $4, delivered_at = $5 WHERE id = $6 AND claimed_by = $7",
    )
    .bind(status)
    .bind(attempts)
    .bind(error)
    .bind(now)
    .bind(done.then_some(now))
    .bind(id)
    .bind(&settings.claimer)
    .execute(state.catalog.pool())
    .await;
    match saved {
        Ok(r) if r.rows_affected() == 1 => true,
        Ok(_) => {
            tracing::warn!(delivery = id, "alerts: claim lost (lease ended); another server has the delivery");
            false
        }
        Err(e) => {
            tracing::error!(delivery = id, error = %e, "alerts: delivery not recorded");
            false
        }
    }
}

/// Evaluates and delivers every `settings.every` (first at once) until `stop`.
pub async fn run(state: AppState, settings: Settings, clock: impl Clock, stop: impl std::future::Future<Output = ()>) {
    let mut tick_every = tokio::time::interval(settings.every.max(Duration::from_secs(1)));
    tick_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tick_every.tick() => {
                let done = tick(&state, &settings, clock.today()).await;
                if done != TickReport::default() {
                    tracing::info!(?done, "alerts: tick");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_keys_are_hidden() {
        assert_eq!(
            redact_target("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"),
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?***"
        );
        assert_eq!(redact_target("clerk@example.cn"), "clerk@example.cn");
    }

    #[test]
    fn targets_are_checked() {
        let new = |channel, target: &str| NewSubscription {
            condition: Condition::Overdue,
            threshold: None,
            channel,
            target: Some(target.to_string()),
        };
        assert!(checked(&new(Channel::Webhook, "ftp://example.cn/x")).is_err());
        assert!(checked(&new(Channel::Webhook, "not a url")).is_err());
        assert!(checked(&new(Channel::Webhook, "https://oapi.dingtalk.com/robot/send?access_token=x")).is_ok());
        assert!(checked(&new(Channel::Email, "a@b")).is_err());
        assert!(checked(&new(Channel::Email, "a@b.cn\r\nBcc: x@y.cn")).is_err());
        assert!(checked(&new(Channel::Email, "clerk@example.cn")).is_ok());
        let long = format!("https://example.cn/{}", "a".repeat(600));
        assert!(checked(&new(Channel::Webhook, &long)).is_err());
        let below_zero = NewSubscription { threshold: Some(-1.0), ..new(Channel::InApp, "") };
        assert!(checked(&below_zero).is_err(), "a threshold out of range is refused whatever the condition");
    }
}
