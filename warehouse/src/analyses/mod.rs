//! The analyses of the data contract: the quarterly satisfaction analysis and its
//! breakdowns, the cadre and community assessments, and the county summary.
//!
//! What each column is — key, Chinese header, kind, unit and 口径 — is defined once, in
//! [`figures`] ([`Figure`]); `columns` lists each report's columns by figure. Every figure
//! is computed by DataFusion over a scoped session; the SQL of each report sits next to its
//! doc comment (`quarterly`, `cadres`, `communities`), built from the figures' SQL in
//! `facts`. [`Warehouse::report`] runs one report and returns plain Arrow columns (Utf8,
//! Int64, Float64, Boolean) named by the contract, with the scheme and the table versions
//! it was computed on, so a result can be reproduced later.

mod cadres;
pub(crate) mod cells;
mod columns;
mod communities;
mod facts;
pub mod figures;
mod handling;
pub mod hot_topics;
pub mod labels;
pub mod lists;
mod meetings;
mod monthly;
pub mod overdue;
mod publicity;
mod quarterly;

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use ingest::Scope;
use serde::Serialize;

use crate::errors::{Result, WarehouseError};
use crate::scheme::{CountySchemes, Scheme, SchemeUse};
use crate::{Snapshot, Warehouse};

pub use cadres::cadres;
pub use communities::{communities, counties};
pub use facts::CLOSED;
pub use figures::{ColumnKind, Figure, Grade, Measure, Unit};
pub use handling::units;
pub use labels::QualityFlag;
pub use meetings::{FIXED_DAYS_BEFORE, HalfMonth, meetings};
pub use publicity::{CHANNEL_SHARES, publicity};
pub use quarterly::{Breakdown, breakdown, quarterly};

/// The reports the platform produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// Per community per quarter: every figure, its change, quality flags.
    Quarterly,
    /// Per community × quarter × topic category.
    QuarterlyByCategory,
    /// Per community × quarter × source channel.
    QuarterlyByChannel,
    /// Per cadre per year: score, rank, grade.
    Cadres,
    /// Per community per year: score and ranks.
    Communities,
    /// Per county per year: totals, averages and the summary line.
    Counties,
    /// Per community per quarter: sessions, their days, topics and attendance.
    Meetings,
    /// Per community × quarter × handling mode (自办 / 代办 / 联办).
    Handling,
    /// Per county × quarter × joint unit: topics routed, closed, on time, satisfaction.
    Units,
    /// Per community per quarter: publicity channels and days to publish.
    Publicity,
    /// Per overdue topic or rectification of a year or quarter, as of its last day.
    Overdue,
    /// Per community per month: the 三率 and the monthly ranking within the county.
    Monthly,
    /// Per topic category and recurring title: the rise against the period before.
    HotTopics,
}

impl ReportKind {
    pub const ALL: [ReportKind; 13] = [
        ReportKind::Quarterly,
        ReportKind::QuarterlyByCategory,
        ReportKind::QuarterlyByChannel,
        ReportKind::Cadres,
        ReportKind::Communities,
        ReportKind::Counties,
        ReportKind::Meetings,
        ReportKind::Handling,
        ReportKind::Units,
        ReportKind::Publicity,
        ReportKind::Overdue,
        ReportKind::Monthly,
        ReportKind::HotTopics,
    ];

