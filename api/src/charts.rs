//! The charts the server offers: every chart of `dashboards::charts` (plotters with the
//! embedded CJK font), drawn from reports computed through the server's report cache
//! ([`crate::reports`]), and the rendered images cached by the same key (scope, period,
//! table versions) in [`crate::cache::ImageCache`].

use std::sync::Arc;

use dashboards::charts::{ChartData, ChartFormat, ChartName, ChartOptions, ChartRequest, reports_needed};
use ingest::Scope;
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
    let request = ChartRequest { year, quarter };
    let county = scope.county_code().and_then(|c| Scope::county(c).ok());
    let (mut own, mut county_wide) = (Vec::new(), Vec::new());
    for need in reports_needed(chart, &request, scope) {
        let target = match (&county, need.county_wide) {
            (Some(c), true) => c,
            _ => scope,
        };
        let report = reports::report(state, need.kind, target, need.year, None).await?;
        if need.county_wide { county_wide.push((*report).clone()) } else { own.push((*report).clone()) }
    }
    let scope = scope.clone();
    let bytes = tokio::task::spawn_blocking(move || {
        let data = ChartData::new(request, scope, Scheme::default(), own)?.with_county_reference(county_wide)?;
        dashboards::charts::render(chart, &data, format, &ChartOptions::default())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("chart {}: {e}", chart.name())))?;
    let bytes = Arc::new(bytes);
    state.images.put(key, bytes.clone());
    Ok(bytes)
}
