//! The ledger warehouse: one Delta table (ZSTD Parquet) per contract table under a root
//! URL, upserts by key in atomic commits that carry their batch record, and DataFusion
//! over the tables.
//!
//! `warehouse` owns DataFusion and re-exports it (and so arrow): the rest of the
//! workspace uses these re-exports, so there is one arrow in the build.

mod aggregates;
pub mod analyses;
mod appends;
pub mod batches;
mod bounds;
#[cfg(feature = "ballista")]
pub mod cluster;
mod coverage;
mod engine;
mod errors;
mod history;
mod ingesting;
mod location;
mod meta;
mod opened;
mod preview;
pub mod scheme;
mod secret;
mod session;
mod snapshot_files;
mod sql;
mod tables;
mod versions;
mod windows;

pub use datafusion;
pub use datafusion::arrow;

pub use batches::BatchRecord;
pub use bounds::{MAX_GROWN_BYTES, MAX_GROWN_VALUE_BYTES, MAX_SERIES_ROWS, SqlLimits, Truncation};
pub use coverage::Coverage;
pub use engine::{DEFAULT_SCHEDULER_PORT, ENGINE_ENV, Engine, configure_engine};
pub use errors::{Result, WarehouseError};
pub use history::{MAX_HISTORY_VERSIONS, StatusStep, TopicHistory};
pub use ingesting::{IngestOptions, IngestOutcome, IngestReport};
pub use location::{Location, ObjectStoreSettings, configure_object_store};
pub use preview::{FieldChange, LISTED_CHANGES, Preview, RowChange};
pub use secret::SECRET_ENV;
pub use session::{AsOfError, ScopedSession, Snapshot};
pub use sql::{QueryResult, check_read_only};

use datafusion::prelude::SessionContext;
use ingest::{Scope, Table};

/// A warehouse root with its installation secret.
#[derive(Debug, Clone)]
pub struct Warehouse {
    location: Location,
    /// `_yishi/`: the secret and the refused batches.
    meta: meta::Meta,
    secret: Vec<u8>,
    /// Shared by every session of the process, so the memory limit is global.
    runtime: std::sync::Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    /// One writer at a time per table in this process (the server's parallel uploads):
    /// two batches validated against the same version would otherwise race to commit.
    writers: std::sync::Arc<[tokio::sync::Mutex<()>; Table::ALL.len()]>,
    /// Whether the ingest keeps the aggregates and the reports read them (`aggregates`);
    /// off with `YISHI_AGGREGATES=off`, e.g. to time or check the events' path.
    aggregates: bool,
    /// One update of the aggregates at a time in this process.
    cells_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Snapshots read at exact versions, for the next report at them (`opened`).
    opened: std::sync::Arc<opened::Opened>,
    /// Where the reports and SQL queries run (local DataFusion or a Ballista cluster).
    engine: Engine,
    /// Topics and evaluations per part of a build of the cells (`aggregates::parts`).
    cell_part_rows: usize,
}

/// Topics and evaluations a build of the cells takes at once: the 2,000-community bench
/// ledger (4.7M) in one part, as before; the 20,000-community one in ten.
pub const CELL_PART_ROWS: usize = 5_000_000;

/// Set to `off` (or `0`, `false`), the ingest keeps no aggregates and the reports count
/// the events.
pub const AGGREGATES_ENV: &str = "YISHI_AGGREGATES";

/// Default memory limit of queries: sorts and joins spill or fail with a clear error
/// beyond it instead of taking the machine down.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// Row count and version of one table, for `yishi tables`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableInfo {
    pub table: &'static str,
    pub chinese: &'static str,
    pub version: Option<u64>,
    pub rows: u64,
    pub files: usize,
}

impl Warehouse {
    /// Creates the six tables and the installation secret where missing; safe to run
    /// again on an existing warehouse.
    pub async fn init(root: &str) -> Result<Warehouse> {
        let location = Location::parse(root)?;
        secret::create(&meta::Meta::of(&location)?).await?;
        for table in Table::ALL {
            tables::create(&location, table).await?;
        }
        let wh = Warehouse::open(root).await?;
        // Run again on an existing warehouse, init is also the repair of the aggregates.
        if wh.aggregates
            && let Err(e) = wh.repair_aggregates().await
        {
            tracing::warn!(error = %e, "aggregates not rebuilt: reports count the events");
        }
        Ok(wh)
    }