    /// The English token (CLI argument, API path, JSON).
    pub fn name(self) -> &'static str {
        match self {
            ReportKind::Quarterly => "quarterly",
            ReportKind::QuarterlyByCategory => "quarterly_by_category",
            ReportKind::QuarterlyByChannel => "quarterly_by_channel",
            ReportKind::Cadres => "cadres",
            ReportKind::Communities => "communities",
            ReportKind::Counties => "counties",
            ReportKind::Meetings => "meetings",
            ReportKind::Handling => "handling",
            ReportKind::Units => "units",
            ReportKind::Publicity => "publicity",
            ReportKind::Overdue => "overdue",
            ReportKind::Monthly => "monthly",
            ReportKind::HotTopics => "hot_topics",
        }
    }

    /// The report's title.
    pub fn chinese(self) -> &'static str {
        match self {
            ReportKind::Quarterly => "季度满意度分析",
            ReportKind::QuarterlyByCategory => "季度分析（按议题类别）",
            ReportKind::QuarterlyByChannel => "季度分析（按来源渠道）",
            ReportKind::Cadres => "干部年度考核",
            ReportKind::Communities => "社区年度考核",
            ReportKind::Counties => "县区汇总",
            ReportKind::Meetings => "议事会议分析",
            ReportKind::Handling => "办理方式分析",
            ReportKind::Units => "联办单位分析",
            ReportKind::Publicity => "公示分析",
            ReportKind::Overdue => "逾期清单",
            ReportKind::Monthly => "月度三率排名",
            ReportKind::HotTopics => "热点议题",
        }
    }

    /// Parses the token (`-` or `_`, any case) or the Chinese title.
    pub fn parse(text: &str) -> Option<ReportKind> {
        let t = text.trim().to_ascii_lowercase().replace('-', "_");
        ReportKind::ALL.into_iter().find(|k| k.name() == t || k.chinese() == text.trim())
    }

    /// The report's columns in output order.
    pub fn columns(self) -> &'static [ReportColumn] {
        match self {
            ReportKind::Quarterly => columns::QUARTERLY,
            ReportKind::QuarterlyByCategory => columns::BY_CATEGORY,
            ReportKind::QuarterlyByChannel => columns::BY_CHANNEL,
            ReportKind::Cadres => columns::CADRES,
            ReportKind::Communities => columns::COMMUNITIES,
            ReportKind::Counties => columns::COUNTIES,
            ReportKind::Meetings => columns::MEETINGS,
            ReportKind::Handling => columns::HANDLING,
            ReportKind::Units => columns::UNITS,
            ReportKind::Publicity => columns::PUBLICITY,
            ReportKind::Overdue => columns::OVERDUE,
            ReportKind::Monthly => columns::MONTHLY,
            ReportKind::HotTopics => columns::HOT_TOPICS,
        }
    }

    /// The kinds one may ask for by name, for an error message: "quarterly（季度满意度分析）、
    /// cadres（干部年度考核）、…" (the breakdowns are asked as `quarterly` with a group).
    pub fn choices() -> String {
        let named = ReportKind::ALL
            .iter()
            .filter(|k| !matches!(k, ReportKind::QuarterlyByCategory | ReportKind::QuarterlyByChannel));
        named.map(|k| format!("{}（{}）", k.name(), k.chinese())).collect::<Vec<_>>().join("、")
    }

    /// Whether the report's counts can be read from the quarter cells the ingest keeps
    /// (`cells`): the quarterly analysis, its breakdowns, the handling modes, and the
    /// cadre and community assessments and the county summary (a year's quarters summed).
    pub fn reads_cells(self) -> bool {
        matches!(
            self,
            ReportKind::Quarterly
                | ReportKind::QuarterlyByCategory
                | ReportKind::QuarterlyByChannel
                | ReportKind::Handling
                | ReportKind::Cadres
                | ReportKind::Communities
                | ReportKind::Counties
        )
    }

    /// Whether the report is per quarter (takes a quarter filter).
    pub fn is_quarterly(self) -> bool {
        matches!(
            self,
            ReportKind::Quarterly
                | ReportKind::QuarterlyByCategory
                | ReportKind::QuarterlyByChannel
                | ReportKind::Meetings
                | ReportKind::Handling
                | ReportKind::Units
                | ReportKind::Publicity
                | ReportKind::Overdue
                | ReportKind::HotTopics
        )
    }

    /// Whether the report is per month (its period argument is a month, 1–12).
    pub fn is_monthly(self) -> bool {
        self == ReportKind::Monthly
    }

    /// Ranks and grades compare a community or cadre with its whole county, so these are
    /// computed over the county even when the caller sees one community.
    fn county_wide(self) -> bool {
        matches!(self, ReportKind::Cadres | ReportKind::Communities | ReportKind::Monthly)
    }

    /// Row order: the key columns the report has, in this order.
    fn order(self) -> Vec<Figure> {
        use Figure::{
            CadreId, Category, Channel, CommunityCode, CountyCode, HandlingMode, HotCategory, HotKind, ItemId,
            ItemKind, JointUnit, Month, Quarter, RiseRank, TitleKey, Year,
        };
        let keys = [
            CountyCode,
            CommunityCode,
            CadreId,
            Year,
            Quarter,
            HotKind,
            RiseRank,
            Category,
            Channel,
            HandlingMode,
            JointUnit,
            ItemKind,
            ItemId,
            Month,
            HotCategory,
            TitleKey,
        ];
        keys.into_iter().filter(|k| self.columns().iter().any(|c| c.figure == *k)).collect()
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A column of a report: its figure, and the figure's key, header and kind at hand
/// (made by [`Figure::column`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReportColumn {
    /// The column's name in the batches and the JSON key (the contract's name).
    pub key: &'static str,
    /// The header a clerk reads.
    pub chinese: &'static str,
    pub kind: ColumnKind,
    /// The figure the column shows: its unit and 口径.
    #[serde(skip)]
    pub figure: Figure,
}

