//! What a chart is drawn from: the reports of the analyses (fetched once for any number
//! of charts), the scope they were computed for and the scoring scheme.
//!
//! A community account's charts compare it with its county's average (the trend, the
//! four dimensions) and its cadres with the county's 优秀 cut-off. Those are computed
//! from the county's reports, and only the averages and the cut-off reach the chart —
//! the same rule the warehouse applies when it shows a community its county-wide rank
//! and the county's average score.

use std::collections::BTreeSet;

use ingest::Scope;
use serde_json::Value;
use warehouse::analyses::{Figure, Report, ReportKind};
use warehouse::scheme::{CountySchemes, Scheme, VersionedScheme};
use warehouse::{Snapshot, Warehouse};

use super::{ChartError, ChartName};
use crate::encoding::json::report_rows;
use crate::naming;

/// A report row keyed by the contract's column names.
pub(crate) type Row = crate::encoding::json::Row;

/// The period a chart is about: a year, or a quarter of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartRequest {
    pub year: i32,
    pub quarter: Option<u32>,
}

impl ChartRequest {
    /// "2025年第3季度" or "2025年".
    pub fn period_text(&self) -> String {
        match self.quarter {
            Some(q) => naming::quarter_text(self.year, q),
            None => format!("{}年", self.year),
        }
    }
}

/// One report a chart needs: its kind and year, over the caller's scope or, for a
/// community account, over its county (for averages and cut-offs only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportNeed {
    pub kind: ReportKind,
    pub year: i32,
    pub county_wide: bool,
}

/// The reports `name` is drawn from for `request` in `scope`.
pub fn reports_needed(name: ChartName, request: &ChartRequest, scope: &Scope) -> Vec<ReportNeed> {
    let y = request.year;
    let community = matches!(scope, Scope::Community(_));
    let need = |kind, year, county_wide| ReportNeed { kind, year, county_wide };
    let mut needs = match name {
        ChartName::SatisfactionTrend => {
            vec![need(ReportKind::Quarterly, y - 1, false), need(ReportKind::Quarterly, y, false)]
        }
        ChartName::SatisfactionHeatmap => {
            vec![need(ReportKind::Quarterly, y - 1, false), need(ReportKind::Quarterly, y, false)]
        }
        ChartName::Dimensions => vec![need(ReportKind::Quarterly, y, false)],
        ChartName::RatesByCommunity if request.quarter.is_some() => vec![need(ReportKind::Quarterly, y, false)],
        ChartName::RatesByCommunity | ChartName::CommunityRanking => vec![need(ReportKind::Communities, y, false)],
        ChartName::CadreScores => vec![need(ReportKind::Cadres, y, false)],
        ChartName::TopicsByCategory => vec![need(ReportKind::QuarterlyByCategory, y, false)],
        ChartName::TopicsByChannel => vec![need(ReportKind::QuarterlyByChannel, y, false)],
    };
    let compares_with_county =
        matches!(name, ChartName::SatisfactionTrend | ChartName::Dimensions | ChartName::CadreScores);
    if community && compares_with_county {
        let county: Vec<ReportNeed> = needs.iter().map(|n| ReportNeed { county_wide: true, ..*n }).collect();
        needs.extend(county);
    }
    needs
}

/// The reports behind one or more charts.
#[derive(Debug, Clone)]
pub struct ChartData {
    pub request: ChartRequest,
    pub scope: Scope,
    pub scheme: Scheme,
    reports: Vec<Report>,
    county: Vec<Report>,
}

impl ChartData {
    /// Charts over `reports` (computed for `scope` with `scheme`).
    pub fn new(request: ChartRequest, scope: Scope, scheme: Scheme, reports: Vec<Report>) -> Result<Self, ChartError> {
        if let Some(q) = request.quarter.filter(|q| !(1..=4).contains(q)) {
            return Err(ChartError::InvalidQuarter(q));
        }
        let data = ChartData { request, scope, scheme, reports, county: Vec::new() };
        data.check_scheme(&data.reports)?;
        Ok(data)
    }