    /// Opens an initialised warehouse.
    pub async fn open(root: &str) -> Result<Warehouse> {
        let location = Location::parse(root)?;
        let meta = meta::Meta::of(&location)?;
        let secret = secret::load(&meta, &location.to_string()).await?;
        let runtime = session::runtime(Some(DEFAULT_MEMORY_LIMIT))?;
        let writers = std::sync::Arc::new(std::array::from_fn(|_| tokio::sync::Mutex::new(())));
        let aggregates = !std::env::var(AGGREGATES_ENV)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "0" | "false"));
        let cells_writer = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        let opened = std::sync::Arc::default();
        Ok(Warehouse {
            location,
            meta,
            secret,
            runtime,
            writers,
            aggregates,
            cells_writer,
            opened,
            engine: engine::configured(),
            cell_part_rows: CELL_PART_ROWS,
        })
    }

    /// Builds the cells in parts of at most `rows` topics and evaluations (whole
    /// counties; [`CELL_PART_ROWS`] by default).
    pub fn with_cell_part_rows(mut self, rows: usize) -> Warehouse {
        self.cell_part_rows = rows;
        self
    }

    /// Keeps and reads the aggregates (`true`, the default) or not: reports then count
    /// the events and ingests leave the aggregates as they are (behind the tables).
    pub fn with_aggregates(mut self, on: bool) -> Warehouse {
        self.aggregates = on;
        self
    }

    /// Runs the reports and SQL queries on `engine` (the ingest and its aggregates stay in
    /// this process).
    pub fn with_engine(mut self, engine: Engine) -> Warehouse {
        self.engine = engine;
        self
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sets the memory limit of queries (`None`: unbounded).
    pub fn with_memory_limit(mut self, bytes: Option<usize>) -> Result<Warehouse> {
        self.runtime = session::runtime(bytes)?;
        Ok(self)
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Whether each table's log can be read, and its version: what a health check shows,
    /// so that one damaged table is named instead of every query failing unexplained.
    pub async fn health(&self) -> Vec<(Table, std::result::Result<Option<u64>, String>)> {
        let mut out = Vec::new();
        for table in Table::ALL {
            let state =
                tables::open(&self.location, table).await.map(|t| tables::version(&t)).map_err(|e| e.to_string());
            out.push((table, state));
        }
        out
    }

    /// Versions and row counts of every table.
    pub async fn tables(&self) -> Result<Vec<TableInfo>> {
        let mut out = Vec::new();
        for table in Table::ALL {
            let t = tables::open(&self.location, table).await?;
            let version = tables::version(&t);
            let (rows, files) = match version {
                None => (0, 0),
                Some(_) => {
                    let files = t.snapshot().map(|s| s.log_data().num_files()).unwrap_or(0);
                    (self.count_rows(&t, table).await?, files)
                }
            };
            out.push(TableInfo { table: table.name(), chinese: table.chinese(), version, rows, files });
        }
        Ok(out)
    }

    async fn count_rows(&self, t: &deltalake::DeltaTable, table: Table) -> Result<u64> {
        let ctx = SessionContext::new();
        ctx.register_table(table.name(), tables::provider(t, table).await?)?;
        let batches = ctx.sql(&format!("SELECT count(*) AS n FROM {}", table.name())).await?.collect().await?;
        use datafusion::arrow::array::AsArray;
        use datafusion::arrow::datatypes::Int64Type;
        let n = batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| b.column(0).as_primitive::<Int64Type>().value(0))
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every batch, committed or refused, oldest first.
    pub async fn batches(&self) -> Result<Vec<BatchRecord>> {
        let mut all = Vec::new();
        for table in Table::ALL {
            let t = tables::open(&self.location, table).await?;
            if t.version().is_some() {
                all.extend(tables::batch_history(&t, table).await?);
            }
        }
        all.extend(batches::read_refused(&self.meta).await?);
        all.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        Ok(all)
    }

    /// Waits for this process's turn to write `table`.
    pub(crate) async fn writer(&self, table: Table) -> tokio::sync::MutexGuard<'_, ()> {
        let index = Table::ALL.iter().position(|t| *t == table).unwrap_or(0);
        self.writers[index].lock().await
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The scope filter as SQL, for internal queries over one table.
    pub(crate) fn scope_predicate(scope: &Scope) -> String {
        match scope {
            Scope::Platform => "TRUE".to_string(),
            Scope::County(c) => format!("county_code = '{c}'"),
            Scope::Community(c) => format!("community_code = '{c}'"),
        }
    }
}

/// Casts string views (what DataFusion reads from Parquet) to plain Utf8, so writers and
/// callers downstream see one string type.
pub fn plain_strings(
    batch: &datafusion::arrow::record_batch::RecordBatch,
) -> Result<datafusion::arrow::record_batch::RecordBatch> {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| f.data_type() == &DataType::Utf8View) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if field.data_type() == &DataType::Utf8View {
            columns.push(datafusion::arrow::compute::cast(column, &DataType::Utf8)?);
            fields.push(Field::new(field.name(), DataType::Utf8, field.is_nullable()));
        } else {
            columns.push(column.clone());
            fields.push(field.as_ref().clone());
        }
    }
    Ok(datafusion::arrow::record_batch::RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)?)
}