/// What a report was computed from, so it can be reproduced.
#[derive(Debug, Clone, Serialize)]
pub struct ReportMeta {
    pub kind: ReportKind,
    pub scheme_name: String,
    pub scheme_hash: String,
    /// The scheme's version in the catalog (`None`: the contract's default or a file).
    pub scheme_version: Option<i64>,
    /// Every scheme the rows were computed with: one, or one per county that has its own
    /// (a platform report computes each county with the scheme in force there).
    pub schemes: Vec<SchemeUse>,
    /// What a reader must be told beside the figures (a frozen year-end result, data of a
    /// past version), in Chinese.
    pub notes: Vec<String>,
    /// Whether this is a county's frozen year-end assessment (set by the server, which
    /// keeps the freezes; the notes say so to people, this says so to code).
    #[serde(skip)]
    pub frozen: bool,
    /// Table name → Delta version read. Pass as `Snapshot::Versions` to recompute.
    pub versions: BTreeMap<&'static str, u64>,
    /// Whether the counts were read from the quarter cells the ingest keeps rather than
    /// counted from the events (the same figures either way; not part of the output).
    #[serde(skip)]
    pub from_cells: bool,
    /// The caller's scope, as shown to people.
    pub scope: String,
    pub year: i32,
    /// The quarter asked for (quarterly reports only).
    pub quarter: Option<u32>,
    /// RFC 3339, UTC.
    pub generated_at: String,
}

impl ReportMeta {
    /// "甲县方案（第2版，1a2b3c4d5e6f）", or each county's when the counties' differ
    /// ("141026：…；其他县区：…").
    pub fn scheme_text(&self) -> String {
        match self.schemes.as_slice() {
            [] => format!("{}（{}）", self.scheme_name, self.scheme_hash.get(..12).unwrap_or(&self.scheme_hash)),
            [one] => one.text(),
            many => many
                .iter()
                .map(|s| format!("{}：{}", s.county_code.as_deref().unwrap_or("其他县区"), s.text()))
                .collect::<Vec<_>>()
                .join("；"),
        }
    }

    /// The versions as a snapshot that reads the same data again.
    pub fn snapshot(&self) -> Snapshot {
        let versions =
            self.versions.iter().filter_map(|(name, v)| ingest::Table::parse(name).map(|t| (t, *v))).collect();
        Snapshot::Versions(versions)
    }
}

/// A computed report: columns and rows (one batch, typed per [`ColumnKind::data_type`]).
#[derive(Debug, Clone)]
pub struct Report {
    pub kind: ReportKind,
    pub columns: Vec<ReportColumn>,
    pub batches: Vec<RecordBatch>,
    pub meta: ReportMeta,
}

impl Report {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }

    /// Whether `other` holds the same rows with the same values, however either's rows
    /// are split into batches (the metadata, versions included, is not compared).
    pub fn same_rows(&self, other: &Report) -> bool {
        let joined = |r: &Report| {
            let schema = r.batches.first()?.schema();
            datafusion::arrow::compute::concat_batches(&schema, &r.batches).ok()
        };
        self.num_rows() == other.num_rows() && joined(self) == joined(other)
    }
}

