//! Aggregates the ingest keeps up to date, and when a report may read them.
//!
//! The quarter cells ([`cells`]) live as a Delta table under `_agg/quarter_cells/` of the
//! warehouse, partitioned by `county_code` and `dim` (see [`PARTITIONS`]). Each of its commits records, in the commit's
//! metadata, the versions of the ledger tables it was computed from; the invariant is that
//! a version of the cells holds exactly what [`cells::build`] computes from those versions.
//!
//! - After a batch commits to one of [`SOURCES`], the ingest rebuilds the cells of the
//!   batch's counties (a batch changes no other county's rows, and every fact of a
//!   community is in its county) — when the cells recorded the versions just before the
//!   batch. Otherwise (a kill between the batch's commit and the cells', a table's first
//!   rows, another process's batch) it rebuilds every county.
//! - Nothing is built while a source table has no rows (a first load, table by table).
//! - A report reads the cells only when a version of them recorded exactly the versions
//!   its session reads (the latest, or an older one for `--as-of-version`); otherwise it
//!   counts the events, which stay the reference. A kill between the two commits thus
//!   costs speed, never a wrong figure.
//! - Updating the cells never fails an ingest: its batch is committed already. A failure
//!   is logged and the reports count the events until a later ingest or `yishi init`
//!   rebuilds the cells.
//!
//! Within a process one writer updates the cells at a time. Two processes ingesting at
//! once can commit cells in the other order than their batches; the cells then record
//! versions the tables have left, and the reports count the events until the next rebuild.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext, col, lit};
use deltalake::DeltaTable;
use deltalake::kernel::CommitInfo;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;
use ingest::{Scope, Table};

use crate::analyses::cells::{self, CELLS};
use crate::errors::{Result, WarehouseError};
use crate::location::Location;
use crate::session::scope_filter;
use crate::{ScopedSession, Snapshot, Warehouse, tables};

/// The ledger tables the quarter cells are computed from (the reference tables are
/// joined at report time, as on the events' path).
pub(crate) const SOURCES: [Table; 4] = [Table::Sessions, Table::Topics, Table::Evaluations, Table::Rectifications];

/// The commit metadata key under which the cells record their source versions.
const VERSIONS_KEY: &str = "yishi_sources";

/// The cells' partitions: a county's cells are rewritten together, and a report reads
/// one `dim` (the quarterly analysis `all`, a breakdown its group, the cadre assessment
/// `cadre_id`). With the `dim` as a partition the Delta log alone says which files a
/// report reads; in one file per county the platform's quarterly analysis decoded all
/// 640,000 cell rows of the 2,000-community bench to keep the 4,000 it wanted (~200 ms
/// of its ~300).
const PARTITIONS: [&str; 2] = ["county_code", "dim"];

/// How many of the cells' latest commits a report searches for its versions (time travel
/// to a version further back counts the events).
const HISTORY_SEARCHED: usize = 100;

/// Source table name → Delta version, and [`FORMAT_KEY`] → [`cells::FORMAT`].
pub(crate) type Versions = BTreeMap<String, u64>;

/// The entry of [`Versions`] that records what the cells hold: cells of another format
/// (an older yishi's, without the cadre rows) match no report's versions, and the next
/// ingest or `yishi init` rebuilds them all.
const FORMAT_KEY: &str = "cells_format";

/// `versions` of the source tables as the cells record them (with the format).
fn recorded(versions: impl Iterator<Item = (String, u64)>) -> Versions {
    versions.chain(std::iter::once((FORMAT_KEY.to_string(), cells::FORMAT))).collect()
}

/// What updating the cells did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refreshed {
    /// The cells already recorded the latest versions.
    Current,
    /// The batch's counties were rebuilt.
    Counties(usize),
    /// Every county was rebuilt.
    All,
    /// Not built: a ledger table has no rows yet.
    Waiting,
}

