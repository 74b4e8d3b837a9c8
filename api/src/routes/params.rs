//! What requests carry besides the caller: the period and place filters every report,
//! chart and page takes, query strings as typed values (a malformed one is a JSON 400),
//! and the table and report names of paths.

use ingest::Table;
use serde::Deserialize;
use warehouse::analyses::ReportKind;

use crate::error::{AppError, AppResult};

/// The period and place filters every report, chart and page takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// Empty or absent: the latest year with data.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub year: Option<i32>,
    /// 1–4; empty or absent: the whole year.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub quarter: Option<u32>,
    pub county: Option<String>,
    pub community: Option<String>,
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
    let kind = ReportKind::parse(name).ok_or_else(|| {
        AppError::not_found(format!(
            "没有“{name}”报表；可用：quarterly（季度满意度分析）、cadres（干部考核）、communities（社区考核）、counties（县区汇总）"
        ))
    })?;
    match (kind, by.map(str::trim).filter(|b| !b.is_empty())) {
        (k, None) => Ok(k),
        (ReportKind::Quarterly, Some("category")) => Ok(ReportKind::QuarterlyByCategory),
        (ReportKind::Quarterly, Some("channel")) => Ok(ReportKind::QuarterlyByChannel),
        (_, Some(b)) => {
            Err(AppError::bad_request("bad_breakdown", format!("by={b} 只用于 quarterly，可用 category、channel")))
        }
    }
}