impl Warehouse {
    /// Computes one report for `year` (and `quarter`, for the quarterly reports and the
    /// overdue list; for the monthly report the month, 1–12) over the caller's `scope`, at
    /// `snapshot`, with `scheme`.
    ///
    /// Cadre and community assessments are computed over the scope's whole county (ranks,
    /// the 优秀 quota and county averages compare with every community of the county) and
    /// then cut down to the caller's rows, so a community sees the same ranks as its county.
    pub async fn report(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
        scheme: &Scheme,
        snapshot: &Snapshot,
    ) -> Result<Report> {
        check_request(kind, quarter, scheme)?;
        let quarter = quarter.filter(|_| kind.is_quarterly() || kind.is_monthly());
        let session_scope = if kind.county_wide() { county_of(scope)? } else { scope.clone() };
        let started = std::time::Instant::now();
        let session = if kind.reads_cells() {
            self.session_with_cells(&session_scope, snapshot).await?
        } else {
            self.session(&session_scope, snapshot).await?
        };
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, cells = session.cells, "report session opened");
        let df = match kind {
            ReportKind::Quarterly => quarterly(&session, year, quarter, scheme).await?,
            ReportKind::QuarterlyByCategory => breakdown(&session, Breakdown::Category, year, quarter, scheme).await?,
            ReportKind::QuarterlyByChannel => breakdown(&session, Breakdown::Channel, year, quarter, scheme).await?,
            ReportKind::Cadres => cadres(&session, year, scheme).await?,
            ReportKind::Communities => communities(&session, year, scheme).await?,
            ReportKind::Counties => counties(&session, year, scheme).await?,
            ReportKind::Meetings => meetings(&session, year, quarter, scheme).await?,
            ReportKind::Handling => breakdown(&session, Breakdown::HandlingMode, year, quarter, scheme).await?,
            ReportKind::Units => units(&session, year, quarter, scheme).await?,
            ReportKind::Publicity => publicity(&session, year, quarter, scheme).await?,
            ReportKind::Monthly => monthly::monthly(&session, year, quarter, scheme).await?,
            ReportKind::HotTopics => hot_topics::hot_topics(&session, year, quarter).await?,
            ReportKind::Overdue => {
                let (start, as_of) = overdue::as_of(year, quarter, overdue::today_in_china())
                    .ok_or_else(|| invalid(format!("年度 {year} 无效")))?;
                overdue::overdue(&session, start, as_of).await?
            }
        };
        // The rows to keep, picked from the collected rows rather than by a filter atop
        // the plan (see `finish`): the asked quarter (the quarterly analysis also computes
        // the one before, for the changes) and, for a county-wide assessment asked by a
        // community, that community.
        let mut keep = Vec::new();
        if kind == ReportKind::Quarterly {
            keep.push((Figure::Year, Keep::Number(i64::from(year))));
            if let Some(q) = quarter {
                keep.push((Figure::Quarter, Keep::Number(i64::from(q))));
            }
        }
        if let Scope::Community(code) = scope
            && session_scope != *scope
        {
            keep.push((Figure::CommunityCode, Keep::Text(code.clone())));
        }
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "report planned (logical)");
        let batches = finish(df, kind, &keep).await?;
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "report computed");
        let meta = ReportMeta {
            kind,
            scheme_name: scheme.name.clone(),
            scheme_hash: scheme.hash(),
            scheme_version: None,
            schemes: vec![SchemeUse {
                county_code: None,
                name: scheme.name.clone(),
                version: None,
                hash: scheme.hash(),
            }],
            notes: Vec::new(),
            frozen: false,
            versions: session.versions.clone(),
            from_cells: session.cells,
            scope: scope.to_string(),
            year,
            quarter,
            generated_at: chrono::Utc::now().to_rfc3339(),
        };
        Ok(Report { kind, columns: kind.columns().to_vec(), batches, meta })
    }
}

