//! The written reports (`dashboards::documents`) on the server: a county's or community's
//! quarterly or year-end document, from the server's reports ([`ServerReports`]: each
//! county's scheme in force, a frozen year's assessment as frozen, the report cache), so
//! the download is the document `yishi export report` writes with the same catalog.

use dashboards::charts::ChartOptions;
use dashboards::documents::{self, Document, DocumentError};
use dashboards::pages::{DocumentLine, DocumentsView, Page};
use ingest::Scope;

use crate::charts::ServerReports;
use crate::error::{AppError, AppResult};
use crate::reports::{self, Asked};
use crate::state::AppState;

/// The two files a document is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Docx,
    Pdf,
}

impl DocumentFormat {
    pub const ALL: [DocumentFormat; 2] = [DocumentFormat::Docx, DocumentFormat::Pdf];

    pub fn extension(self) -> &'static str {
        match self {
            DocumentFormat::Docx => "docx",
            DocumentFormat::Pdf => "pdf",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            DocumentFormat::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            DocumentFormat::Pdf => "application/pdf",
        }
    }

    /// The download's path name: `report.docx`, `report.pdf`.
    pub fn file(self) -> String {
        format!("report.{}", self.extension())
    }

    pub fn parse_file(file: &str) -> Option<DocumentFormat> {
        DocumentFormat::ALL.into_iter().find(|f| f.file() == file)
    }
}

/// A written document's bytes and its Chinese file name
/// ("2025年第3季度_满意度分析报告_甲县.docx").
#[derive(Debug)]
pub struct Written {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub title: String,
}

/// The document of `scope` for `year` (and `quarter`; the year-end document without one)
/// in `format`, on the data `asked` names.
pub async fn write(
    state: &AppState,
    scope: &Scope,
    (year, quarter): (i32, Option<u32>),
    format: DocumentFormat,
    asked: &Asked,
) -> AppResult<Written> {
    if matches!(scope, Scope::Platform) {
        return Err(AppError::bad_request("needs_place", DocumentError::NeedsPlace.to_string()));
    }
    // A bad as_of_version or as_of is the caller's 400 here, not a failed document later.
    reports::versions_of(state, &asked.snapshot).await?;
    let source = ServerReports { state, asked: asked.clone() };
    let options = ChartOptions::default();
    let document = match quarter {
        Some(q) => documents::quarterly(&source, scope, year, q, &options).await,
        None => documents::yearly(&source, scope, year, &options).await,
    }
    .map_err(app_error)?;
    let file_name = documents::file_name(&document, format.extension());
    let title = document.title.clone();
    // Laying out a document is CPU work: off the HTTP threads.
    let bytes = tokio::task::spawn_blocking(move || lay_out(&document, format))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(app_error)?;
    tracing::info!(scope = %scope, year, ?quarter, format = format.extension(), "document written");
    Ok(Written { bytes, file_name, title })
}

fn lay_out(document: &Document, format: DocumentFormat) -> Result<Vec<u8>, DocumentError> {
    match format {
        DocumentFormat::Docx => documents::docx::write(document),
        DocumentFormat::Pdf => documents::pdf::write(document),
    }
}

/// A period without data is a 404 with the document's message; the rest is the server's.
fn app_error(e: DocumentError) -> AppError {
    match e {
        DocumentError::NoData { .. } => AppError::not_found(e.to_string()),
        DocumentError::InvalidQuarter(_) => AppError::bad_request("bad_quarter", e.to_string()),
        DocumentError::NeedsPlace => AppError::bad_request("needs_place", e.to_string()),
        other => AppError::Internal(other.to_string()),
    }
}

/// How many of the latest quarters and years with data the 书面报告 page offers per place.
const LATEST_QUARTERS: usize = 4;
const LATEST_YEARS: usize = 2;

/// The 书面报告 page's list: each county of `scope` (a community: itself) with its latest
/// quarters and years with data; and the page's own period for its place, if it names one.
pub async fn listing(state: &AppState, scope: &Scope, page: &Page) -> AppResult<DocumentsView> {
    let mut lines = Vec::new();
    for (place, query, place_scope) in places(state, scope).await? {
        let quarters = reports::quarters_with_data(state, &place_scope).await?;
        let mut years: Vec<i32> = quarters.iter().map(|(y, _)| *y).collect();
        years.dedup();
        let line = |year, quarter| DocumentLine { place: place.clone(), place_query: query.clone(), year, quarter };
        lines.extend(quarters.iter().rev().take(LATEST_QUARTERS).map(|(y, q)| line(*y, Some(*q))));
        lines.extend(years.iter().rev().take(LATEST_YEARS).map(|y| line(*y, None)));
    }
    let current = place_query(scope).map(|query| DocumentLine {
        place: page.place.clone(),
        place_query: query,
        year: page.filters.year,
        quarter: page.filters.quarter,
    });
    Ok(DocumentsView { current, lines })
}

/// `county=141026` or `community=141026100001`; none for the platform.
fn place_query(scope: &Scope) -> Option<String> {
    match scope {
        Scope::County(c) => Some(format!("county={c}")),
        Scope::Community(c) => Some(format!("community={c}")),
        Scope::Platform => None,
    }
}

/// The places a scope's documents are of: the platform's every county, a county itself, a
/// community itself; each with its name, query and scope.
async fn places(state: &AppState, scope: &Scope) -> AppResult<Vec<(String, String, Scope)>> {
    let scopes = match scope {
        Scope::Platform => state.catalog.counties(scope).await?.into_iter().map(|p| Scope::County(p.code)).collect(),
        own => vec![own.clone()],
    };
    let mut places = Vec::new();
    for s in scopes {
        if let Some(query) = place_query(&s) {
            places.push((state.place_name(&s).await?, query, s));
        }
    }
    Ok(places)
}
