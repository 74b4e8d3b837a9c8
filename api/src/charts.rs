//! The charts the server offers: every chart of `dashboards::charts` (plotters with the
//! embedded CJK font), drawn from reports computed through the server's report cache
//! ([`crate::reports`]), and the rendered images cached by what those reports were computed from (scope, period,
//! table versions, schemes) in [`crate::cache::ImageCache`].

use std::sync::Arc;

use dashboards::charts::{ChartData, ChartError, ChartFormat, ChartName, ChartOptions, ChartRequest, reports_needed};
use dashboards::sources::ReportSource;
use ingest::Scope;
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;

use crate::error::{AppError, AppResult};
use crate::reports::{self, Asked};
use crate::state::AppState;

/// The chart as PNG or SVG bytes, over the reports of `scope` for the period, on the data
/// `asked` names, each county with its scheme in force.
pub async fn draw(
    state: &AppState,
    chart: ChartName,
    scope: &Scope,
    (year, quarter): (i32, Option<u32>),
    format: ChartFormat,
    asked: &Asked,
) -> AppResult<Arc<Vec<u8>>> {
    let request = ChartRequest { year, quarter };
    let (own, county_wide) = chart_reports(state, chart, scope, &request, asked).await?;
    // The reports came from the cache keyed by their versions and schemes; the image is
    // keyed by what they were computed from, and what they say about it.
    let metas: Vec<String> = own
        .iter()
        .chain(&county_wide)
        .map(|r| format!("{:?}|{}|{:?}", r.meta.versions, r.meta.scheme_text(), r.meta.notes))
        .collect();
    let key = format!("{}|{format:?}|{scope:?}|{year}|{quarter:?}|{metas:?}", chart.name());
    if let Some(bytes) = state.images.get(&key) {
        return Ok(bytes);
    }
    let data = chart_data(state, scope, request, own, county_wide).await?;
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
    (year, quarter): (i32, Option<u32>),
    asked: &Asked,
) -> AppResult<String> {
    let request = ChartRequest { year, quarter };
    let (own, county_wide) = chart_reports(state, chart, scope, &request, asked).await?;
    let data = chart_data(state, scope, request, own, county_wide).await?;
    dashboards::charts::period_text(chart, &data)
        .map_err(|e| AppError::Internal(format!("chart {}: {e}", chart.name())))
}

/// The reports `chart` is drawn from in `scope`, through the report cache: its own, and a
/// community account's county-wide ones for the averages and cut-offs.
async fn chart_reports(
    state: &AppState,
    chart: ChartName,
    scope: &Scope,
    request: &ChartRequest,
    asked: &Asked,
) -> AppResult<(Vec<Report>, Vec<Report>)> {
    let county = scope.county_code().and_then(|c| Scope::county(c).ok());
    let (mut own, mut county_wide) = (Vec::new(), Vec::new());
    for need in reports_needed(chart, request, scope) {
        let target = match (&county, need.county_wide) {
            (Some(c), true) => c,
            _ => scope,
        };
        let report = reports::report_at(state, need.kind, target, need.year, None, asked).await?;
        if need.county_wide { county_wide.push((*report).clone()) } else { own.push((*report).clone()) }
    }
    Ok((own, county_wide))
}

/// The chart's data over its reports, with the scheme they were computed with, built on a
/// blocking thread.
async fn chart_data(
    state: &AppState,
    scope: &Scope,
    request: ChartRequest,
    own: Vec<Report>,
    county_wide: Vec<Report>,
) -> AppResult<ChartData> {
    // The requested year's scheme: a trend's previous year keeps the scheme of its own.
    let of_year = |r: &&Report| r.meta.year == request.year;
    let scheme = scheme_of_reports(state, scope, own.iter().find(of_year).or(county_wide.iter().find(of_year))).await?;
    let scope = scope.clone();
    tokio::task::spawn_blocking(move || {
        let data = ChartData::new(request, scope, scheme, own).map_err(|e| e.to_string())?;
        data.with_county_reference(county_wide).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("chart data: {e}")))
}

/// The scheme a chart's reports were computed with (their grade lines follow it): the
/// county's catalog version they name, else the contract's default (also a platform
/// chart's, whose counties' own schemes its 口径 line names).
async fn scheme_of_reports(state: &AppState, scope: &Scope, report: Option<&Report>) -> AppResult<Scheme> {
    let version = report.and_then(|r| r.meta.scheme_version);
    match (scope.county_code(), version) {
        (Some(county), Some(v)) => match state.catalog.scheme(county, v).await? {
            Some(row) => Ok(reports::versioned(&row)?.scheme),
            None => Err(AppError::Internal(format!("scheme {v} of {county} is missing"))),
        },
        _ => Ok(Scheme::default()),
    }
}

/// The server's reports as a [`ReportSource`] for the pack and `yishi chart`: through the
/// report cache, each county with its scheme in force, a frozen year's assessment as
/// frozen, on the data `asked` names (the CLI with a catalog at hand uses it too).
pub struct ServerReports<'a> {
    pub state: &'a AppState,
    pub asked: Asked,
}

impl std::fmt::Debug for ServerReports<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerReports").field("asked", &self.asked).finish_non_exhaustive()
    }
}

impl ReportSource for ServerReports<'_> {
    async fn report(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
    ) -> Result<Report, ChartError> {
        let report = reports::report_at(self.state, kind, scope, year, quarter, &self.asked).await;
        report.map(|r| (*r).clone()).map_err(|e| ChartError::Source(e.to_string()))
    }

    async fn scheme_of(&self, scope: &Scope, report: &Report) -> Result<Scheme, ChartError> {
        scheme_of_reports(self.state, scope, Some(report)).await.map_err(|e| ChartError::Source(e.to_string()))
    }
}
