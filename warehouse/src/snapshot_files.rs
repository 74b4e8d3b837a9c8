//! A Delta snapshot's rows read straight from its Parquet files, chosen by the partition
//! values in its log.
//!
//! delta-rs's table provider replays the snapshot's log at every scan and parses each
//! file's statistics JSON to skip data. In the server that was the largest single cost of
//! a one-county report (perf, 2,000 communities: ~15% of the CPU, ~10 ms of ~70, in
//! `ScanLogReplayProcessor::transform_and_data_skip`), and it skipped nothing a partition
//! value had not skipped already: every table is partitioned by county (and year or
//! report dimension), and a file is one such partition. So a session on the local engine
//! reads each snapshot through [`SnapshotFiles`] instead: the snapshot's file list, taken
//! from the log delta-rs has already read, is filtered on the partition columns only, and
//! DataFusion's own Parquet scan reads what is left, as a listing table would (footers
//! cached by the runtime, the session's Parquet options).
//!
//! It reads a table only when it can read it exactly: a file with a deletion vector
//! (yishi writes none) makes [`SnapshotFiles::try_new`] decline, and delta-rs's provider
//! reads that snapshot.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{DFSchema, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::listing::helpers::expr_applicable_for_cols;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use deltalake::DeltaTable;
use object_store::{ObjectMeta, ObjectStore};

use crate::errors::{Result, WarehouseError};

/// The files of one Delta snapshot, with their partition values, as a table.
#[derive(Debug)]
pub(crate) struct SnapshotFiles {
    /// The stored columns (as the Delta provider declares them), then the partition
    /// columns: what the scan gives.
    schema: SchemaRef,
    /// The stored columns alone: what a file holds.
    stored: SchemaRef,
    /// The partition columns, in `schema`'s order after the stored ones.
    partition_fields: Vec<FieldRef>,
    /// A row per file: its partition values, typed (what partition filters run on).
    partitions: RecordBatch,
    files: Vec<PartitionedFile>,
    store_url: ObjectStoreUrl,
    store: Arc<dyn ObjectStore>,
}

impl SnapshotFiles {
    /// The files of `t`'s snapshot, whose Delta provider declares `declared` and which
    /// is partitioned by `partition_columns`; `None` when a file needs delta-rs to be
    /// read (a deletion vector).
    pub(crate) fn try_new(t: &DeltaTable, declared: &Schema, partition_columns: &[&str]) -> Result<Option<Self>> {
        let snapshot = t.snapshot().map_err(|e| WarehouseError::Metadata(format!("{}: {e}", t.table_url())))?;
        let is_partition = |name: &str| partition_columns.contains(&name);
        let stored = Arc::new(Schema::new(
            declared.fields().iter().filter(|f| !is_partition(f.name())).cloned().collect::<Vec<_>>(),
        ));
        let partition_fields: Vec<FieldRef> = declared
            .fields()
            .iter()
            .filter(|f| is_partition(f.name()))
            .map(|f| Arc::new(Field::new(f.name(), plain(f.data_type()), true)))
            .collect();
        let mut files = Vec::new();
        let mut values: Vec<Vec<ScalarValue>> = vec![Vec::new(); partition_fields.len()];
        for file in snapshot.log_data().iter() {
            if file.deletion_vector_descriptor().is_some() {
                return Ok(None);
            }
            let map = file.partition_values_map();
            let mut row = Vec::with_capacity(partition_fields.len());
            for field in &partition_fields {
                let text = ScalarValue::Utf8(map.get(field.name()).cloned().flatten());
                let value = text.cast_to(field.data_type()).map_err(|e| {
                    WarehouseError::Metadata(format!(
                        "{}：文件 {} 的分区值 {}：{e}",
                        t.table_url(),
                        file.path(),
                        field.name()
                    ))
                })?;
                row.push(value);
            }
            for (column, value) in values.iter_mut().zip(&row) {
                column.push(value.clone());
            }
            let meta = ObjectMeta {
                location: file.object_store_path(),
                last_modified: file.modification_datetime().map_err(|e| WarehouseError::Metadata(e.to_string()))?,
                size: u64::try_from(file.size()).unwrap_or(0),
                e_tag: None,
                version: None,
            };
            let mut partitioned = PartitionedFile::new_from_meta(meta).with_partition_values(row);
            // What delta-rs's provider tells the planner of a file (its join order
            // follows): the rows from the log's statistics and the file's size.
            let mut stats = Statistics::new_unknown(&stored);
            stats.num_rows = file.num_records().map_or(Precision::Absent, Precision::Exact);
            stats.total_byte_size = Precision::Exact(usize::try_from(file.size()).unwrap_or(usize::MAX));
            partitioned = partitioned.with_statistics(Arc::new(stats));
            files.push(partitioned);
        }
        let partition_schema = Arc::new(Schema::new(partition_fields.clone()));
        let columns = values
            .into_iter()
            .zip(&partition_fields)
            .map(|(column, field)| {
                if column.is_empty() {
                    Ok(datafusion::arrow::array::new_empty_array(field.data_type()))
                } else {
                    ScalarValue::iter_to_array(column)
                }
            })
            .collect::<datafusion::common::Result<Vec<ArrayRef>>>()?;
        let partitions = RecordBatch::try_new(partition_schema, columns)?;
        let mut all = stored.fields().to_vec();
        all.extend(partition_fields.iter().cloned());
        let log_store = t.log_store();
        Ok(Some(Self {
            schema: Arc::new(Schema::new(all)),
            stored,
            partition_fields,
            partitions,
            files,
            store_url: log_store.object_store_url(),
            store: log_store.object_store(None),
        }))
    }

