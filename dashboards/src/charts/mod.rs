//! The charts of the quarterly review, drawn from the analyses as PNG (for Word and WPS)
//! and SVG (for web pages), with Chinese text in the embedded font.
//!
//! Every chart has a title, axis labels with units, a legend, a 口径 line that says how
//! its figure is defined and a footnote with the period, the scheme and the data version.
//! Null figures are gaps, never zeros; names too long for their label area are shortened
//! with "…"; series differ in shape or pattern as well as colour, so they survive a
//! greyscale printer.
//!
//! ```ignore
//! let request = ChartRequest { year: 2025, quarter: Some(3) };
//! let data = ChartData::fetch(&wh, &[ChartName::SatisfactionTrend], &scope, request, &scheme, &Snapshot::Latest).await?;
//! let png = render(ChartName::SatisfactionTrend, &data, ChartFormat::Png, &ChartOptions::default())?;
//! ```

mod cadres;
mod canvas;
mod data;
pub mod notice;
mod page;
mod palette;
mod ranking;
mod rates;
mod satisfaction;
mod topics;

use plotters::prelude::{BitMapBackend, DrawingBackend, IntoDrawingArea, SVGBackend};

pub use data::{ChartData, ChartRequest, ReportNeed, reports_needed};

use crate::fonts::FontError;
use canvas::Canvas;

/// The charts, by the names the CLI and the API share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartName {
    /// Quarterly satisfaction index per community (lines), the county average highlighted.
    SatisfactionTrend,
    /// The four rating dimensions of a community or county against the county average.
    Dimensions,
    /// Completion, on-time and publicity rates by community (grouped bars), sorted.
    RatesByCommunity,
    /// Cadre scores (sorted bars coloured by grade) with the 90 and quota cut-offs.
    CadreScores,
    /// Community scores sorted, the county average, the red and black lists.
    CommunityRanking,
    /// Topics by category per quarter (stacked bars).
    TopicsByCategory,
    /// Topics by source channel (bars).
    TopicsByChannel,
    /// Satisfaction index, communities × quarters.
    SatisfactionHeatmap,
}

impl ChartName {
    pub const ALL: [ChartName; 8] = [
        ChartName::SatisfactionTrend,
        ChartName::Dimensions,
        ChartName::RatesByCommunity,
        ChartName::CadreScores,
        ChartName::CommunityRanking,
        ChartName::TopicsByCategory,
        ChartName::TopicsByChannel,
        ChartName::SatisfactionHeatmap,
    ];

    /// The English name (CLI argument, API path, file names of tests).
    pub fn name(self) -> &'static str {
        match self {
            ChartName::SatisfactionTrend => "satisfaction_trend",
            ChartName::Dimensions => "dimensions",
            ChartName::RatesByCommunity => "rates_by_community",
            ChartName::CadreScores => "cadre_scores",
            ChartName::CommunityRanking => "community_ranking",
            ChartName::TopicsByCategory => "topics_by_category",
            ChartName::TopicsByChannel => "topics_by_channel",
            ChartName::SatisfactionHeatmap => "satisfaction_heatmap",
        }
    }

    /// The chart's Chinese name (file names of the report pack).
    pub fn chinese(self) -> &'static str {
        match self {
            ChartName::SatisfactionTrend => "满意度趋势",
            ChartName::Dimensions => "四维度评价",
            ChartName::RatesByCommunity => "各社区办理率",
            ChartName::CadreScores => "干部得分",
            ChartName::CommunityRanking => "社区排名",
            ChartName::TopicsByCategory => "议题类别",
            ChartName::TopicsByChannel => "议题来源渠道",
            ChartName::SatisfactionHeatmap => "满意度热力图",
        }
    }

    /// Parses the English name (`-` or `_`, any case) or the Chinese name.
    pub fn parse(text: &str) -> Result<ChartName, ChartError> {
        let token = text.trim().to_ascii_lowercase().replace('-', "_");
        ChartName::ALL
            .into_iter()
            .find(|c| c.name() == token || c.chinese() == text.trim())
            .ok_or_else(|| ChartError::UnknownChart(text.to_string()))
    }
}

impl std::fmt::Display for ChartName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ChartName {
    type Err = ChartError;
    fn from_str(s: &str) -> Result<ChartName, ChartError> {
        ChartName::parse(s)
    }
}

/// The output format of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartFormat {
    Png,
    Svg,
}

impl ChartFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ChartFormat::Png => "png",
            ChartFormat::Svg => "svg",
        }
    }
}

