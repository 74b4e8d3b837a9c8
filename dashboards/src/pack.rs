//! The report pack of a quarter: every chart as PNG and SVG and one workbook with every
//! report, named the way a county office files them, e.g.
//! `2025年第3季度_满意度分析_安泽县.xlsx` and `2025年第3季度_图2_四维度评价_安泽县.png`.
//! Each chart's file name states the period its figures cover, so the annual assessments
//! are `2025年全年_图4_干部得分_安泽县.png` in the pack of any quarter.

use std::path::{Path, PathBuf};

use ingest::Scope;
use warehouse::analyses::ReportKind;
use warehouse::scheme::CountySchemes;
use warehouse::{Snapshot, Warehouse};

use crate::charts::{self, ChartError, ChartFormat, ChartName, ChartOptions, ChartRequest};
use crate::naming;
use crate::sources::{Fetched, ReportSource, WarehouseReports};
use crate::xlsx::{self, ExportError};

/// Why a pack could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("读取报表失败：{0}")]
    Report(#[from] warehouse::WarehouseError),
    #[error("报表包无法打包为 zip：{0}")]
    Zip(String),
    #[error("无法写入 {path}：{source}；请检查文件夹是否存在、是否有写权限")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One file of the pack.
#[derive(Debug, Clone)]
pub struct PackFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The files of a pack, in the order a report reads them (charts 图1–图8, then the workbook).
#[derive(Debug, Clone, Default)]
pub struct Pack {
    /// What the pack is called as one file, without extension:
    /// `2025年第3季度_报表包_安泽县`.
    pub name: String,
    pub files: Vec<PackFile>,
}

impl Pack {
    /// Writes every file into `dir` (created if missing); returns the paths written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, PackError> {
        std::fs::create_dir_all(dir).map_err(|source| PackError::Write { path: dir.to_path_buf(), source })?;
        self.files
            .iter()
            .map(|file| {
                let path = dir.join(&file.name);
                std::fs::write(&path, &file.bytes).map_err(|source| PackError::Write { path: path.clone(), source })?;
                Ok(path)
            })
            .collect()
    }

    /// Every file in one zip archive (names in UTF-8, which the zip format flags, so
    /// Windows' Explorer shows the 汉字): the pack as one download or attachment.
    pub fn zip(&self) -> Result<Vec<u8>, PackError> {
        use std::io::Write;
        let zip_error = |e: zip::result::ZipError| PackError::Zip(e.to_string());
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for file in &self.files {
            writer.start_file(file.name.as_str(), options).map_err(zip_error)?;
            writer.write_all(&file.bytes).map_err(|e| PackError::Zip(e.to_string()))?;
        }
        Ok(writer.finish().map_err(zip_error)?.into_inner())
    }
}

/// The reports of the workbook: the quarter's analysis and breakdowns, the year's
/// assessments, the county summary and the overdue list (sheet 逾期清单).
const WORKBOOK_REPORTS: [ReportKind; 7] = [
    ReportKind::Quarterly,
    ReportKind::QuarterlyByCategory,
    ReportKind::QuarterlyByChannel,
    ReportKind::Cadres,
    ReportKind::Communities,
    ReportKind::Counties,
    ReportKind::Overdue,
];

/// Computes the reports once and renders every chart and the workbook of `request`,
/// each county with its scheme in `schemes` (a county's pack: its scheme in force), on
/// `snapshot`; the 口径 sheet and every chart name the scheme and its version.
pub async fn pack(
    wh: &Warehouse,
    scope: &Scope,
    request: ChartRequest,
    schemes: &CountySchemes,
    snapshot: &Snapshot,
    options: &ChartOptions,
) -> Result<Pack, PackError> {
    pack_from(&WarehouseReports::new(wh, schemes, snapshot), scope, request, options).await
}

/// [`pack`] over the reports of `source`: in the server's hands (and the CLI's with a
/// catalog), each county's scheme in force and a frozen year's assessment as frozen.
pub async fn pack_from(
    source: &impl ReportSource,
    scope: &Scope,
    request: ChartRequest,
    options: &ChartOptions,
) -> Result<Pack, PackError> {
    let prefix = request.period_text();
    let mut fetched = Fetched::new(source);
    let mut charted = Vec::new();
    for name in ChartName::ALL {
        charted.push((name, fetched.chart_data(name, scope, request).await?));
    }
    let mut reports = Vec::new();
    for kind in WORKBOOK_REPORTS {
        let quarter = request.quarter.filter(|_| kind.is_quarterly());
        reports.push(fetched.get(kind, scope, request.year, quarter).await?);
    }
    // Named by every report fetched, as one look-up: a chart over an empty report still
    // carries the place's name.
    let place = naming::scope_file_name(&naming::scope_text(scope, fetched.all()));
    let mut files = Vec::new();
    for (i, (name, data)) in charted.iter().enumerate() {
        let period = naming::file_safe(&charts::period_text(*name, data)?);
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            let bytes = charts::render(*name, data, format, options)?;
            let file = format!("{period}_图{}_{}_{place}.{}", i + 1, name.chinese(), format.extension());
            files.push(PackFile { name: file, bytes });
        }
    }
    let scheme = match reports.first() {
        Some(first) => Some(fetched.source().scheme_of(scope, first).await?),
        None => None,
    };
    let refs: Vec<&warehouse::analyses::Report> = reports.iter().collect();
    let bytes = xlsx::workbook(&refs, scope, scheme.as_ref())?;
    files.push(PackFile { name: format!("{prefix}_满意度分析_{place}.xlsx"), bytes });
    Ok(Pack { name: format!("{prefix}_报表包_{place}"), files })
}
