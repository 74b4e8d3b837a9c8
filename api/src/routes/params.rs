//! What requests carry besides the caller: the period and place filters every report,
//! chart and page takes, query strings as typed values (a malformed one is a JSON 400),
//! and the table and report names of paths.

use ingest::Table;
use serde::Deserialize;
use warehouse::analyses::ReportKind;

use crate::error::{AppError, AppResult};

/// The period and place filters every report, chart and page takes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filters {
    /// 年度（默认：有数据的最近一年）
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(minimum = 1990, maximum = 2200)]
    pub year: Option<i32>,
    /// 季度 1–4（默认：全年）
    #[serde(default, deserialize_with = "empty_as_none")]
    #[param(minimum = 1, maximum = 4)]
    pub quarter: Option<u32>,
    /// 县区代码（6 位）：只能缩小到本账号范围内，否则 403
    #[param(pattern = "^[0-9]{6}$")]
    pub county: Option<String>,
    /// 社区代码（12 位）：只能缩小到本账号范围内，否则 403
    #[param(pattern = "^[0-9]{12}$")]
    pub community: Option<String>,
    /// 按指定数据版本计算：3（每张表都取第 3 版）或 topics=3,evaluations=5（与 yishi report --as-of-version 相同）；版本不存在为 400
    #[param(
        max_length = 500,
        pattern = r"^([0-9]{1,18}|(communities|cadres|sessions|topics|evaluations|rectifications)=[0-9]{1,18}(,(communities|cadres|sessions|topics|evaluations|rectifications)=[0-9]{1,18})*)$"
    )]
    pub as_of_version: Option<String>,
    /// 按截至某日（UTC 当天结束）的数据计算，例如 2026-01-31（与 yishi report --as-of 相同）；不能与 as_of_version 同时给
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<String>,
    /// true：年度考核已冻结时也取最新数据（默认显示冻结结果）
    #[serde(default, deserialize_with = "empty_as_none")]
    pub latest: Option<bool>,
}

/// The data a request asks for: `as_of_version` / `as_of` read by the CLI's parser with
/// its messages (a bad one is a 400 `bad_as_of`), and `latest`.
pub fn asked(
    as_of_version: Option<&str>,
    as_of: Option<&str>,
    latest: Option<bool>,
) -> AppResult<crate::reports::Asked> {
    let snapshot = warehouse::Snapshot::parse(as_of_version, as_of)
        .map_err(|e| AppError::bad_request("bad_as_of", e.to_string()))?;
    Ok(crate::reports::Asked { snapshot, latest: latest.unwrap_or(false) })
}

/// `?quarter=` (an empty select) means none.
fn empty_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
{
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("“{t}”不是有效的数字"))),
    }
}

/// A query string as `T`; a malformed one is a JSON 400 `bad_query`.
#[derive(Debug, Clone, Default)]
pub struct Q<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Q<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Q<T>, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(Q)
            .map_err(|e| AppError::bad_request("bad_query", format!("查询参数有误：{e}")))
    }
}

impl Filters {
    /// The data asked for: `as_of_version` / `as_of` and `latest` ([`asked`]).
    pub fn asked(&self) -> AppResult<crate::reports::Asked> {
        asked(self.as_of_version.as_deref(), self.as_of.as_deref(), self.latest)
    }

    pub fn check(&self) -> AppResult<()> {
        if let Some(q) = self.quarter.filter(|q| !(1..=4).contains(q)) {
            return Err(AppError::bad_request("bad_quarter", format!("季度应为 1–4，收到 {q}")));
        }
        if let Some(y) = self.year.filter(|y| !(1990..=2200).contains(y)) {
            return Err(AppError::bad_request("bad_year", format!("年度“{y}”无效")));
        }
        Ok(())
    }
}

/// The key of a detail page (`/cadre`, `/topic`): the year, the community and the cadre's
/// or topic's id, as the rows' links carry them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Detail {
    #[serde(default, deserialize_with = "empty_as_none")]
    pub year: Option<i32>,
    #[serde(default)]
    pub community: String,
    pub cadre: Option<String>,
    pub topic: Option<String>,
    pub as_of_version: Option<String>,
    pub as_of: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    pub latest: Option<bool>,
}

