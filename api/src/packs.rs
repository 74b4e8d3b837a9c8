//! The report pack (`dashboards::pack`: every chart as PNG and SVG and the workbook) on the
//! server, as one zip: from the server's reports ([`ServerReports`]: each county's scheme
//! in force, a frozen year's assessment as frozen), so the scheduled pack, the download
//! and `yishi export pack` with the same catalog hold the same figures.

use dashboards::charts::{ChartOptions, ChartRequest};
use dashboards::naming;
use ingest::Scope;

use crate::charts::ServerReports;
use crate::documents::Written;
use crate::error::{AppError, AppResult};
use crate::reports::{self, Asked};
use crate::state::AppState;

/// The download's path name.
pub const FILE: &str = "pack.zip";
pub const CONTENT_TYPE: &str = "application/zip";

/// The pack of `scope` for the quarter, zipped, on the data `asked` names; named
/// `2025年第3季度_报表包_甲县.zip`.
pub async fn write(state: &AppState, scope: &Scope, year: i32, quarter: u32, asked: &Asked) -> AppResult<Written> {
    if matches!(scope, Scope::Platform) {
        return Err(AppError::bad_request(
            "needs_place",
            "报表包按县区或社区生成：请用 county（县区代码）或 community（社区代码）指定范围",
        ));
    }
    if !(1..=4).contains(&quarter) {
        return Err(AppError::bad_request("bad_quarter", format!("季度应为 1–4，收到 {quarter}")));
    }
    reports::versions_of(state, &asked.snapshot).await?;
    // As the documents: a year outside the scope's ledger has nothing to chart (its charts
    // would be empty pictures of a place without a name).
    if !reports::quarters_with_data(state, scope).await?.iter().any(|(y, _)| *y == year) {
        return Err(AppError::not_found(format!(
            "{}在所选范围内没有数据（该年没有议题）：无法生成报表包",
            naming::quarter_text(year, quarter)
        )));
    }
    let source = ServerReports { state, asked: asked.clone() };
    let request = ChartRequest { year, quarter: Some(quarter) };
    let pack = dashboards::pack::pack_from(&source, scope, request, &ChartOptions::default())
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let file_name = format!("{}.zip", pack.name);
    let title = pack.name.clone();
    // Compressing is CPU work: off the HTTP threads.
    let bytes = tokio::task::spawn_blocking(move || pack.zip().map_err(|e| e.to_string()))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(AppError::Internal)?;
    tracing::info!(scope = %scope, year, quarter, bytes = bytes.len(), "pack written");
    Ok(Written { bytes, file_name, title })
}
