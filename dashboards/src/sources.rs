//! Where the charts and the pack get their reports: straight from the warehouse with
//! the schemes given ([`WarehouseReports`]: `--scheme FILE`, no catalog, the tests), or,
//! in the `api` crate, as the server computes them (each county's scheme in force, a
//! frozen year's assessment as it was frozen, the report cache). One trait, so that
//! `yishi chart`, `yishi export pack` and the pages show the same figures for the same
//! county and year.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use ingest::Scope;
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::{CountySchemes, Scheme};
use warehouse::{Snapshot, Warehouse};

use crate::charts::{ChartData, ChartError, ChartName, ChartRequest, reports_needed};

/// A supplier of reports and of the scheme each was computed with.
pub trait ReportSource: Sync {
    /// The report of `kind` over `scope` for `year` (quarterly kinds: of `quarter`, or
    /// every quarter of the year when `None`).
    fn report(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
    ) -> impl Future<Output = Result<Report, ChartError>> + Send;

    /// The scheme `report` (of `scope`) was computed with: the charts draw its cut-offs.
    fn scheme_of(&self, scope: &Scope, report: &Report) -> impl Future<Output = Result<Scheme, ChartError>> + Send;
}

/// Reports computed by the warehouse with `schemes`. Every report after the first is read
/// at the table versions the first one read, so charts and workbook agree even while an
/// upload lands.
pub struct WarehouseReports<'a> {
    wh: &'a Warehouse,
    schemes: &'a CountySchemes,
    snapshot: Mutex<Snapshot>,
}

impl std::fmt::Debug for WarehouseReports<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarehouseReports").field("snapshot", &self.snapshot).finish_non_exhaustive()
    }
}

impl<'a> WarehouseReports<'a> {
    pub fn new(wh: &'a Warehouse, schemes: &'a CountySchemes, snapshot: &Snapshot) -> Self {
        WarehouseReports { wh, schemes, snapshot: Mutex::new(snapshot.clone()) }
    }

    fn pinned(&self) -> Snapshot {
        self.snapshot.lock().map(|s| s.clone()).unwrap_or(Snapshot::Latest)
    }
}

impl ReportSource for WarehouseReports<'_> {
    async fn report(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
    ) -> Result<Report, ChartError> {
        let snapshot = self.pinned();
        let report = self.wh.report_for_counties(kind, scope, year, quarter, self.schemes, &snapshot).await?;
        if snapshot == Snapshot::Latest
            && let Ok(mut pinned) = self.snapshot.lock()
        {
            *pinned = report.meta.snapshot();
        }
        Ok(report)
    }

    async fn scheme_of(&self, scope: &Scope, _report: &Report) -> Result<Scheme, ChartError> {
        let own = scope.county_code().map_or(&self.schemes.fallback, |c| self.schemes.of(c));
        Ok(own.scheme.clone())
    }
}

/// Reports fetched once each, for several charts and a workbook.
pub(crate) struct Fetched<'s, S: ReportSource> {
    source: &'s S,
    reports: HashMap<(ReportKind, String, i32, Option<u32>), Report>,
}

impl<'s, S: ReportSource> Fetched<'s, S> {
    pub(crate) fn new(source: &'s S) -> Self {
        Fetched { source, reports: HashMap::new() }
    }

    pub(crate) fn source(&self) -> &'s S {
        self.source
    }

    /// Every report fetched so far.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Report> + Clone {
        self.reports.values()
    }

    /// The report, from the source the first time it is asked for.
    pub(crate) async fn get(
        &mut self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
    ) -> Result<Report, ChartError> {
        let key = (kind, format!("{scope:?}"), year, quarter);
        if let Some(report) = self.reports.get(&key) {
            return Ok(report.clone());
        }
        let report = self.source.report(kind, scope, year, quarter).await?;
        self.reports.insert(key, report.clone());
        Ok(report)
    }

    /// The data of one chart: its reports over `scope` and, for a community, its county's
    /// for the averages and cut-offs; the scheme they were computed with.
    pub(crate) async fn chart_data(
        &mut self,
        chart: ChartName,
        scope: &Scope,
        request: ChartRequest,
    ) -> Result<ChartData, ChartError> {
        if let Some(q) = request.quarter.filter(|q| !(1..=4).contains(q)) {
            return Err(ChartError::InvalidQuarter(q));
        }
        let county = scope.county_code().and_then(|c| Scope::county(c).ok());
        let (mut own, mut county_wide) = (Vec::new(), Vec::new());
        for need in reports_needed(chart, &request, scope) {
            let target = match (&county, need.county_wide) {
                (Some(c), true) => c,
                _ => scope,
            };
            let report = self.get(need.kind, target, need.year, None).await?;
            if need.county_wide { county_wide.push(report) } else { own.push(report) }
        }
        let of_year = |r: &&Report| r.meta.year == request.year;
        let scheme = match own.iter().find(of_year).or(county_wide.iter().find(of_year)) {
            Some(report) => self.source.scheme_of(scope, report).await?,
            None => Scheme::default(),
        };
        ChartData::new(request, scope.clone(), scheme, own)?.with_county_reference(county_wide)
    }
}

/// The data of one chart from `source` (what `yishi chart` draws).
pub async fn chart_data(
    source: &impl ReportSource,
    chart: ChartName,
    scope: &Scope,
    request: ChartRequest,
) -> Result<ChartData, ChartError> {
    Fetched::new(source).chart_data(chart, scope, request).await
}
