//! Each county's scoring schemes in the catalog, and frozen year-end results: the
//! server's work behind `/api/v1/schemes/…`, `/api/v1/freezes/…` and the `/schemes` page
//! (and `yishi freeze`, which calls [`freeze`] with the CLI's catalog).
//!
//! Who may do what: a county account manages its own county's schemes (upload, list,
//! view, diff) and freezes its year-end results; a platform account any county's; a
//! community account may only view its county's scheme in force, never upload or freeze.
//! Another county is a 403, as every filter outside the caller's scope is ([`narrow`]).

use ingest::Scope;
use serde::Serialize;
use warehouse::Warehouse;
use warehouse::scheme::{FieldDiff, Scheme};

use crate::accounts::Account;
use crate::auth::narrow;
use crate::catalog::{Catalog, FreezeRow, NewScheme, SchemeRow, now_ms};
use crate::error::{AppError, AppResult};
use crate::reports::{data_versions, period_end};
use crate::state::AppState;

/// The longest scheme file taken (the commented example is about 1.5 KB).
pub const MAX_SCHEME_BYTES: usize = 64 << 10;

/// A scheme version with its differences from the contract's default.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchemeView {
    #[serde(flatten)]
    pub row: SchemeRow,
    /// Whether this version is in force today (the latest version in force from today or
    /// earlier).
    pub in_force: bool,
    /// 字段、默认值、本县值: where the scheme differs from the contract's default.
    #[schema(value_type = Vec<Object>)]
    pub diff: Vec<FieldDiff>,
}

/// The county a request names, within the caller's scope (else 403 `forbidden_scope`).
fn county_of(account: &Account, county: &str) -> AppResult<String> {
    let scope = narrow(&account.scope, Some(county), None)?;
    scope.county_code().map(str::to_string).ok_or_else(|| AppError::bad_request("bad_scope_code", "请指定县区代码"))
}

/// Refuses a community account (403 `forbidden_role`): schemes and freezes are the
/// county's.
fn managing(account: &Account, what: &str) -> AppResult<()> {
    if matches!(account.scope, Scope::Community(_)) {
        return Err(AppError::forbidden(
            "forbidden_role",
            format!("社区账号不能{what}；请由县区账号办理（社区账号只能查看本县区现行的评分方案）"),
        ));
    }
    Ok(())
}

/// Today in Beijing, YYYY-MM-DD.
pub fn today() -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    chrono::Utc::now().with_timezone(&offset).format("%Y-%m-%d").to_string()
}

/// `in_force_from` checked: a date (any form the ledgers take), as YYYY-MM-DD; today when
/// not given.
fn in_force_day(text: Option<&str>) -> AppResult<String> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(today()),
        Some(t) => ingest::values::parse_date(t).map(|d| d.format("%Y-%m-%d").to_string()).ok_or_else(|| {
            AppError::bad_request("bad_date", format!("in_force_from（生效日期）“{t}”无效，例如 2025-01-01"))
        }),
    }
}

/// Stores an uploaded scheme as the county's next version, after checking who uploads and
/// that the TOML is a usable scheme (400 `bad_scheme` naming the field or line).
pub async fn upload(
    state: &AppState,
    account: &Account,
    county: &str,
    toml: &[u8],
    in_force_from: Option<&str>,
) -> AppResult<SchemeView> {
    let target = format!("scheme {county}");
    let stored = async {
        managing(account, "上传评分方案")?;
        let county = county_of(account, county)?;
        state.warehouse.check_scope(&Scope::County(county.clone())).await?;
        if toml.len() > MAX_SCHEME_BYTES {
            return Err(AppError::too_large(format!("评分方案文件最大 {} KB", MAX_SCHEME_BYTES >> 10)));
        }
        let text = std::str::from_utf8(toml)
            .map_err(|_| AppError::bad_request("bad_scheme", "评分方案应为 UTF-8 编码的 TOML 文本"))?;
        let scheme = Scheme::from_toml_str(text, "上传的方案")
            .map_err(|e| AppError::bad_request("bad_scheme", e.to_string()))?;
        let day = in_force_day(in_force_from)?;
        let new = NewScheme {
            county_code: &county,
            name: &scheme.name,
            toml: text,
            hash: &scheme.hash(),
            in_force_from: &day,
            uploaded_by: &account.name,
        };
        state.catalog.add_scheme(&new).await
    }
    .await;
    match stored {
        Ok(row) => {
            let detail = format!("第{}版“{}”，{} 起生效，{}", row.version, row.name, row.in_force_from, row.hash);
            state.catalog.audit(Some(account), "scheme", &target, &detail, 200).await;
            view(&state.catalog, row).await
        }
        Err(e) => {
            state.catalog.audit(Some(account), "scheme", &target, &e.parts().2, e.status().as_u16()).await;
            Err(e)
        }
    }
}

