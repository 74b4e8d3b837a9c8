//! The latest version of every table, read from the names in its Delta log (a directory
//! listing, or one LIST request per table in object storage) rather than by opening the
//! tables: the server asks before every report (its cache key), so on S3 a full open of six
//! tables per request would cost more than most reports.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use ingest::Table;
use object_store::ObjectStore;

use crate::errors::{Result, WarehouseError};
use crate::{Location, Snapshot, Warehouse};

impl Warehouse {
    /// Every table's latest version; a table without a log is missing. Falls back to
    /// opening the tables when a log cannot be listed.
    pub async fn latest_versions(&self) -> Result<BTreeMap<Table, u64>> {
        let mut out = BTreeMap::new();
        for table in Table::ALL {
            match log_version(self.location(), table).await {
                Ok(Some(v)) => {
                    out.insert(table, v);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::debug!(table = table.name(), error = %e, "log listing failed; opening the tables");
                    return self.opened_versions().await;
                }
            }
        }
        if out.len() < Table::ALL.len() {
            // A table without a log yet (a warehouse being set up): ask the tables.
            return self.opened_versions().await;
        }
        Ok(out)
    }

    async fn opened_versions(&self) -> Result<BTreeMap<Table, u64>> {
        let session = self.session(&ingest::Scope::Platform, &Snapshot::Latest).await?;
        Ok(session.versions.iter().filter_map(|(name, v)| Table::parse(name).map(|t| (t, *v))).collect())
    }
}

/// The highest commit number in a table's `_delta_log`, or `None` without a log.
async fn log_version(location: &Location, table: Table) -> Result<Option<u64>> {
    if let Some(dir) = location.local_dir() {
        let dir = dir.join(table.name()).join("_delta_log");
        return match std::fs::read_dir(&dir) {
            Ok(entries) => Ok(entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter_map(|n| version_of(&n))
                .max()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(WarehouseError::io(dir.display())(e)),
        };
    }
    let url = location.table_url(table)?;
    let shown = url.to_string();
    let store = deltalake::DeltaTableBuilder::from_url(url)
        .and_then(|b| b.with_storage_options(location.storage_options()).build_storage())
        .map_err(|e| WarehouseError::Location(shown.clone(), e.to_string()))?
        .object_store(None);
    let prefix = object_store::path::Path::from("_delta_log");
    let listed: Vec<object_store::ObjectMeta> = store
        .list(Some(&prefix))
        .try_collect()
        .await
        .map_err(|e| WarehouseError::Location(shown.clone(), e.to_string()))?;
    Ok(listed.iter().filter_map(|m| m.location.filename().and_then(version_of)).max())
}

/// `00000000000000000007.json` or a checkpoint of that version → 7.
fn version_of(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".json").or_else(|| name.strip_suffix(".checkpoint.parquet"))?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse().ok())?
}

#[cfg(test)]
mod tests {
    use super::version_of;

    #[test]
    fn log_file_names() {
        assert_eq!(version_of("00000000000000000003.json"), Some(3));
        assert_eq!(version_of("00000000000000000010.checkpoint.parquet"), Some(10));
        for name in ["_commit_x.json.tmp", "x.json", "_last_checkpoint", "00000000000000000003.crc"] {
            assert_eq!(version_of(name), None, "{name}");
        }
    }
}