impl Warehouse {
    /// Brings the quarter cells up to date after a batch of `table` committed `version`,
    /// holding rows of `counties` (`None`: not known, rebuild all). Never fails: see the
    /// module's doc.
    pub(crate) async fn refresh_cells(&self, table: Table, version: u64, counties: Option<BTreeSet<String>>) {
        if !self.aggregates || !SOURCES.contains(&table) {
            return;
        }
        let started = std::time::Instant::now();
        let ms = || started.elapsed().as_millis() as u64;
        match self.update_cells(Some((table, version, counties))).await {
            Ok(done) => tracing::info!(table = table.name(), ?done, ms = ms(), "quarter cells updated"),
            Err(e) => tracing::warn!(
                table = table.name(),
                error = %e,
                "quarter cells not updated: reports count the events until a later ingest or `yishi init` rebuilds them"
            ),
        }
    }

    /// Rebuilds the quarter cells of every county unless they already record the tables'
    /// latest versions (the repair after a kill; `yishi init` runs it). Whether it rebuilt.
    pub async fn repair_aggregates(&self) -> Result<bool> {
        Ok(matches!(self.update_cells(None).await?, Refreshed::Counties(_) | Refreshed::All))
    }

    /// Rebuilds the cells of `batch`'s counties when the cells recorded the versions just
    /// before it, else every county's; nothing when they record the latest versions.
    async fn update_cells(&self, batch: Option<(Table, u64, Option<BTreeSet<String>>)>) -> Result<Refreshed> {
        let _turn = self.cells_writer.lock().await;
        let sources = open_sources(&self.location).await?;
        // A first load brings the tables one by one, each batch with every county: cells
        // built after each would be rebuilt whole by the next (three wasted builds, ~5 s of
        // the 2,000-community load). Until every table has rows the reports count the
        // events, which are few or none of them anyway.
        if let Some((empty, _)) =
            sources.iter().find(|(_, t)| t.snapshot().is_ok_and(|s| s.log_data().num_files() == 0))
        {
            tracing::debug!(table = empty.name(), "quarter cells wait for rows in every ledger table");
            return Ok(Refreshed::Waiting);
        }
        let current = recorded(sources.iter().map(|(t, d)| (t.name().to_string(), d.version().unwrap_or(0))));
        let existing = open_cells(&self.location).await?;
        let recorded = match &existing {
            Some(t) => latest_recorded(t).await?,
            None => None,
        };
        if recorded.as_ref() == Some(&current) {
            return Ok(Refreshed::Current);
        }
        let counties = batch.and_then(|(table, version, counties)| {
            let follows = recorded.as_ref().is_some_and(|r| follows(r, &current, table, version));
            counties.filter(|_| follows)
        });
        let parts = parts(&sources, counties.as_ref(), self.cell_part_rows);
        if parts.len() <= 1 {
            let session = self.build_session(&sources, counties.as_ref()).await?;
            let batches = cells::build(&session).await?;
            write(&self.location, existing, batches, counties.as_ref(), Some(&current)).await?;
        } else {
            self.build_in_parts(&sources, existing, &parts, counties.is_none(), &current).await?;
        }
        Ok(counties.map_or(Refreshed::All, |c| Refreshed::Counties(c.len())))
    }

    /// Builds and writes the cells of `parts` (groups of counties) one after another, a
    /// commit each: the first replaces every county's cells when `whole`, and only the
    /// last records the versions `current`, so a report between them (or after a kill)
    /// finds no cells of its versions and counts the events.
    async fn build_in_parts(
        &self,
        sources: &[(Table, DeltaTable)],
        mut existing: Option<DeltaTable>,
        parts: &[BTreeSet<String>],
        whole: bool,
        current: &Versions,
    ) -> Result<()> {
        for (i, part) in parts.iter().enumerate() {
            let started = std::time::Instant::now();
            let session = self.build_session(sources, Some(part)).await?;
            let batches = cells::build(&session).await?;
            let replaced = if whole && i == 0 { None } else { Some(part) };
            let last = i + 1 == parts.len();
            write(&self.location, existing.take(), batches, replaced, last.then_some(current)).await?;
            tracing::info!(
                part = i + 1,
                of = parts.len(),
                counties = part.len(),
                ms = started.elapsed().as_millis() as u64,
                "quarter cells built in parts"
            );
            if !last {
                existing = open_cells(&self.location).await?;
            }
        }
        Ok(())
    }

