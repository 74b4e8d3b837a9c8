//! DataFusion sessions over the warehouse, scoped to a tenant and pinned to table versions.
//!
//! Tenancy is structure, not a WHERE clause a query could forget: each session's catalog
//! holds, under each table's name, a view that filters the Delta table to the scope. The
//! unfiltered provider sits inside the view's plan and is registered under no name, so no
//! SQL text can reach another tenant's rows. Every session is built afresh (cheap) over
//! one shared `RuntimeEnv`, so the memory limit is global.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext, col, lit};
use ingest::{Scope, Table};

use crate::errors::{Result, WarehouseError};
use crate::{Warehouse, tables};

/// Which versions of the tables a session reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Snapshot {
    /// The latest version of every table.
    #[default]
    Latest,
    /// Given versions (tables not named: latest).
    Versions(BTreeMap<Table, u64>),
    /// Every table as it was at this instant (Delta time travel by timestamp).
    AsOf(DateTime<Utc>),
}

/// Why `as_of_version` / `as_of` (the CLI's `--as-of-version` / `--as-of`, the API's and
/// the pages' query parameters) cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AsOfError {
    #[error("as_of_version（--as-of-version）的格式应为 3 或 topics=3,evaluations=5，收到“{0}”")]
    Format(String),
    #[error(
        "as_of_version（--as-of-version）中的表“{0}”不存在；可用 communities、cadres、sessions、topics、evaluations、rectifications"
    )]
    UnknownTable(String),
    #[error("as_of_version（--as-of-version）中的版本“{0}”不是整数")]
    Version(String),
    #[error("as_of（--as-of）日期“{0}”无效，例如 2026-01-31")]
    Date(String),
    #[error("as_of_version 和 as_of 只能给一个")]
    Both,
}

impl Snapshot {
    /// The snapshot `as_of_version` (`3`: every table at 3; `topics=3,evaluations=5`) or
    /// `as_of` (a date: every table as at its end, 23:59:59 UTC) names; latest when
    /// neither is given. One parser for the CLI, the API and the pages.
    pub fn parse(as_of_version: Option<&str>, as_of: Option<&str>) -> std::result::Result<Snapshot, AsOfError> {
        let as_of_version = as_of_version.map(str::trim).filter(|s| !s.is_empty());
        let as_of = as_of.map(str::trim).filter(|s| !s.is_empty());
        match (as_of_version, as_of) {
            (Some(_), Some(_)) => Err(AsOfError::Both),
            (Some(spec), None) => Snapshot::parse_versions(spec),
            (None, Some(date)) => {
                let day = ingest::values::parse_date(date).ok_or_else(|| AsOfError::Date(date.to_string()))?;
                let end = day.and_hms_opt(23, 59, 59).ok_or_else(|| AsOfError::Date(date.to_string()))?.and_utc();
                Ok(Snapshot::AsOf(end))
            }
            (None, None) => Ok(Snapshot::Latest),
        }
    }

    fn parse_versions(spec: &str) -> std::result::Result<Snapshot, AsOfError> {
        if spec.chars().count() > 500 {
            return Err(AsOfError::Format(spec.chars().take(40).collect::<String>() + "…"));
        }
        if let Ok(v) = spec.parse::<u64>() {
            return Ok(Snapshot::Versions(Table::ALL.iter().map(|t| (*t, v)).collect()));
        }
        let mut versions = BTreeMap::new();
        for part in spec.split(',') {
            let (name, v) = part.split_once('=').ok_or_else(|| AsOfError::Format(spec.to_string()))?;
            let table = Table::parse(name.trim()).ok_or_else(|| AsOfError::UnknownTable(name.trim().to_string()))?;
            let v: u64 = v.trim().parse().map_err(|_| AsOfError::Version(v.trim().to_string()))?;
            versions.insert(table, v);
        }
        Ok(Snapshot::Versions(versions))
    }

    /// How a page or sheet says what it shows: "按指定数据版本 议题=3,… 计算" or "截至 2026-01-31 的数据";
    /// `None` for the latest data.
    pub fn describe(&self) -> Option<String> {
        match self {
            Snapshot::Latest => None,
            Snapshot::Versions(v) => {
                let parts: Vec<String> = v.iter().map(|(t, n)| format!("{}={n}", t.chinese())).collect();
                Some(format!("按指定数据版本 {} 计算", parts.join(",")))
            }
            Snapshot::AsOf(at) => Some(format!("按截至 {} 的数据计算", at.format("%Y-%m-%d"))),
        }
    }
}