impl Warehouse {
    /// [`Warehouse::report`] with each county's own scheme: a county's or community's
    /// report with its county's; a platform report with `schemes.fallback`, then each
    /// county that has a different scheme computed again with its own, on the same table
    /// versions, its rows replacing the fallback's (grades, quotas and ranks are per county,
    /// so the counties' rows do not depend on each other). `meta.schemes` names every
    /// scheme a row was computed with.
    pub async fn report_for_counties(
        &self,
        kind: ReportKind,
        scope: &Scope,
        year: i32,
        quarter: Option<u32>,
        schemes: &CountySchemes,
        snapshot: &Snapshot,
    ) -> Result<Report> {
        if let Some(county) = scope.county_code() {
            let own = schemes.of(county);
            let mut report = self.report(kind, scope, year, quarter, &own.scheme, snapshot).await?;
            report.meta.scheme_version = own.version;
            report.meta.schemes = vec![own.used_for(Some(county))];
            return Ok(report);
        }
        let fallback = &schemes.fallback;
        let mut report = self.report(kind, scope, year, quarter, &fallback.scheme, snapshot).await?;
        report.meta.scheme_version = fallback.version;
        report.meta.schemes = vec![fallback.used_for(None)];
        let pinned = report.meta.snapshot();
        for (county, own) in &schemes.counties {
            if own.scheme == fallback.scheme {
                continue;
            }
            let county_scope = Scope::County(county.clone());
            let part = self.report(kind, &county_scope, year, quarter, &own.scheme, &pinned).await?;
            if part.num_rows() == 0 {
                continue;
            }
            report.batches = replace_county(&report, county, &part)?;
            report.meta.schemes.push(own.used_for(Some(county)));
        }
        Ok(report)
    }
}

/// `report`'s rows with those of `county` replaced by `part`'s, in the report's order.
fn replace_county(report: &Report, county: &str, part: &Report) -> Result<Vec<RecordBatch>> {
    use datafusion::arrow::array::{Scalar, StringArray};
    use datafusion::arrow::compute::kernels::cmp::neq;
    let Some(first) = report.batches.first() else { return Ok(part.batches.clone()) };
    let schema = first.schema();
    let all = concat_batches(&schema, &report.batches)?;
    let counties = all.column_by_name(Figure::CountyCode.key()).ok_or_else(|| {
        datafusion::error::DataFusionError::Internal(format!("report {} has no county column", report.kind))
    })?;
    let others = neq(counties, &Scalar::new(StringArray::from(vec![county])))?;
    let kept = datafusion::arrow::compute::filter_record_batch(&all, &others)?;
    let mut parts = vec![kept];
    parts.extend(part.batches.iter().cloned());
    let joined = concat_batches(&schema, &parts)?;
    Ok(vec![sort_rows(joined, report.kind)?])
}

/// A bad quarter (month) or an unusable scheme (one built in code, not read from a file).
fn check_request(kind: ReportKind, quarter: Option<u32>, scheme: &Scheme) -> Result<()> {
    if kind.is_monthly() {
        if let Some(m) = quarter.filter(|m| !(1..=12).contains(m)) {
            return Err(invalid(format!("月份应为 1–12，收到 {m}")));
        }
    } else if let Some(q) = quarter.filter(|q| !(1..=4).contains(q)) {
        return Err(invalid(format!("季度应为 1–4，收到 {q}")));
    }
    let problems = scheme.problems();
    if !problems.is_empty() {
        return Err(invalid(format!("评分方案“{}”无效：{}", scheme.name, problems.join("；"))));
    }
    Ok(())
}

fn invalid(message: String) -> WarehouseError {
    WarehouseError::InvalidRequest(message)
}

/// The scope a county-wide assessment is computed over: a community's county.
fn county_of(scope: &Scope) -> Result<Scope> {
    match scope {
        Scope::Community(code) => scope
            .county_code()
            .map(|county| Scope::County(county.to_string()))
            .ok_or_else(|| invalid(format!("社区代码“{code}”无效"))),
        other => Ok(other.clone()),
    }
}

