//! Reports and SQL on an Apache Ballista cluster (`--engine ballista://HOST:50050`; cargo
//! feature `ballista`).
//!
//! Ballista sends a query's logical plan to its scheduler, which plans it and sends the
//! stages to the executors: only tables DataFusion can serialise travel (listing tables of
//! Parquet files, views inlined into the plan), not a Delta table provider. So a session
//! on the cluster registers, under each table's name, a view over listing tables of
//! exactly the Parquet files of the Delta snapshot that belong to the caller's counties:
//! the snapshot's add actions filtered on their `county_code` partition value. Never a
//! directory listing (a MERGE leaves the files it replaced there until a vacuum) and never
//! the unscoped table: what leaves this process is already scoped. Delta keeps partition
//! values in its log, not in the files, so each group of files with the same partition
//! values is one listing table whose partition columns are put back as literals of the
//! Delta schema's types; the groups are unioned in the Delta schema's column order. The
//! scope filter (a community's rows) sits on top, as in a local session.
//!
//! The scheduler lists nothing: it asks the object store for each named file's size. It
//! and the executors open `s3://` buckets with [`ClusterObjectStores`], from their own
//! environment (`AWS_*`, `--s3-endpoint`, `--s3-region`), so no credential is shipped in
//! a plan.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{LogicalPlanBuilder, cast};
use datafusion::prelude::{Expr, SessionContext, ident, lit};
use object_store::ObjectStore;
use url::Url;

use crate::engine::Engine;
use crate::errors::{Result, WarehouseError};

/// A session context whose queries run on the Ballista scheduler `engine` names.
pub(crate) async fn remote_context(engine: &Engine, state: SessionState) -> Result<SessionContext> {
    use ballista::prelude::SessionContextExt;
    let url = engine.to_string();
    let ctx = SessionContext::remote_with_state(&url, state)
        .await
        .map_err(|e| WarehouseError::Engine(format!("无法使用 Ballista 调度器 {url}：{e}")))?;
    // Ballista 55's adaptive planner (its default) re-planned the quarterly report's
    // stages without end here (10,000 stages of one job in 15 minutes, never an answer);
    // the static distributed planner runs every report.
    let mut settings = vec![("ballista.planner.adaptive.enabled", "false")];
    // One partition per stage unless DATAFUSION_EXECUTION_TARGET_PARTITIONS says otherwise.
    // With two, the handling-mode report failed on the executors ("All partition by
    // columns should have an ordering") until the scheduler's [`WindowsWithoutConstants`];
    // since then every report kind ran with two on the sample warehouse, but only one
    // partition is tested and measured (docs/scale-out.md).
    if std::env::var_os("DATAFUSION_EXECUTION_TARGET_PARTITIONS").is_none() {
        settings.push(("datafusion.execution.target_partitions", "1"));
    }
    let state = ctx.state_ref();
    let mut state = state.write();
    for (key, value) in settings {
        state
            .config_mut()
            .options_mut()
            .set(key, value)
            .map_err(|e| WarehouseError::Engine(format!("Ballista 设置 {key} 失败：{e}")))?;
    }
    drop(state);
    Ok(ctx)
}

