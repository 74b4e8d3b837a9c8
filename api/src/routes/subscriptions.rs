//! `/api/v1/subscriptions…`: one's own alert subscriptions. HTTP only; the work is in
//! [`crate::alerts`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::alerts::{self, NewSubscription, SubscriptionView};
use crate::auth::Caller;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::state::AppState;

/// A subscription in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// 订阅编号
    #[param(value_type = i64, minimum = 1)]
    pub id: String,
}

/// One's subscriptions.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SubscriptionList {
    subscriptions: Vec<SubscriptionView>,
    /// 每个账号最多可订阅的个数
    max: i64,
}

/// `GET /api/v1/subscriptions`.
#[utoipa::path(get, path = "/api/v1/subscriptions", tag = "alerts", summary = "本账号的订阅（提醒条件与送达方式）",
    responses(
        (status = 200, description = "本账号的订阅，Webhook 地址的密钥部分隐去", body = SubscriptionList),
        (status = 401, description = "未登录", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, Caller(account): Caller) -> AppResult<Json<serde_json::Value>> {
    let subscriptions = alerts::subscriptions(&state, &account).await?;
    Ok(Json(serde_json::json!({ "subscriptions": subscriptions, "max": alerts::MAX_SUBSCRIPTIONS })))
}

/// `POST /api/v1/subscriptions`: JSON body.
#[utoipa::path(post, path = "/api/v1/subscriptions", tag = "alerts", summary = "新建一个订阅：本账号范围内的提醒条件，送达站内、群机器人 Webhook 或邮箱",
    description = "condition：overdue（议题或整改逾期未办结）、satisfaction_below（上一季度社区满意率低于 threshold%，省略为 80）、no_meeting（上一个半月——1–15 日或 16 日–月末——有社区未召开例会，提醒中写明哪个半月）、document（上一季度的书面报告可下载时通知下载地址，县区或社区账号；邮件附 Word 文件）、pack（上一季度的报表包可下载时通知下载地址 /api/v1/packs/pack.zip，县区或社区账号；邮件附 zip）。附件在发送时按订阅账号当时的范围生成。channel：in_app（站内提醒）、webhook（target 为 http/https 地址，如企业微信、钉钉群机器人）、email（target 为邮箱，服务器配置 SMTP 时发送）。提醒只含本账号范围内的数据；同一组事项只提醒一次。每个账号最多 20 个订阅。",
    request_body(content = NewSubscription, content_type = "application/json"),
    responses(
        (status = 201, description = "已订阅", body = SubscriptionView),
        (status = 400, description = "请求体不是有效的 JSON，或阈值、地址、邮箱无效，或 Webhook 指向内网、本机或链路本地地址（code 为 private_webhook；服务器以 --alert-allow-private-webhooks 启动时才接受）（message 写明）", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 409, description = "本账号的订阅已达上限", body = ErrorBody),
    ))]
pub async fn create(State(state): State<AppState>, Caller(account): Caller, body: Bytes) -> AppResult<Response> {
    let new: NewSubscription = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(
            "bad_json",
            format!("请求体应为 JSON，例如 {{\"condition\":\"overdue\",\"channel\":\"in_app\"}}：{e}"),
        )
    })?;
    let view = alerts::subscribe(&state, &account, &new).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `DELETE /api/v1/subscriptions/{id}`.
#[utoipa::path(delete, path = "/api/v1/subscriptions/{id}", tag = "alerts", summary = "删除本账号的一个订阅（及其提醒记录）",
    params(IdPath),
    responses(
        (status = 204, description = "已删除"),
        (status = 400, description = "编号无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 404, description = "本账号没有这个订阅", body = ErrorBody),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(IdPath { id }): UrlPath<IdPath>,
) -> AppResult<StatusCode> {
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| AppError::bad_request("bad_id", format!("订阅编号应为正整数，收到“{id}”")))?;
    alerts::unsubscribe(&state, &account, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