/// A county's scheme versions, newest first; a community account sees the one in force.
pub async fn list(state: &AppState, account: &Account, county: &str) -> AppResult<Vec<SchemeView>> {
    let county = county_of(account, county)?;
    let rows = match account.scope {
        Scope::Community(_) => state.catalog.schemes_in_force(&today(), Some(&county)).await?,
        _ => state.catalog.schemes(&county).await?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(&state.catalog, row).await?);
    }
    Ok(out)
}

/// One version with its diff; a community account only the version in force.
pub async fn one(state: &AppState, account: &Account, county: &str, version: i64) -> AppResult<SchemeView> {
    let county = county_of(account, county)?;
    let missing = || AppError::not_found(format!("县区 {county} 没有第{version}版评分方案"));
    let row = state.catalog.scheme(&county, version).await?.ok_or_else(missing)?;
    let shown = view(&state.catalog, row).await?;
    if matches!(account.scope, Scope::Community(_)) && !shown.in_force {
        return Err(missing());
    }
    Ok(shown)
}

async fn view(catalog: &Catalog, row: SchemeRow) -> AppResult<SchemeView> {
    let in_force = catalog.schemes_in_force(&today(), Some(&row.county_code)).await?;
    let scheme = crate::reports::versioned(&row)?.scheme;
    Ok(SchemeView {
        in_force: in_force.first().is_some_and(|r| r.version == row.version),
        diff: scheme.diff(&Scheme::default()),
        row,
    })
}

/// Freezes a county's year-end assessment: records the scheme version in force at the
/// year's end and the latest table versions, so every later view of that year's cadre
/// and community assessment reproduces this result (see [`crate::reports::report_at`]).
pub async fn freeze(
    catalog: &Catalog,
    warehouse: &Warehouse,
    county: &str,
    year: i32,
    by: &str,
) -> AppResult<FreezeRow> {
    if !(1990..=2200).contains(&year) {
        return Err(AppError::bad_request("bad_year", format!("年度“{year}”无效")));
    }
    let scheme = catalog.schemes_in_force(&period_end(year, None), Some(county)).await?;
    let versions = data_versions(warehouse).await?;
    let versions: Vec<String> = versions.iter().map(|(t, v)| format!("{}={v}", t.name())).collect();
    let row = FreezeRow {
        county_code: county.to_string(),
        year: i64::from(year),
        scheme_version: scheme.first().map(|s| s.version),
        versions: versions.join(","),
        frozen_by: by.to_string(),
        frozen_at: now_ms(),
    };
    catalog.freeze(&row).await?;
    Ok(row)
}

/// [`freeze`] for an account: a county account its own county, a platform account any.
pub async fn freeze_for(state: &AppState, account: &Account, county: &str, year: i32) -> AppResult<FreezeRow> {
    let target = format!("freeze {county} {year}");
    let frozen = async {
        managing(account, "冻结年度结果")?;
        let county = county_of(account, county)?;
        state.warehouse.check_scope(&Scope::County(county.clone())).await?;
        freeze(&state.catalog, &state.warehouse, &county, year, &account.name).await
    }
    .await;
    let (status, detail) = match &frozen {
        Ok(row) => (200, format!("方案版本 {:?}，数据版本 {}", row.scheme_version, row.versions)),
        Err(e) => (e.status().as_u16(), e.parts().2),
    };
    state.catalog.audit(Some(account), "freeze", &target, &detail, status).await;
    frozen
}