/// The size of a chart. Sizes are logical pixels (1/96 inch); a PNG has `scale` device
/// pixels per logical pixel and says so in its DPI (96 × scale), so Word and WPS place
/// it at its logical size. The default, 590 × 400 at 2×, is the text width of an A4
/// page in the official layout (156 mm) at 192 DPI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChartOptions {
    pub width_px: u32,
    /// `None`: 400, or taller when a chart lists many communities or cadres (one row
    /// each, so names never overlap).
    pub height_px: Option<u32>,
    pub scale: f64,
}

impl Default for ChartOptions {
    fn default() -> Self {
        ChartOptions { width_px: 590, height_px: None, scale: 2.0 }
    }
}

/// The largest picture drawn, in device pixels (a 200-community chart at 3× fits).
const MAX_DEVICE_PIXELS: f64 = 120_000_000.0;

impl ChartOptions {
    fn check(&self) -> Result<(), ChartError> {
        let bad = |reason: String| Err(ChartError::InvalidOptions(reason));
        if !(320..=4000).contains(&self.width_px) {
            return bad(format!("宽度 {} 不在 320–4000 像素之间", self.width_px));
        }
        if let Some(h) = self.height_px.filter(|h| !(240..=30000).contains(h)) {
            return bad(format!("高度 {h} 不在 240–30000 像素之间"));
        }
        if !(self.scale.is_finite() && (0.5..=8.0).contains(&self.scale)) {
            return bad(format!("缩放倍数 {} 不在 0.5–8 之间（2 即 192 DPI）", self.scale));
        }
        Ok(())
    }
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error(
        "未知的图表“{0}”；可用：satisfaction_trend（满意度趋势）、dimensions（四维度评价）、rates_by_community（各社区办理率）、\
         cadre_scores（干部得分）、community_ranking（社区排名）、topics_by_category（议题类别）、topics_by_channel（议题来源渠道）、\
         satisfaction_heatmap（满意度热力图）"
    )]
    UnknownChart(String),
    #[error("图表尺寸无效：{0}")]
    InvalidOptions(String),
    #[error("季度应为 1–4，收到 {0}")]
    InvalidQuarter(u32),
    #[error("缺少绘图所需的报表“{kind}”（{year}年），请先用 ChartData::fetch 取数或把该报表加入 ChartData")]
    MissingReport { kind: &'static str, year: i32 },
    #[error("报表使用的评分方案（{report}）与绘图给定的方案（{given}）不一致，阈值线会画错；请用同一方案重新计算")]
    SchemeMismatch { report: String, given: String },
    #[error("图表过大：{width}×{height} 像素（缩放后），请减小 --scale 或 --height")]
    TooLarge { width: u32, height: u32 },
    #[error("读取报表失败：{0}")]
    Report(#[from] warehouse::WarehouseError),
    /// A report supplied by a [`crate::sources::ReportSource`] other than the warehouse
    /// (the server's), with its reason in Chinese.
    #[error("读取报表失败：{0}")]
    Source(String),
    #[error("绘图失败：{0}")]
    Draw(String),
    #[error("PNG 编码失败：{0}")]
    Encode(#[from] png::EncodingError),
    #[error(transparent)]
    Font(#[from] FontError),
}

/// Renders one chart from `data` as PNG or SVG bytes.
pub fn render(
    name: ChartName,
    data: &ChartData,
    format: ChartFormat,
    options: &ChartOptions,
) -> Result<Vec<u8>, ChartError> {
    options.check()?;
    crate::fonts::font()?;
    let model = Model::of(name, data)?;
    let width = f64::from(options.width_px);
    let height = options.height_px.map(f64::from).unwrap_or_else(|| model.auto_height(width));
    match format {
        ChartFormat::Png => png_bytes(&model, width, height, options.scale),
        ChartFormat::Svg => svg_bytes(&model, width, height),
    }
}

/// The period the figures of chart `name` cover, as its subtitle states it: the year of an
/// annual assessment, the quarter (or span of quarters) of the quarterly analyses.
pub fn period_text(name: ChartName, data: &ChartData) -> Result<String, ChartError> {
    Ok(Model::of(name, data)?.period().to_string())
}

/// A font specimen: `text` drawn at `em` logical pixels per em on white, as PNG, through
/// the same text path as every chart — for checking that a machine draws 汉字 from the
/// embedded font (the tests compare it with the font's own outlines).
pub fn specimen(text: &str, em: f64, scale: f64) -> Result<Vec<u8>, ChartError> {
    crate::fonts::font()?;
    let pad = em / 2.0;
    let (width, height) = ((page::measure(text, em) + 2.0 * pad).ceil(), (em * 2.0).ceil());
    let (w, h) = ((width * scale).round() as u32, (height * scale).round() as u32);
    let mut pixels = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        let canvas = Canvas::new(&area, scale, false, width, height);
        canvas.text(text, (pad, em), em, plotters::style::BLACK, canvas::Align::Left, false)?;
        area.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    encode_png(&pixels, w, h, scale)
}

/// Every chart, by its model: what it shows, computed from the reports before any drawing.
enum Model {
    Trend(satisfaction::Trend),
    Heatmap(satisfaction::Heatmap),
    Dimensions(satisfaction::Dimensions),
    Rates(rates::Rates),
    Cadres(cadres::CadreScores),
    Ranking(ranking::Ranking),
    Categories(topics::ByCategory),
    Channels(topics::ByChannel),
}

macro_rules! each {
    ($model:expr, $p:ident => $body:expr) => {
        match $model {
            Model::Trend($p) => $body,
            Model::Heatmap($p) => $body,
            Model::Dimensions($p) => $body,
            Model::Rates($p) => $body,
            Model::Cadres($p) => $body,
            Model::Ranking($p) => $body,
            Model::Categories($p) => $body,
            Model::Channels($p) => $body,
        }
    };
}

impl Model {
    /// The model of chart `name` from `data`.
    fn of(name: ChartName, data: &ChartData) -> Result<Model, ChartError> {
        Ok(match name {
            ChartName::SatisfactionTrend => Model::Trend(satisfaction::Trend::new(data)?),
            ChartName::SatisfactionHeatmap => Model::Heatmap(satisfaction::Heatmap::new(data)?),
            ChartName::Dimensions => Model::Dimensions(satisfaction::Dimensions::new(data)?),
            ChartName::RatesByCommunity => Model::Rates(rates::Rates::new(data)?),
            ChartName::CadreScores => Model::Cadres(cadres::CadreScores::new(data)?),
            ChartName::CommunityRanking => Model::Ranking(ranking::Ranking::new(data)?),
            ChartName::TopicsByCategory => Model::Categories(topics::ByCategory::new(data)?),
            ChartName::TopicsByChannel => Model::Channels(topics::ByChannel::new(data)?),
        })
    }

    fn period(&self) -> &str {
        each!(self, p => &page::Plot::header(p).period)
    }

    /// The page height that fits the plot's rows (see [`page::auto_height`]).
    fn auto_height(&self, width: f64) -> f64 {
        each!(self, p => page::auto_height(p, width))
    }

    fn draw<DB: DrawingBackend>(&self, canvas: &Canvas<DB>) -> Result<(), ChartError> {
        each!(self, p => page::draw_page(p, canvas))
    }
}

fn png_bytes(model: &Model, width: f64, height: f64, scale: f64) -> Result<Vec<u8>, ChartError> {
    let (w, h) = ((width * scale).round(), (height * scale).round());
    if w * h > MAX_DEVICE_PIXELS {
        return Err(ChartError::TooLarge { width: w as u32, height: h as u32 });
    }
    let (w, h) = (w as u32, h as u32);
    let mut pixels = vec![255u8; (w as usize) * (h as usize) * 3];
    {
        let area = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        draw(&area, model, scale, false, width, height)?;
        area.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    encode_png(&pixels, w, h, scale)
}

fn svg_bytes(model: &Model, width: f64, height: f64) -> Result<Vec<u8>, ChartError> {
    let mut text = String::new();
    {
        let size = (width.round() as u32, height.round() as u32);
        let area = SVGBackend::with_string(&mut text, size).into_drawing_area();
        draw(&area, model, 1.0, true, width, height)?;
        area.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    Ok(text.into_bytes())
}

fn draw<DB: DrawingBackend>(
    area: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    model: &Model,
    scale: f64,
    svg: bool,
    width: f64,
    height: f64,
) -> Result<(), ChartError> {
    let canvas = Canvas::new(area, scale, svg, width, height);
    canvas.clear()?;
    model.draw(&canvas)
}

/// RGB pixels as PNG, with the DPI that makes office software place it at its logical size.
fn encode_png(pixels: &[u8], width: u32, height: u32, scale: f64) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let per_metre = (96.0 * scale / 0.0254).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions { xppu: per_metre, yppu: per_metre, unit: png::Unit::Meter }));
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
    }
    Ok(out)
}