/// The longest id a detail page takes (the contract's ids are short codes).
const MAX_ID_CHARS: usize = 64;

impl Detail {
    /// The community and the id (`cadre` or `topic`, as `which` names it), checked: a
    /// 12-digit community code and an id of 1–64 printable characters, else a 400.
    pub fn key(&self, id: Option<&str>, which: &str) -> AppResult<(String, String)> {
        let community = self.community.trim();
        if community.len() != 12 || !community.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AppError::bad_request("bad_scope_code", format!("社区代码应为 12 位数字，收到“{community}”")));
        }
        let id = id.map(str::trim).unwrap_or_default();
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS || id.chars().any(char::is_control) {
            return Err(AppError::bad_request("bad_id", format!("{which}编号应为 1–{MAX_ID_CHARS} 个字符")));
        }
        Ok((community.to_string(), id.to_string()))
    }

    /// The data asked for, as [`Filters::asked`].
    pub fn asked(&self) -> AppResult<crate::reports::Asked> {
        asked(self.as_of_version.as_deref(), self.as_of.as_deref(), self.latest)
    }

    /// The page filters of the detail: its year and community.
    pub fn filters(&self, community: &str) -> Filters {
        Filters { year: self.year, community: Some(community.to_string()), ..Filters::default() }
    }
}

/// A table named in a path (`communities`, `社区`, …).
pub fn table_of(name: &str) -> AppResult<Table> {
    Table::parse(name).ok_or_else(|| {
        AppError::not_found(format!(
            "没有“{name}”表；可用：communities、cadres、sessions、topics、evaluations、rectifications"
        ))
    })
}

/// A report named in a path (`quarterly`, `cadres`, …), with `by=category|channel` for the
/// quarterly breakdowns.
pub fn report_kind(name: &str, by: Option<&str>) -> AppResult<ReportKind> {
    let kind = ReportKind::parse(name)
        .ok_or_else(|| AppError::not_found(format!("没有“{name}”报表；可用：{}", ReportKind::choices())))?;
    match (kind, by.map(str::trim).filter(|b| !b.is_empty())) {
        (k, None) => Ok(k),
        (ReportKind::Quarterly, Some("category")) => Ok(ReportKind::QuarterlyByCategory),
        (ReportKind::Quarterly, Some("channel")) => Ok(ReportKind::QuarterlyByChannel),
        // A breakdown names a quarterly report's; the other reports have none to take.
        (_, Some("category" | "channel")) => Ok(kind),
        (_, Some(b)) => Err(AppError::bad_request("bad_breakdown", format!("by={b} 无效；可用 category、channel"))),
    }
}

/// The API's filters may not be given empty (`?county=`): the document says what each
/// holds, and an empty value is none of it. (The pages' forms send empty selects, and
/// read them as absent.)
pub fn no_empty_values(query: Option<&str>, names: &[&str]) -> AppResult<()> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| AppError::bad_request("bad_query", format!("查询参数有误：{e}")))?;
    match pairs.iter().find(|(k, v)| names.contains(&k.as_str()) && v.trim().is_empty()) {
        Some((name, _)) => Err(AppError::bad_request("bad_query", format!("参数 {name} 不能为空；不筛选时请省略它"))),
        None => Ok(()),
    }
}

/// A code given in a JSON body must be all digits of its length (`county`: 6,
/// `community`: 12), as the document says.
pub fn check_code(name: &str, value: Option<&str>, digits: usize) -> AppResult<()> {
    match value {
        Some(v) if v.len() != digits || !v.bytes().all(|b| b.is_ascii_digit()) => {
            Err(AppError::bad_request("bad_scope_code", format!("{name} 应为 {digits} 位数字代码，收到“{v}”")))
        }
        _ => Ok(()),
    }
}

/// A path's numeric id; anything else is a JSON 400 (not axum's plain-text one).
pub fn id_of(text: &str) -> AppResult<i64> {
    text.parse().map_err(|_| AppError::bad_request("bad_id", format!("批次号应为整数，收到“{text}”")))
}