    /// A session over the sources as opened (the versions the cells will record), limited
    /// to `counties` when given.
    async fn build_session(
        &self,
        sources: &[(Table, DeltaTable)],
        counties: Option<&BTreeSet<String>>,
    ) -> Result<ScopedSession> {
        let mut config = SessionConfig::new();
        // One county-year per file: the page index prunes nothing (as in report sessions).
        config.options_mut().execution.parquet.enable_page_index = false;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .build();
        let ctx = SessionContext::new_with_state(state);
        let mut versions = BTreeMap::new();
        for (table, t) in sources {
            let mut df = ctx.read_table(tables::provider(t, *table).await?)?;
            if let Some(counties) = counties {
                df =
                    df.filter(col("county_code").in_list(counties.iter().map(|c| lit(c.as_str())).collect(), false))?;
            }
            ctx.register_table(table.name(), df.into_view())?;
            versions.insert(table.name(), t.version().unwrap_or(0));
        }
        Ok(ScopedSession { ctx, scope: Scope::Platform, versions, years: None, cells: false })
    }

    /// A session as [`Warehouse::session`] makes, holding the quarter cells too when a
    /// version of them was built from the versions it reads (`session.cells`).
    pub async fn session_with_cells(&self, scope: &Scope, snapshot: &Snapshot) -> Result<ScopedSession> {
        let mut session = self.session(scope, snapshot).await?;
        self.attach_cells(&mut session).await;
        Ok(session)
    }

    /// Registers the quarter cells in `session`, scoped like its ledger tables, when a
    /// version of them recorded exactly the versions the session reads, and sets
    /// `session.cells`. A problem reading them leaves the session on the events (logged):
    /// the cells only ever make a report faster.
    pub(crate) async fn attach_cells(&self, session: &mut ScopedSession) {
        if !self.aggregates {
            return;
        }
        let wanted =
            recorded(SOURCES.iter().filter_map(|t| session.versions.get(t.name()).map(|v| (t.name().to_string(), *v))));
        match self.cells_of(&wanted).await {
            Ok(Some(t)) => match self.register_cells(session, &t).await {
                Ok(()) => {
                    session.cells = true;
                    tracing::debug!(version = t.version(), "report reads the quarter cells");
                }
                Err(e) => tracing::warn!(error = %e, "quarter cells unreadable: the report counts the events"),
            },
            Ok(None) => tracing::debug!(?wanted, "no quarter cells of these versions: the report counts the events"),
            Err(e) => tracing::warn!(error = %e, "quarter cells unreadable: the report counts the events"),
        }
    }
}

impl Warehouse {
    /// The cells built from exactly `wanted`: read before by this process, or searched.
    async fn cells_of(&self, wanted: &Versions) -> Result<Option<DeltaTable>> {
        if let Some(t) = self.opened.cells(wanted) {
            return Ok(Some(t));
        }
        let found = matching_cells(&self.location, wanted).await?;
        if let Some(t) = &found {
            self.opened.keep_cells(wanted, t);
        }
        Ok(found)
    }
}

/// Whether cells that `recorded` these versions, with a batch of `table` committed as
/// `version` since, can be brought to `current` by rebuilding the batch's counties: the
/// batch is the only commit between them.
fn follows(recorded: &Versions, current: &Versions, table: Table, version: u64) -> bool {
    current.iter().all(|(name, now)| {
        let before = recorded.get(name);
        if name == table.name() {
            *now == version && before == version.checked_sub(1).as_ref()
        } else {
            before == Some(now)
        }
    })
}