    /// Adds the county-wide reports a community account's charts compare with.
    pub fn with_county_reference(mut self, reports: Vec<Report>) -> Result<Self, ChartError> {
        self.check_scheme(&reports)?;
        self.county = reports;
        Ok(self)
    }

    /// The reports of the requested year must be computed with the chart's scheme (its
    /// grade lines and cut-offs); a previous year's, shown beside them in a trend, keeps
    /// the scheme that was in force in that year.
    fn check_scheme(&self, reports: &[Report]) -> Result<(), ChartError> {
        let given = self.scheme.hash();
        let of_year = reports.iter().filter(|r| r.meta.year == self.request.year);
        match of_year.into_iter().find(|r| r.meta.scheme_hash != given) {
            Some(r) => {
                Err(ChartError::SchemeMismatch { report: r.meta.scheme_name.clone(), given: self.scheme.name.clone() })
            }
            None => Ok(()),
        }
    }

    /// Fetches every report the `charts` need (each once) from the warehouse.
    pub async fn fetch(
        wh: &Warehouse,
        charts: &[ChartName],
        scope: &Scope,
        request: ChartRequest,
        scheme: &Scheme,
        snapshot: &Snapshot,
    ) -> Result<ChartData, ChartError> {
        let schemes = CountySchemes::one(VersionedScheme::unversioned(scheme.clone()));
        ChartData::fetch_for_counties(wh, charts, scope, request, &schemes, snapshot).await
    }

    /// [`ChartData::fetch`] with each county's own scheme (`Warehouse::report_for_counties`),
    /// so the reports name the scheme versions they were computed with.
    pub async fn fetch_for_counties(
        wh: &Warehouse,
        charts: &[ChartName],
        scope: &Scope,
        request: ChartRequest,
        schemes: &CountySchemes,
        snapshot: &Snapshot,
    ) -> Result<ChartData, ChartError> {
        if let Some(q) = request.quarter.filter(|q| !(1..=4).contains(q)) {
            return Err(ChartError::InvalidQuarter(q));
        }
        let needs: BTreeSet<(bool, i32, &'static str)> = charts
            .iter()
            .flat_map(|c| reports_needed(*c, &request, scope))
            .map(|n| (n.county_wide, n.year, n.kind.name()))
            .collect();
        let county_scope = scope.county_code().and_then(|c| Scope::county(c).ok());
        let (mut own, mut county) = (Vec::new(), Vec::new());
        for (county_wide, year, token) in needs {
            let Some(kind) = ReportKind::parse(token) else { continue };
            let target = match (&county_scope, county_wide) {
                (Some(c), true) => c,
                _ => scope,
            };
            let report = wh.report_for_counties(kind, target, year, None, schemes, snapshot).await?;
            if county_wide { county.push(report) } else { own.push(report) }
        }
        let scheme = scope.county_code().map_or(&schemes.fallback, |c| schemes.of(c)).scheme.clone();
        ChartData::new(request, scope.clone(), scheme, own)?.with_county_reference(county)
    }

    /// The table versions the reports were read at, to read more reports at.
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.reports.first().map(|r| r.meta.snapshot())
    }

    /// The rows of the caller's report of `kind` for `year`.
    pub(crate) fn rows(&self, kind: ReportKind, year: i32) -> Result<Vec<Row>, ChartError> {
        find(&self.reports, kind, year).map(report_rows).ok_or(ChartError::MissingReport { kind: kind.name(), year })
    }

    /// Rows of `kind` for `year` if the report is at hand (a previous year is optional).
    pub(crate) fn rows_if_any(&self, kind: ReportKind, year: i32) -> Vec<Row> {
        find(&self.reports, kind, year).map(report_rows).unwrap_or_default()
    }

    /// The county-wide rows to compare with: the caller's own unless it is a community.
    pub(crate) fn county_rows(&self, kind: ReportKind, year: i32) -> Option<Vec<Row>> {
        match self.scope {
            Scope::Community(_) => find(&self.county, kind, year).map(report_rows),
            _ => find(&self.reports, kind, year).map(report_rows),
        }
    }

