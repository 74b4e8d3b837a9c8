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

/// A scoped session and the version of each table it reads.
pub struct ScopedSession {
    pub ctx: SessionContext,
    pub scope: Scope,
    /// Table name → Delta version read (absent: the table has no data yet).
    pub versions: BTreeMap<&'static str, u64>,
}

impl std::fmt::Debug for ScopedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedSession").field("scope", &self.scope).field("versions", &self.versions).finish()
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
        if std::env::var_os("DATAFUSION_EXECUTION_PARQUET_ENABLE_PAGE_INDEX").is_none() {
            // Each Delta file is one county-year: a few thousand rows in one row group.
            // Reading its page index costs a read and a decode per file and prunes
            // nothing; off, the 20,000-community reports used about 10% less CPU.
            config.options_mut().execution.parquet.enable_page_index = false;
        }
        let config = config
            .with_information_schema(false)
            .with_target_partitions(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(self.runtime.clone())
            .with_default_features()
            .build();
        let ctx = SessionContext::new_with_state(state);
        // Reading a Delta log (listing it, parsing the commits and file statistics) is most
        // of a one-county report's time: read the six at once, on the runtime's threads.
        let tasks: Vec<_> = Table::ALL
            .into_iter()
            .map(|table| {
                let (warehouse, snapshot) = (self.clone(), snapshot.clone());
                tokio::spawn(async move {
                    let t = warehouse.open_at(table, &snapshot).await?;
                    let provider = match t.version() {
                        Some(_) => Some(tables::provider(&t, table).await?),
                        None => None,
                    };
                    Ok::<_, WarehouseError>((table, t.version(), provider))
                })
            })
            .collect();
        let mut versions = BTreeMap::new();
        for task in tasks {
            let (table, version, provider) =
                task.await.map_err(|e| WarehouseError::Metadata(format!("opening the tables: {e}")))??;
            let (Some(version), Some(provider)) = (version, provider) else {
                return Err(WarehouseError::NotInitialised(self.location.to_string()));
            };
            versions.insert(table.name(), version);
            let view = ctx.read_table(provider)?.filter(scope_filter(scope))?.into_view();
            ctx.register_table(table.name(), view)?;
        }
        Ok(ScopedSession { ctx, scope: scope.clone(), versions })
    }

    async fn open_at(&self, table: Table, snapshot: &Snapshot) -> Result<deltalake::DeltaTable> {
        match snapshot {
            Snapshot::Latest => tables::open(&self.location, table).await,
            Snapshot::Versions(map) => match map.get(&table) {
                Some(v) => tables::open_version(&self.location, table, *v).await,
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

/// The rows of `table` a scope may see. The county filter comes first so that a
/// community's queries prune to its county's partition.
fn scope_filter(scope: &Scope) -> datafusion::prelude::Expr {
    match scope {
        Scope::Platform => lit(true),
        Scope::County(c) => col("county_code").eq(lit(c.as_str())),
        Scope::Community(c) => col("county_code").eq(lit(&c[..6])).and(col("community_code").eq(lit(c.as_str()))),
    }
}