/// The source tables at their latest versions.
async fn open_sources(location: &Location) -> Result<Vec<(Table, DeltaTable)>> {
    let mut sources = Vec::new();
    for table in SOURCES {
        let t = tables::open(location, table).await?;
        if t.version().is_none() {
            return Err(WarehouseError::NotInitialised(location.to_string()));
        }
        sources.push((table, t));
    }
    Ok(sources)
}

/// The cells' Delta table at its latest version; `None` before the first build.
async fn open_cells(location: &Location) -> Result<Option<DeltaTable>> {
    if location.local_dir().is_some_and(|dir| !dir.join(cells_path()).exists()) {
        return Ok(None);
    }
    let url = location.aggregate_url(&cells_path())?;
    let t = DeltaTable::try_from_url_with_storage_options(url, location.storage_options())
        .await
        .map_err(WarehouseError::aggregate(CELLS))?;
    Ok(t.version().is_some().then_some(t))
}

/// Where the cells live under the warehouse root.
fn cells_path() -> String {
    format!("_agg/{CELLS}")
}

/// The source versions a commit recorded.
fn recorded_in(info: &CommitInfo) -> Option<Versions> {
    info.info.get(VERSIONS_KEY).and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The source versions the latest commit of the cells recorded.
async fn latest_recorded(t: &DeltaTable) -> Result<Option<Versions>> {
    let infos: Vec<CommitInfo> = t.history(Some(1)).try_collect().await.map_err(WarehouseError::aggregate(CELLS))?;
    Ok(infos.first().and_then(recorded_in))
}

/// The cells at the version that recorded exactly `wanted`, searched from the latest back.
async fn matching_cells(location: &Location, wanted: &Versions) -> Result<Option<DeltaTable>> {
    let Some(mut t) = open_cells(location).await? else { return Ok(None) };
    if latest_recorded(&t).await?.as_ref() == Some(wanted) {
        return Ok(Some(t));
    }
    let latest = t.version().unwrap_or(0);
    let infos: Vec<CommitInfo> =
        t.history(Some(HISTORY_SEARCHED)).try_collect().await.map_err(WarehouseError::aggregate(CELLS))?;
    // History runs newest first, one commit per version.
    let Some(back) = infos.iter().position(|info| recorded_in(info).as_ref() == Some(wanted)) else {
        return Ok(None);
    };
    let version = latest.saturating_sub(back as u64);
    t.load_version(version).await.map_err(WarehouseError::aggregate(CELLS))?;
    Ok(Some(t))
}

impl Warehouse {
    /// Registers the cells `t` under [`CELLS`] in `session` as a view holding only the
    /// session's scope, as the session does for the ledger tables: the unfiltered
    /// provider has no name.
    async fn register_cells(&self, session: &ScopedSession, t: &DeltaTable) -> Result<()> {
        let provider = t.table_provider().await?;
        let url = self.location.aggregate_url(&cells_path())?;
        let base = self.shipped(&session.ctx, t, &url, provider, &PARTITIONS, &session.scope)?;
        let view = session.ctx.read_table(base)?.filter(scope_filter(&session.scope))?.into_view();
        session.ctx.register_table(CELLS, view)?;
        Ok(())
    }
}

/// The counties whose cells are rebuilt (`counties`, or every county in the sources) in
/// groups of whole counties, in code order, each holding at most `rows` topics and
/// evaluations (a county larger than that alone): a build's joins hold a group's facts
/// in memory, and the 20,000-community ledger's in one build (47M rows) outgrew the
/// 2 GiB query memory. A county's weight is the row counts the Delta log keeps per file.
fn parts(sources: &[(Table, DeltaTable)], counties: Option<&BTreeSet<String>>, rows: usize) -> Vec<BTreeSet<String>> {
    let mut weights: BTreeMap<String, usize> = BTreeMap::new();
    for (table, t) in sources {
        let Ok(snapshot) = t.snapshot() else { continue };
        for file in snapshot.log_data().iter() {
            let Some(Some(county)) = file.partition_values_map().remove("county_code") else { continue };
            if counties.is_some_and(|c| !c.contains(&county)) {
                continue;
            }
            let weight = weights.entry(county).or_default();
            if matches!(table, Table::Topics | Table::Evaluations) {
                *weight += file.num_records().unwrap_or(0);
            }
        }
    }
    let mut parts: Vec<(usize, BTreeSet<String>)> = Vec::new();
    for (county, weight) in weights {
        match parts.last_mut() {
            Some((sum, part)) if *sum + weight <= rows => {
                *sum += weight;
                part.insert(county);
            }
            _ => parts.push((weight, BTreeSet::from([county]))),
        }
    }
    parts.into_iter().map(|(_, part)| part).collect()
}

/// Writes `batches` as the cells of `counties` (replacing theirs) or of every county, in
/// one commit recording `versions` (none: a part of a build, which no report reads).
async fn write(
    location: &Location,
    existing: Option<DeltaTable>,
    batches: Vec<datafusion::arrow::array::RecordBatch>,
    counties: Option<&BTreeSet<String>>,
    versions: Option<&Versions>,
) -> Result<()> {
    let t = match existing {
        Some(t) => t,
        None => {
            if let Some(dir) = location.local_dir() {
                let dir = dir.join(cells_path());
                std::fs::create_dir_all(&dir).map_err(WarehouseError::io(dir.display()))?;
            }
            let url = location.aggregate_url(&cells_path())?;
            DeltaTable::try_from_url_with_storage_options(url, location.storage_options())
                .await
                .map_err(WarehouseError::aggregate(CELLS))?
        }
    };
    // A write needs a batch to take the schema from, even when no county has a fact.
    let batches = if batches.is_empty() {
        vec![datafusion::arrow::array::RecordBatch::new_empty(cells::schema())]
    } else {
        batches
    };
    let commit = match versions {
        Some(versions) => {
            let recorded = serde_json::to_value(versions).map_err(|e| WarehouseError::Metadata(e.to_string()))?;
            CommitProperties::default().with_metadata([(VERSIONS_KEY.to_string(), recorded)])
        }
        None => CommitProperties::default(),
    };
    let mut write = t
        .write(batches)
        .with_save_mode(SaveMode::Overwrite)
        .with_partition_columns(PARTITIONS)
        .with_commit_properties(commit);
    match counties {
        Some(counties) => {
            let list = counties.iter().map(|c| lit(c.as_str())).collect();
            write = write.with_replace_where(col("county_code").in_list(list, false));
        }
        // A full rebuild may follow cells of an older format, partitioned otherwise
        // (format 2: by county only); only a whole overwrite may change that.
        None => write = write.with_schema_mode(SchemaMode::Overwrite),
    }
    write.await.map_err(WarehouseError::aggregate(CELLS))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(s: u64, t: u64, e: u64, r: u64) -> Versions {
        [("sessions", s), ("topics", t), ("evaluations", e), ("rectifications", r)]
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect()
    }

    #[test]
    fn a_batch_follows_only_the_versions_just_before_it() {
        let before = versions(1, 2, 3, 4);
        assert!(follows(&before, &versions(1, 2, 4, 4), Table::Evaluations, 4));
        // A batch missed in between (a kill before the cells' commit): rebuild all.
        assert!(!follows(&before, &versions(1, 2, 5, 4), Table::Evaluations, 5));
        // Another table moved too (another writer).
        assert!(!follows(&before, &versions(1, 3, 4, 4), Table::Evaluations, 4));
        // The committed version is not the table's latest.
        assert!(!follows(&before, &versions(1, 2, 5, 4), Table::Evaluations, 4));
    }
}