/// A scoped session and the version of each table it reads.
pub struct ScopedSession {
    pub ctx: SessionContext,
    pub scope: Scope,
    /// Table name → Delta version read (absent: the table has no data yet).
    pub versions: BTreeMap<&'static str, u64>,
    /// The years in scope (contract fine print 10: every year from the first to the last
    /// found in the dated tables), when the Delta log tells them: each file holds one
    /// county's rows of one year, so over a platform or county scope the files' partition
    /// values give them without reading a row. `None` in a community scope (a county's
    /// file may hold a year this community has no rows in): the reports then ask the rows.
    pub years: Option<Vec<i32>>,
    /// Whether the session holds the quarter cells (`quarter_cells`, scoped like the
    /// tables) built from exactly the versions it reads, so the quarterly reports may read
    /// them instead of counting the events (see `aggregates`).
    pub cells: bool,
}

impl std::fmt::Debug for ScopedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedSession")
            .field("scope", &self.scope)
            .field("versions", &self.versions)
            .field("cells", &self.cells)
            .finish()
    }
}

/// The runtime shared by all sessions of a process.
pub(crate) fn runtime(memory_limit: Option<usize>) -> Result<Arc<RuntimeEnv>> {
    let mut builder = RuntimeEnvBuilder::new();
    if let Some(bytes) = memory_limit {
        builder = builder.with_memory_limit(bytes, 1.0);
    }
    Ok(builder.build_arc()?)
}

impl Warehouse {
    /// A session whose tables hold only the scope's rows, at the snapshot's versions.
    pub async fn session(&self, scope: &Scope, snapshot: &Snapshot) -> Result<ScopedSession> {
        // DATAFUSION_* environment variables tune a deployment (DataFusion's names).
        let mut config = SessionConfig::from_env()?;
        if unset("DATAFUSION_EXECUTION_PARQUET_ENABLE_PAGE_INDEX") {
            // Each Delta file is one county-year: a few thousand rows in one row group.
            // Reading its page index costs a read and a decode per file and prunes
            // nothing; off, the 20,000-community reports used about 10% less CPU.
            config.options_mut().execution.parquet.enable_page_index = false;
        }
        if unset("DATAFUSION_EXECUTION_PARQUET_PRUNING") {
            // The same for row-group statistics: a file is one row group (a county-year of
            // a ledger table, a county's cells of one kind), chosen already from the Delta
            // log's partition values. Pruning builds a predicate per file it opens (~6% of
            // the CPU of a platform report, perf) and kept nothing out; off, the platform's
            // reports used 10–20% less CPU in the server.
            config.options_mut().execution.parquet.pruning = false;
        }
        if unset("DATAFUSION_EXECUTION_PARQUET_BLOOM_FILTER_ON_READ") {
            // No table is written with Bloom filters.
            config.options_mut().execution.parquet.bloom_filter_on_read = false;
        }
        let mut config = config.with_information_schema(false);
        // One county's rows are a few thousand per table: planning costs more than running.
        if !matches!(scope, Scope::Platform) {
            if unset("DATAFUSION_EXECUTION_TARGET_PARTITIONS") {
                // A plan split for every core cost more to plan (repartitions, merges)
                // than it saved in running.
                config = config.with_target_partitions(1);
            }
            if unset("DATAFUSION_OPTIMIZER_MAX_PASSES") {
                // A second and third pass of the logical optimiser over a report's deep
                // plan changed nothing that mattered (the same files read and rows given;
                // a residual filter or a join side differs) and cost 7–9 ms of ~80.
                config.options_mut().optimizer.max_passes = 1;
            }
        }
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .with_optimizer_rules(optimizer_rules())
            .with_physical_optimizer_rules(crate::windows::local_rules())
            .build();
        let ctx = self.context(state).await?;
        // Reading a Delta log (listing it, parsing the commits and file statistics) is most
        // of a one-county report's time: read the six at once, on the runtime's threads.
        let tasks: Vec<_> = Table::ALL
            .into_iter()
            .map(|table| {
                let (warehouse, snapshot, scope) = (self.clone(), snapshot.clone(), scope.clone());
                tokio::spawn(async move {
                    let t = warehouse.open_at(table, &snapshot).await?;
                    let provider = match t.version() {
                        Some(_) => Some(tables::provider(&t, table).await?),
                        None => None,
                    };
                    let years = partition_years(&t, table, &scope)?;
                    Ok::<_, WarehouseError>((table, t, provider, years))
                })
            })
            .collect();
        let mut versions = BTreeMap::new();
        let mut years = YearSpan::default();
        for task in tasks {
            let (table, t, provider, table_years) =
                task.await.map_err(|e| WarehouseError::Metadata(format!("opening the tables: {e}")))??;
            years.add(table_years);
            let (Some(version), Some(provider)) = (t.version(), provider) else {
                return Err(WarehouseError::NotInitialised(self.location.to_string()));
            };
            versions.insert(table.name(), version);
            let url = self.location.table_url(table)?;
            let base = self.shipped(&ctx, &t, &url, provider, table.partition_columns(), scope)?;
            let view = ctx.read_table(base)?.filter(scope_filter(scope))?.into_view();
            ctx.register_table(table.name(), view)?;
        }
        Ok(ScopedSession { ctx, scope: scope.clone(), versions, years: years.years(), cells: false })
    }