/// The rows of the Delta snapshot `t` (at `table_url`, with the provider schema `schema`)
/// in `county` (`None`: every county), as a view over listing tables of exactly the
/// snapshot's files of that county.
pub(crate) fn scoped_listing(
    ctx: &SessionContext,
    t: &deltalake::DeltaTable,
    table_url: &Url,
    schema: SchemaRef,
    county: Option<&str>,
) -> Result<Arc<dyn TableProvider>> {
    let snapshot = t.snapshot().map_err(|e| WarehouseError::Metadata(format!("{table_url}: {e}")))?;
    // Partition values (sorted by column) → the files that carry them.
    let mut groups: BTreeMap<Vec<(String, Option<String>)>, Vec<ListingTableUrl>> = BTreeMap::new();
    for file in snapshot.log_data().iter() {
        let values: Vec<(String, Option<String>)> = file.partition_values_map().into_iter().collect();
        let in_scope = county
            .is_none_or(|c| values.iter().any(|(name, value)| name == "county_code" && value.as_deref() == Some(c)));
        if !in_scope {
            continue;
        }
        let url = table_url
            .join(&file.path())
            .map_err(|e| WarehouseError::Metadata(format!("{table_url}: 文件路径 {}：{e}", file.path())))?;
        let mut key = values;
        key.sort();
        groups.entry(key).or_default().push(ListingTableUrl::parse(url.as_str())?);
    }
    let state = ctx.state();
    let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
    let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
    let mut union: Option<DataFrame> = None;
    for (values, files) in groups {
        let stored = Schema::new(
            schema
                .fields()
                .iter()
                .filter(|f| !values.iter().any(|(name, _)| name == f.name()))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let config = ListingTableConfig::new_with_multi_paths(files)
            .with_listing_options(options.clone())
            .with_schema(Arc::new(stored));
        let columns: Vec<Expr> = schema
            .fields()
            .iter()
            .map(|f| match values.iter().find(|(name, _)| name == f.name()) {
                Some((_, value)) => {
                    cast(lit(ScalarValue::Utf8(value.clone())), partition_type(f.data_type())).alias(f.name())
                }
                None => ident(f.name()),
            })
            .collect();
        let part = ctx.read_table(Arc::new(ListingTable::try_new(config)?))?.select(columns)?;
        union = Some(match union {
            None => part,
            Some(all) => all.union(part)?,
        });
    }
    let df = match union {
        Some(df) => df,
        None => {
            // No file in scope: no rows, with the table's columns.
            let columns: Vec<Expr> = schema
                .fields()
                .iter()
                .map(|f| cast(lit(ScalarValue::Null), partition_type(f.data_type())).alias(f.name()))
                .collect();
            DataFrame::new(state, LogicalPlanBuilder::empty(false).project(columns)?.build()?)
        }
    };
    Ok(df.into_view())
}

/// The type a partition column takes in a shipped plan: the Delta provider's own type,
/// but a dictionary's values (delta-rs declares its partition strings as dictionaries; the
/// cluster's answers came back as plain strings against a dictionary schema and failed).
/// The values are the same; the reports cast every column to its contract type anyway.
fn partition_type(declared: &DataType) -> DataType {
    match declared {
        DataType::Dictionary(_, values) => values.as_ref().clone(),
        other => other.clone(),
    }
}

/// The object stores of a scheduler or executor process: `s3://` buckets opened on first
/// use from the process's own settings (the `AWS_*` variables, `--s3-endpoint`,
/// `--s3-region`; path-style requests unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`, plain
/// HTTP when the endpoint is `http://`), local files for `file://`.
#[derive(Debug, Default)]
pub struct ClusterObjectStores {
    opened: DefaultObjectStoreRegistry,
}

impl ClusterObjectStores {
    pub fn new() -> ClusterObjectStores {
        ClusterObjectStores::default()
    }
}

impl ObjectStoreRegistry for ClusterObjectStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.opened.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.opened.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.opened.get_store(url) {
            return Ok(store);
        }
        match url.scheme() {
            "s3" | "s3a" => {
                let store = s3_store(url)?;
                self.opened.register_store(url, store.clone());
                Ok(store)
            }
            other => datafusion::common::exec_err!("不支持的存储类型 {other}://（可用：本地文件、s3://）"),
        }
    }
}

fn s3_store(url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
    use object_store::aws::AmazonS3Builder;
    let bucket = url.host_str().filter(|b| !b.is_empty()).ok_or_else(|| {
        datafusion::error::DataFusionError::Configuration(format!("{url} 缺少存储桶名称，例如 s3://bucket/prefix"))
    })?;
    let settings = crate::location::settings();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    let endpoint =
        settings.endpoint.or_else(|| std::env::var("AWS_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT")).ok());
    if let Some(endpoint) = endpoint {
        if endpoint.starts_with("http://") {
            builder = builder.with_allow_http(true);
        }
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(region) = settings.region {
        builder = builder.with_region(region);
    }
    let virtual_hosted = std::env::var("AWS_VIRTUAL_HOSTED_STYLE_REQUEST")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1"));
    builder = builder.with_virtual_hosted_style_request(virtual_hosted);
    Ok(Arc::new(builder.build()?))
}

/// The runtime of a scheduler or executor process: [`ClusterObjectStores`], spill files
/// in `temp_dir` when given.
pub fn cluster_runtime(
    temp_dir: Option<&str>,
) -> datafusion::error::Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>> {
    let mut builder = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_object_store_registry(Arc::new(ClusterObjectStores::new()));
    if let Some(dir) = temp_dir {
        builder = builder.with_temp_file_path(dir);
    }
    builder.build_arc()
}

pub use crate::windows::WindowsWithoutConstants;