    /// Who the chart is about, as a clerk names it: "东岭社区（安泽县）", "安泽县", "全部县区".
    pub fn scope_text(&self) -> String {
        naming::scope_text(&self.scope, &self.reports)
    }

    /// The name used in file names: the county's or community's name, else its code.
    pub fn scope_file_name(&self) -> String {
        naming::scope_file_name(&self.scope_text())
    }

    /// "评分方案：默认方案（1a2b3c4d5e6f）｜数据版本：cadres=1,…｜生成于 …" of the first
    /// report of `kind` (all reports of one fetch read the same snapshot).
    pub(crate) fn provenance(&self, kind: ReportKind) -> String {
        let report = self.reports.iter().find(|r| r.kind == kind).or_else(|| self.reports.first());
        let Some(report) = report else {
            return format!("评分方案：{}", self.scheme.name);
        };
        let m = &report.meta;
        let versions: Vec<String> = m.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
        let generated = m.generated_at.get(..16).unwrap_or(&m.generated_at).replace('T', " ");
        let notes: String = m.notes.iter().map(|n| format!("｜{n}")).collect();
        format!("评分方案：{}｜数据版本：{}｜生成于 {generated} UTC{notes}", m.scheme_text(), versions.join(","))
    }

    /// The quarters a trend covers: those of the previous and the requested year up to the
    /// requested quarter, without leading quarters that have no figure at all.
    pub(crate) fn quarter_span(&self, rows: &[Row], figure: Figure) -> Vec<(i32, u32)> {
        let last = self.request.quarter.unwrap_or(4);
        let mut span: Vec<(i32, u32)> = (self.request.year - 1..=self.request.year)
            .flat_map(|y| (1..=4).map(move |q| (y, q)))
            .filter(|(y, q)| *y < self.request.year || *q <= last)
            .collect();
        let has_value = |(y, q): (i32, u32)| {
            rows.iter().any(|r| {
                int(r, Figure::Year) == Some(i64::from(y))
                    && int(r, Figure::Quarter) == Some(i64::from(q))
                    && num(r, figure).is_some()
            })
        };
        let keep_from = span.iter().position(|p| has_value(*p) || p.0 == self.request.year).unwrap_or(0);
        span.drain(..keep_from);
        span
    }
}

fn find(reports: &[Report], kind: ReportKind, year: i32) -> Option<&Report> {
    reports.iter().find(|r| r.kind == kind && r.meta.year == year)
}

/// A float figure; null (and non-numbers) as `None`.
pub(crate) fn num(row: &Row, figure: Figure) -> Option<f64> {
    row.get(figure.key()).and_then(Value::as_f64)
}

pub(crate) fn int(row: &Row, figure: Figure) -> Option<i64> {
    row.get(figure.key()).and_then(Value::as_i64)
}

pub(crate) fn text(row: &Row, figure: Figure) -> &str {
    row.get(figure.key()).and_then(Value::as_str).unwrap_or("")
}

/// Whether a row is of `year` and, when given, `quarter`.
pub(crate) fn in_period(row: &Row, year: i32, quarter: Option<u32>) -> bool {
    int(row, Figure::Year) == Some(i64::from(year))
        && quarter.is_none_or(|q| int(row, Figure::Quarter) == Some(i64::from(q)))
}

/// The mean of `figure` weighted by `weight` over rows where both are present and the
/// weight is positive: a mean over rows of means is the mean over the underlying evaluations.
pub(crate) fn weighted_mean<'a>(
    rows: impl IntoIterator<Item = &'a Row>,
    figure: Figure,
    weight: Figure,
) -> Option<f64> {
    let (mut sum, mut total) = (0.0, 0.0);
    for row in rows {
        if let (Some(v), Some(w)) = (num(row, figure), num(row, weight))
            && w > 0.0
        {
            sum += v * w;
            total += w;
        }
    }
    (total > 0.0).then(|| sum / total)
}