    /// A context over `state` on the warehouse's engine: this process, or a Ballista
    /// scheduler.
    async fn context(&self, state: datafusion::execution::SessionState) -> Result<SessionContext> {
        match &self.engine {
            crate::Engine::Local => Ok(SessionContext::new_with_state(state)),
            #[cfg(feature = "ballista")]
            engine @ crate::Engine::Ballista { .. } => crate::cluster::remote_context(engine, state).await,
            #[cfg(not(feature = "ballista"))]
            engine @ crate::Engine::Ballista { .. } => {
                Err(WarehouseError::Engine(format!("这个 yishi 编译时没有包含 Ballista 分布式计算，不能使用 {engine}")))
            }
        }
    }

    /// The table a session's scoped view reads, for the Delta snapshot `t` at `url` with
    /// its `provider`, partitioned by `partition_columns`: in this process the snapshot's
    /// files read directly (see `snapshot_files.rs`; the provider itself when they cannot
    /// be); on a cluster, listing tables of exactly the snapshot's files of the scope's
    /// counties (see `cluster.rs`), so that nothing unscoped is shipped.
    pub(crate) fn shipped(
        &self,
        ctx: &SessionContext,
        t: &deltalake::DeltaTable,
        url: &url::Url,
        provider: Arc<dyn datafusion::catalog::TableProvider>,
        partition_columns: &[&str],
        scope: &Scope,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        if self.engine.is_local() {
            return match self.snapshot_files(t, url, &provider, partition_columns)? {
                Some(files) => {
                    // In the Delta provider's column order, so that `SELECT *` is unchanged.
                    let columns: Vec<datafusion::prelude::Expr> =
                        provider.schema().fields().iter().map(|f| datafusion::prelude::ident(f.name())).collect();
                    Ok(ctx.read_table(files)?.select(columns)?.into_view())
                }
                None => Ok(provider),
            };
        }
        #[cfg(feature = "ballista")]
        let shipped = {
            let county = match scope {
                Scope::Platform => None,
                Scope::County(c) => Some(c.as_str()),
                Scope::Community(c) => Some(c.get(..6).unwrap_or(c.as_str())),
            };
            crate::cluster::scoped_listing(ctx, t, url, provider.schema(), county)
        };
        #[cfg(not(feature = "ballista"))]
        let shipped = {
            let _ = (ctx, t, url, scope);
            Err(WarehouseError::Engine(format!(
                "这个 yishi 编译时没有包含 Ballista 分布式计算，不能使用 {}",
                self.engine
            )))
        };
        shipped
    }

    /// The files of the snapshot `t` (at `url`) as a table, made once per version.
    fn snapshot_files(
        &self,
        t: &deltalake::DeltaTable,
        url: &url::Url,
        provider: &Arc<dyn datafusion::catalog::TableProvider>,
        partition_columns: &[&str],
    ) -> Result<Option<Arc<crate::snapshot_files::SnapshotFiles>>> {
        let Some(version) = t.version() else { return Ok(None) };
        if let Some(files) = self.opened.files(url.as_str(), version) {
            return Ok(Some(files));
        }
        let files =
            crate::snapshot_files::SnapshotFiles::try_new(t, &provider.schema(), partition_columns)?.map(Arc::new);
        if let Some(files) = &files {
            self.opened.keep_files(url.as_str(), version, files);
        }
        Ok(files)
    }

