//! `/api/v1/schemes/{county}…` and `/api/v1/freezes/{county}`: HTTP only; the work and who
//! may do it are in [`crate::schemes`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::params::Q;
use crate::auth::Caller;
use crate::catalog::FreezeRow;
use crate::error::{AppError, AppResult, ErrorBody};
use crate::schemes::{self, SchemeView};
use crate::state::AppState;

/// A county in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CountyPath {
    /// 县区代码（6 位）
    #[param(pattern = "^[0-9]{6}$")]
    pub county: String,
}

/// A county's scheme version in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct VersionPath {
    /// 县区代码（6 位）
    #[param(pattern = "^[0-9]{6}$")]
    pub county: String,
    /// 版本号
    #[param(value_type = i64, minimum = 1)]
    pub version: String,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// 生效日期（默认今天）：期末在这一天及以后的报表用这一版，例如 2025-01-01
    #[param(value_type = Option<String>, format = Date)]
    pub in_force_from: Option<String>,
}

/// A county's scheme versions.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SchemeList {
    schemes: Vec<SchemeView>,
}

/// A version number in a path; anything else is a JSON 400.
fn version_of(text: &str) -> AppResult<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|v| *v >= 1)
        .ok_or_else(|| AppError::bad_request("bad_id", format!("方案版本应为正整数，收到“{text}”")))
}

/// `POST /api/v1/schemes/{county}`: the TOML file as the body.
#[utoipa::path(post, path = "/api/v1/schemes/{county}", tag = "schemes", summary = "上传本县区的评分方案（TOML），存为新的一版",
    description = "请求体是评分方案 TOML 文件（每一项都可省略，省略的取数据契约的默认值；示例见 yishi scheme example）。县区账号只能上传本县区的，平台账号可上传任一县区的，社区账号不能上传（403）。方案从 in_force_from 起生效：报表期末在这一天及以后的，用生效中最新的一版。",
    params(CountyPath, UploadQuery),
    request_body(content((String = "application/toml"), (String = "text/plain"))),
    responses(
        (status = 200, description = "已存为新的一版，附与默认方案的差异", body = SchemeView),
        (status = 400, description = "方案无效（message 写明第几行、哪个字段），或日期、代码无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "社区账号，或不是本账号的县区", body = ErrorBody),
        (status = 409, description = "同时有另一个方案上传，请重新上传", body = ErrorBody),
        (status = 413, description = "文件超过 64 KB", body = ErrorBody),
    ))]
pub async fn upload(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(CountyPath { county }): UrlPath<CountyPath>,
    Q(q): Q<UploadQuery>,
    body: Bytes,
) -> AppResult<Json<SchemeView>> {
    Ok(Json(schemes::upload(&state, &account, &county, &body, q.in_force_from.as_deref()).await?))
}

/// `GET /api/v1/schemes/{county}`.
#[utoipa::path(get, path = "/api/v1/schemes/{county}", tag = "schemes", summary = "本县区评分方案的各版（新的在前）",
    description = "社区账号只看到现行的一版。",
    params(CountyPath),
    responses(
        (status = 200, description = "各版及与默认方案的差异", body = SchemeList),
        (status = 400, description = "代码无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "不是本账号的县区", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(CountyPath { county }): UrlPath<CountyPath>,
) -> AppResult<Json<serde_json::Value>> {
    let schemes = schemes::list(&state, &account, &county).await?;
    Ok(Json(serde_json::json!({ "schemes": schemes })))
}

/// `GET /api/v1/schemes/{county}/{version}`.
#[utoipa::path(get, path = "/api/v1/schemes/{county}/{version}", tag = "schemes", summary = "一版评分方案及其与默认方案的逐项差异",
    description = "diff 逐项列出与数据契约默认方案不同的字段：field（字段）、default（默认值）、county（本县值）。",
    params(VersionPath),
    responses(
        (status = 200, description = "方案", body = SchemeView),
        (status = 400, description = "代码或版本号无效", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "不是本账号的县区", body = ErrorBody),
        (status = 404, description = "没有这一版", body = ErrorBody),
    ))]
pub async fn one(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(VersionPath { county, version }): UrlPath<VersionPath>,
) -> AppResult<Json<SchemeView>> {
    Ok(Json(schemes::one(&state, &account, &county, version_of(&version)?).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FreezeQuery {
    /// 冻结哪一年的年度考核
    #[param(minimum = 1990, maximum = 2200)]
    pub year: i32,
}

/// `POST /api/v1/freezes/{county}?year=2025`.
#[utoipa::path(post, path = "/api/v1/freezes/{county}", tag = "schemes", summary = "冻结本县区某年度的考核结果",
    description = "记下年末现行的评分方案版本和当前各表的数据版本；此后该年的干部、社区年度考核都按冻结时的版本重现（并注明），加 latest=true 才看最新数据。再次冻结则以新的为准。",
    params(CountyPath, FreezeQuery),
    responses(
        (status = 200, description = "已冻结", body = FreezeRow),
        (status = 400, description = "年度或代码无效，或县区不存在", body = ErrorBody),
        (status = 401, description = "未登录", body = ErrorBody),
        (status = 403, description = "社区账号，或不是本账号的县区", body = ErrorBody),
    ))]
pub async fn freeze(
    State(state): State<AppState>,
    Caller(account): Caller,
    UrlPath(CountyPath { county }): UrlPath<CountyPath>,
    Q(q): Q<FreezeQuery>,
) -> AppResult<Response> {
    let row = schemes::freeze_for(&state, &account, &county, q.year).await?;
    Ok((StatusCode::OK, Json(row)).into_response())
}
