//! A topic's history: when its status moved from 待议 to 办理中 to 已办结, read from the
//! topics table's Delta versions. Every ingest of the topics table is one Delta commit (a
//! monthly re-export MERGEs its changed rows), so the status a topic had at each version
//! is the status the ledger reported in that batch; the timeline lists the version (and
//! its commit time and file) at which each status first appeared.
//!
//! Bounded: only the latest [`MAX_HISTORY_VERSIONS`] versions of the topics table are read, each
//! pruned to the topic's county partition; when older versions exist the answer says so
//! (`earlier_versions_not_scanned`), and its first step may be later than the real one.
//! Delta keeps a commit's log for its `logRetentionDuration` (30 days unless configured);
//! a version whose log was cleaned up cannot be read and ends the scan there.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::{SessionContext, col, lit};
use futures::TryStreamExt;
use ingest::{Scope, Table};
use serde::Serialize;

use crate::Warehouse;
use crate::batches::{BatchRecord, COMMIT_KEY};
use crate::errors::{Result, WarehouseError};
use crate::tables;

/// The most versions of the topics table a history reads (three years of monthly
/// re-exports).
pub const MAX_HISTORY_VERSIONS: usize = 36;

/// A status as of the version where it first appeared (or appeared again).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusStep {
    /// The status token (pending, in_progress, resolved, explained).
    pub status: String,
    /// Its Chinese (待议, 办理中, 已办结, 已解释).
    pub status_label: String,
    /// The topics table's Delta version that first held the status.
    pub version: u64,
    /// When that version was committed, RFC 3339 UTC.
    pub committed_at: Option<String>,
    /// The file whose ingest wrote that version.
    pub file_name: Option<String>,
}

/// A topic's status timeline, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicHistory {
    pub community_code: String,
    pub topic_id: String,
    pub steps: Vec<StatusStep>,
    /// Topics table versions read.
    pub versions_scanned: usize,
    /// Older versions exist than the ones read (see [`MAX_HISTORY_VERSIONS`]).
    pub earlier_versions_not_scanned: bool,
}

impl Warehouse {
    /// The status timeline of topic `topic_id` of `community`; `None` when the topic is
    /// outside `scope` or in no version read.
    pub async fn topic_history(&self, scope: &Scope, community: &str, topic_id: &str) -> Result<Option<TopicHistory>> {
        if community.len() != 12 || !community.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WarehouseError::InvalidRequest(format!("社区代码“{community}”应为 12 位数字")));
        }
        if topic_id.is_empty() || topic_id.chars().count() > 64 {
            return Err(WarehouseError::InvalidRequest("议题编号应为 1–64 个字符".to_string()));
        }
        if !scope.admits(community) {
            return Ok(None);
        }
        let latest = tables::open(self.location(), Table::Topics).await?;
        let Some(last) = tables::version(&latest) else { return Ok(None) };
        let commits: Vec<_> = latest
            .history(Some(MAX_HISTORY_VERSIONS))
            .try_collect()
            .await
            .map_err(WarehouseError::delta(Table::Topics))?;
        let mut steps: Vec<StatusStep> = Vec::new();
        // History is newest first; versions count down from the latest.
        for (index, info) in commits.iter().enumerate().rev() {
            let version = last.saturating_sub(index as u64);
            let Some(status) = self.status_at(version, community, topic_id).await? else { continue };
            if steps.last().is_some_and(|s| s.status == status) {
                continue;
            }
            let batch = info.info.get(COMMIT_KEY).and_then(|v| serde_json::from_value::<BatchRecord>(v.clone()).ok());
            steps.push(StatusStep {
                status_label: ingest::schema::STATUS.chinese(&status).unwrap_or(&status).to_string(),
                status,
                version,
                committed_at: info
                    .timestamp
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                file_name: batch.map(|b| b.file_name),
            });
        }
        if steps.is_empty() {
            return Ok(None);
        }
        let scanned = commits.len();
        Ok(Some(TopicHistory {
            community_code: community.to_string(),
            topic_id: topic_id.to_string(),
            steps,
            versions_scanned: scanned,
            earlier_versions_not_scanned: (last + 1) > scanned as u64,
        }))
    }

    /// The topic's status at `version` of the topics table (`None` where it has no row).
    async fn status_at(&self, version: u64, community: &str, topic_id: &str) -> Result<Option<String>> {
        let table = tables::open_version(self.location(), Table::Topics, version).await?;
        let ctx = SessionContext::new();
        let rows = ctx
            .read_table(tables::provider(&table, Table::Topics).await?)?
            .filter(
                col("county_code")
                    .eq(lit(&community[..6]))
                    .and(col("community_code").eq(lit(community)))
                    .and(col("topic_id").eq(lit(topic_id))),
            )?
            .select_columns(&["status"])?
            .collect()
            .await?;
        for batch in rows {
            let status =
                datafusion::arrow::compute::cast(batch.column(0), &datafusion::arrow::datatypes::DataType::Utf8)?;
            let status = status.as_string::<i32>();
            if let Some(i) = (0..status.len()).find(|&i| status.is_valid(i)) {
                return Ok(Some(status.value(i).to_string()));
            }
        }
        Ok(None)
    }
}