    async fn open_at(&self, table: Table, snapshot: &Snapshot) -> Result<deltalake::DeltaTable> {
        match snapshot {
            Snapshot::Latest => tables::open(&self.location, table).await,
            Snapshot::Versions(map) => match map.get(&table) {
                Some(v) => {
                    if let Some(t) = self.opened.table(table, *v) {
                        return Ok(t);
                    }
                    let t = tables::open_version(&self.location, table, *v).await?;
                    self.opened.keep_table(table, &t);
                    Ok(t)
                }
                None => tables::open(&self.location, table).await,
            },
            Snapshot::AsOf(at) => {
                let mut t = tables::open(&self.location, table).await?;
                t.load_with_datetime(*at).await.map_err(WarehouseError::delta(table))?;
                Ok(t)
            }
        }
    }
}

/// Whether the deployment left a `DATAFUSION_*` setting to the session's own choice.
fn unset(variable: &str) -> bool {
    std::env::var_os(variable).is_none()
}

/// DataFusion's logical optimiser rules but common subexpression elimination: it stacks
/// a projection per shared expression, and on the reports' deep plans those cost more to
/// plan (each is rebuilt at every physical optimisation step) than the shared work saves.
/// Without it a one-county quarterly report planned ~4 ms faster of ~85; the all-county
/// reports ran as fast.
fn optimizer_rules() -> Vec<Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>> {
    datafusion::optimizer::Optimizer::new()
        .rules
        .into_iter()
        .filter(|r| r.name() != "common_sub_expression_eliminate")
        .collect()
}

/// What the Delta log tells of a table's years in a scope.
enum TableYears {
    /// The table has no year partition (communities, cadres).
    Undated,
    /// The first and last year of the table's non-empty files in scope (`None`: no rows).
    Known(Option<(i32, i32)>),
    /// A community scope: the files are per county, so only the rows can tell.
    Unknown,
}

/// The years of `table`'s files in `scope`, from their `year` partition values.
fn partition_years(t: &deltalake::DeltaTable, table: Table, scope: &Scope) -> Result<TableYears> {
    if !table.partition_columns().contains(&"year") || t.version().is_none() {
        return Ok(TableYears::Undated);
    }
    let county = match scope {
        Scope::Platform => None,
        Scope::County(c) => Some(c.as_str()),
        Scope::Community(_) => return Ok(TableYears::Unknown),
    };
    let state = t.snapshot().map_err(WarehouseError::delta(table))?;
    let mut span: Option<(i32, i32)> = None;
    for file in state.log_data().iter() {
        if file.num_records() == Some(0) {
            continue;
        }
        let values = file.partition_values_map();
        let in_scope = county.is_none_or(|c| values.get("county_code").and_then(|v| v.as_deref()) == Some(c));
        if !in_scope {
            continue;
        }
        let Some(year) = values.get("year").and_then(|v| v.as_deref()).and_then(|v| v.parse::<i32>().ok()) else {
            // A file without a readable year: let the rows decide.
            return Ok(TableYears::Unknown);
        };
        span = Some(widen(span, (year, year)));
    }
    Ok(TableYears::Known(span))
}

/// `span` widened to take in `years` (first, last).
fn widen(span: Option<(i32, i32)>, (first, last): (i32, i32)) -> (i32, i32) {
    span.map_or((first, last), |(a, b)| (a.min(first), b.max(last)))
}

/// The years in scope over the dated tables, folded table by table.
#[derive(Default)]
struct YearSpan {
    span: Option<(i32, i32)>,
    unknown: bool,
}

impl YearSpan {
    fn add(&mut self, years: TableYears) {
        match years {
            TableYears::Undated | TableYears::Known(None) => {}
            TableYears::Known(Some(years)) => self.span = Some(widen(self.span, years)),
            TableYears::Unknown => self.unknown = true,
        }
    }

    fn years(&self) -> Option<Vec<i32>> {
        match (self.unknown, self.span) {
            (true, _) => None,
            (false, None) => Some(Vec::new()),
            (false, Some((a, b))) => Some((a..=b).collect()),
        }
    }
}

/// The rows of `table` a scope may see. The county filter comes first so that a
/// community's queries prune to its county's partition.
pub(crate) fn scope_filter(scope: &Scope) -> datafusion::prelude::Expr {
    match scope {
        Scope::Platform => lit(true),
        Scope::County(c) => col("county_code").eq(lit(c.as_str())),
        Scope::Community(c) => col("county_code").eq(lit(&c[..6])).and(col("community_code").eq(lit(c.as_str()))),
    }
}
