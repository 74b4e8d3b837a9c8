//! The charts the server offers: every chart of `dashboards::charts` (plotters with the
//! embedded CJK font), drawn from reports computed through the server's report cache
//! ([`crate::reports`]), and the rendered images cached by the same key (scope, period,
//! table versions) in [`crate::cache::ImageCache`].

use std::sync::Arc;

use dashboards::charts::{ChartData, ChartFormat, ChartName, ChartOptions, ChartRequest, reports_needed};
use ingest::Scope;
use warehouse::analyses::Report;
use warehouse::scheme::Scheme;

use crate::error::{AppError, AppResult};
use crate::reports::{self, data_versions};
use crate::state::AppState;

/// The chart as PNG or SVG bytes, over the reports of `scope` for the period.
pub async fn draw(
    state: &AppState,
    chart: ChartName,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
    format: ChartFormat,
) -> AppResult<Arc<Vec<u8>>> {
    let versions = data_versions(&state.warehouse).await?;
    let key = format!("{}|{format:?}|{scope:?}|{year}|{quarter:?}|{versions:?}", chart.name());
    if let Some(bytes) = state.images.get(&key) {
        return Ok(bytes);
    }
    let data = chart_data(state, chart, scope, ChartRequest { year, quarter }).await?;
    // The error as text inside the closure: ChartError is large to carry across threads.
    let bytes = tokio::task::spawn_blocking(move || {
        dashboards::charts::render(chart, &data, format, &ChartOptions::default()).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("chart {}: {e}", chart.name())))?;
    let bytes = Arc::new(bytes);
    state.images.put(key, bytes.clone());
    Ok(bytes)
}

/// The period the chart's figures cover, as its subtitle states it and its download is
/// named: "2025年全年" for the annual assessments whatever quarter was asked,
/// "2025年第3季度" for a quarterly analysis (`dashboards::charts::period_text`, as the
/// report pack and `yishi chart` name theirs).
pub async fn period(
    state: &AppState,
    chart: ChartName,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
) -> AppResult<String> {
    let data = chart_data(state, chart, scope, ChartRequest { year, quarter }).await?;
    dashboards::charts::period_text(chart, &data)
        .map_err(|e| AppError::Internal(format!("chart {}: {e}", chart.name())))
}

/// What `chart` is drawn from in `scope`: its reports through the report cache (a community
/// account's county-wide ones for the averages and cut-offs), read on a blocking thread.
async fn chart_data(state: &AppState, chart: ChartName, scope: &Scope, request: ChartRequest) -> AppResult<ChartData> {
    let county = scope.county_code().and_then(|c| Scope::county(c).ok());
    let (mut own, mut county_wide): (Vec<Report>, Vec<Report>) = (Vec::new(), Vec::new());
    for need in reports_needed(chart, &request, scope) {
        let target = match (&county, need.county_wide) {
            (Some(c), true) => c,
            _ => scope,
        };
        let report = reports::report(state, need.kind, target, need.year, None).await?;
        if need.county_wide { county_wide.push((*report).clone()) } else { own.push((*report).clone()) }
    }
    let scope = scope.clone();
    tokio::task::spawn_blocking(move || {
        let data = ChartData::new(request, scope, Scheme::default(), own).map_err(|e| e.to_string())?;
        data.with_county_reference(county_wide).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("chart {}: {e}", chart.name())))
}