    fn partition_names(&self) -> Vec<&str> {
        self.partition_fields.iter().map(|f| f.name().as_str()).collect()
    }

    /// Which files the partition-only `filters` keep (all, with none).
    fn chosen(&self, state: &dyn Session, filters: &[Expr]) -> datafusion::common::Result<Vec<bool>> {
        let mut keep = vec![true; self.files.len()];
        let names = self.partition_names();
        let schema = DFSchema::try_from(self.partitions.schema())?;
        for filter in filters.iter().filter(|f| expr_applicable_for_cols(&names, f)) {
            let predicate = state.create_physical_expr(filter.clone(), &schema)?;
            let result = predicate.evaluate(&self.partitions)?.into_array(self.partitions.num_rows())?;
            let result = result.as_boolean_opt().ok_or_else(|| {
                datafusion::error::DataFusionError::Internal(format!("partition filter {filter} is not a predicate"))
            })?;
            for (i, kept) in keep.iter_mut().enumerate() {
                *kept &= result.is_valid(i) && result.value(i);
            }
        }
        Ok(keep)
    }
}

/// A partition column's type in the scan: delta-rs declares partition strings as
/// dictionaries; the values are the same, and the reports cast every column to its
/// contract type (as the cluster's listing tables do, `cluster.rs`).
fn plain(declared: &DataType) -> DataType {
    match declared {
        DataType::Dictionary(_, values) => values.as_ref().clone(),
        other => other.clone(),
    }
}

#[async_trait]
impl TableProvider for SnapshotFiles {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::common::Result<Vec<TableProviderFilterPushDown>> {
        // A filter on partition columns alone chooses files exactly ([`Self::chosen`]);
        // any other stays above the scan.
        let names = self.partition_names();
        Ok(filters
            .iter()
            .map(|f| {
                if expr_applicable_for_cols(&names, f) {
                    TableProviderFilterPushDown::Exact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let keep = self.chosen(state, filters)?;
        let mut chosen: Vec<PartitionedFile> =
            self.files.iter().zip(&keep).filter(|(_, k)| **k).map(|(f, _)| f.clone()).collect();
        if chosen.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let runtime = state.runtime_env();
        if runtime.object_store(&self.store_url).is_err() {
            runtime.register_object_store(self.store_url.as_ref(), self.store.clone());
        }
        let rows: Option<usize> =
            chosen.iter().map(|f| f.statistics.as_ref().and_then(|s| s.num_rows.get_value().copied())).sum();
        let bytes: u64 = chosen.iter().map(|f| f.object_meta.size).sum();
        let mut statistics = Statistics::new_unknown(&self.schema);
        statistics.num_rows = rows.map_or(Precision::Absent, Precision::Exact);
        statistics.total_byte_size = Precision::Exact(usize::try_from(bytes).unwrap_or(usize::MAX));
        // The biggest files first, each to the group with the fewest bytes so far.
        chosen.sort_by(|a, b| b.object_meta.size.cmp(&a.object_meta.size).then(a.path().cmp(b.path())));
        let count = state.config().target_partitions().clamp(1, chosen.len());
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> = (0..count).map(|_| (0, Vec::new())).collect();
        for file in chosen {
            if let Some(group) = groups.iter_mut().min_by_key(|(size, _)| *size) {
                group.0 += file.object_meta.size;
                group.1.push(file);
            }
        }
        let format = ParquetFormat::default().with_options(state.table_options().parquet.clone());
        let table_schema =
            TableSchema::builder(self.stored.clone()).with_table_partition_cols(self.partition_fields.clone()).build();
        let config = FileScanConfigBuilder::new(self.store_url.clone(), format.file_source(table_schema))
            .with_file_groups(groups.into_iter().map(|(_, files)| FileGroup::new(files)).collect())
            .with_statistics(statistics)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        format.create_physical_plan(state, config).await
    }
}