/// Collects the report, then casts its columns to their declared types (Utf8View →
/// Utf8, UInt64 ranks → Int64, …), puts them in the declared order and sorts the rows by
/// the report's keys, in one batch. The casts, the `keep` filter and the sort run on the
/// collected rows (at most a row per cadre, or per community and quarter) in Arrow rather
/// than in the plan: a report's plan is deep, and each extra wide node atop it cost more
/// in DataFusion's planning than the work itself.
async fn finish(df: DataFrame, kind: ReportKind, keep: &[(Figure, Keep)]) -> Result<Vec<RecordBatch>> {
    let task = std::sync::Arc::new(df.task_ctx());
    let started = std::time::Instant::now();
    let plan = df.create_physical_plan().await?;
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "report physical plan");
    let schema = plan.schema();
    let rows = concat_batches(&schema, &datafusion::physical_plan::collect(plan.clone(), task).await?)?;
    tracing::trace!(
        plan = %datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true),
        "report plan with metrics"
    );
    let columns = kind.columns();
    let fields: Vec<_> =
        columns.iter().map(|c| datafusion::arrow::datatypes::Field::new(c.key, c.kind.data_type(), true)).collect();
    let arrays = columns
        .iter()
        .map(|c| {
            let computed = |key: &str| {
                rows.column_by_name(key).ok_or_else(|| {
                    datafusion::error::DataFusionError::Internal(format!("report {kind} computed no column {key}"))
                })
            };
            // A label column the SQL leaves out is derived from its token column.
            let column = match (rows.column_by_name(c.key), c.figure.label_of()) {
                (None, Some(tokens)) => labelled(tokens, computed(tokens.key())?)?,
                _ => computed(c.key)?.clone(),
            };
            Ok(datafusion::arrow::compute::cast(&column, &c.kind.data_type())?)
        })
        .collect::<Result<Vec<_>>>()?;
    let batch = RecordBatch::try_new(std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields)), arrays)?;
    let batch = keep_rows(batch, keep)?;
    Ok(vec![sort_rows(batch, kind)?])
}

/// The rows sorted by the report's keys.
fn sort_rows(batch: RecordBatch, kind: ReportKind) -> Result<RecordBatch> {
    use datafusion::arrow::compute::{SortColumn, SortOptions, lexsort_to_indices, take_record_batch};
    let keys: Vec<SortColumn> = kind
        .order()
        .into_iter()
        .filter_map(|k| batch.column_by_name(k.key()))
        .map(|values| SortColumn {
            values: values.clone(),
            options: Some(SortOptions { descending: false, nulls_first: false }),
        })
        .collect();
    if keys.is_empty() || batch.num_rows() < 2 {
        return Ok(batch);
    }
    let order = lexsort_to_indices(&keys, None)?;
    Ok(take_record_batch(&batch, &order)?)
}

/// The labels of a token column (see [`labels::label`]); null where the token is null.
fn labelled(tokens: Figure, column: &datafusion::arrow::array::ArrayRef) -> Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::{Array, AsArray, StringArray};
    let text = datafusion::arrow::compute::cast(column, &datafusion::arrow::datatypes::DataType::Utf8)?;
    let text = text.as_string::<i32>();
    let labels: StringArray =
        (0..text.len()).map(|i| text.is_valid(i).then(|| labels::label(tokens, text.value(i))).flatten()).collect();
    Ok(std::sync::Arc::new(labels))
}

/// A value a report's rows are kept by.
#[derive(Debug, Clone)]
enum Keep {
    Number(i64),
    Text(String),
}

/// The rows of `batch` whose columns equal the given values (all of them).
fn keep_rows(batch: RecordBatch, keep: &[(Figure, Keep)]) -> Result<RecordBatch> {
    use datafusion::arrow::array::{BooleanArray, Int64Array, Scalar, StringArray};
    use datafusion::arrow::compute::kernels::{boolean::and, cmp::eq};
    let mut mask: Option<BooleanArray> = None;
    for (figure, value) in keep {
        // A missing column must not keep every row (a community would see its county's).
        let column = batch.column_by_name(figure.key()).ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!("report rows kept by {figure}, which it lacks"))
        })?;
        let equal = match value {
            Keep::Number(n) => eq(column, &Scalar::new(Int64Array::from(vec![*n])))?,
            Keep::Text(t) => eq(column, &Scalar::new(StringArray::from(vec![t.as_str()])))?,
        };
        mask = Some(match mask {
            Some(m) => and(&m, &equal)?,
            None => equal,
        });
    }
    match mask {
        Some(m) => Ok(datafusion::arrow::compute::filter_record_batch(&batch, &m)?),
        None => Ok(batch),
    }
}

/// Runs SQL in a session and returns the DataFrame (for the report functions).
async fn sql(ctx: &SessionContext, text: &str) -> Result<DataFrame> {
    tracing::debug!(sql = text, "report query");
    Ok(ctx.sql(text).await?)
}
