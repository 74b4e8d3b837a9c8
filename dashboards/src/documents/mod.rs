//! The written quarterly report (《安泽县2025年第三季度说事议事工作满意度分析报告》): a
//! title, a cover line naming scope, period, scheme and data versions, paragraphs written
//! from the figures ([`narrative`]), tables and charts with numbered captions and a 口径
//! appendix, as a DOCX ([`docx`]).
//!
//! The document is first built as a plain [`Document`] (blocks of text, tables and
//! pictures) from the same reports the pack draws ([`ReportSource`]), so its words, its
//! tables and its charts agree with `yishi export pack` for the same county and quarter;
//! then a writer lays it out. Every sentence is a template over figures that the document's
//! tables show too.

pub mod docx;
pub mod narrative;
pub mod pdf;
mod tables;
pub mod year;

pub use year::yearly;

use ingest::Scope;
use serde_json::Value;
use warehouse::analyses::{Figure, Report, ReportKind};

use crate::charts::{self, ChartError, ChartName, ChartOptions, ChartRequest};
use crate::encoding::json::report_rows;
use crate::naming;
use crate::sources::{Fetched, ReportSource};
use narrative::Totals;

/// A report row keyed by the contract's column names.
pub type Row = crate::encoding::json::Row;

/// Why a document could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Chart(#[from] ChartError),
    #[error("季度应为 1–4，收到 {0}")]
    InvalidQuarter(u32),
    #[error("书面报告按县区或社区生成：请加 --county 县区代码（如 --county 141026）或 --community 社区代码")]
    NeedsPlace,
    #[error(
        "{period}在所选范围内没有数据（没有一个社区的记录）：请检查 --year、--quarter 和 --county（或 --community）\
         是否正确，或先导入台账"
    )]
    NoData { period: String },
    #[error("生成 PDF 文件失败：{0}；请重试，仍失败请把这条提示报给维护人员")]
    Pdf(String),
    #[error("生成 Word 文件失败：{0}；请重试，仍失败请把这条提示报给维护人员")]
    Docx(String),
}

/// A block of the document, in reading order.
#[derive(Debug, Clone)]
pub enum Block {
    /// A section heading: "一、总体情况".
    Heading(String),
    /// A body paragraph (first line indented two characters).
    Paragraph(String),
    Table(Table),
    Picture(Picture),
    /// The rest starts on a new page (the appendix).
    PageBreak,
}

/// A table with its numbered caption ("表1 …"), Chinese headers and cells as shown.
#[derive(Debug, Clone)]
pub struct Table {
    pub caption: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Relative column widths (the writer scales them to the text width).
    pub widths: Vec<u32>,
}

/// A chart as PNG with its numbered caption ("图1 …") and its logical size in pixels
/// (1/96 inch), which the writer places it at.
#[derive(Debug, Clone)]
pub struct Picture {
    pub caption: String,
    pub png: Vec<u8>,
    pub width_px: u32,
    pub height_px: u32,
}

/// A written document.
#[derive(Debug, Clone)]
pub struct Document {
    pub title: String,
    /// The lines under the title: scope, period, scheme, data versions.
    pub cover: Vec<String>,
    pub blocks: Vec<Block>,
    /// The file name without extension, as the pack names its files:
    /// "2025年第3季度_满意度分析报告_安泽县".
    pub file_stem: String,
}

/// The document's file name with `extension`.
pub fn file_name(document: &Document, extension: &str) -> String {
    format!("{}.{extension}", document.file_stem)
}

/// The charts of the quarterly document, in order (图1 …).
const CHARTS: [ChartName; 4] = [
    ChartName::SatisfactionTrend,
    ChartName::RatesByCommunity,
    ChartName::TopicsByCategory,
    ChartName::CommunityRanking,
];

/// The reports a quarterly document is written from, as rows.
#[derive(Debug, Clone, Default)]
pub struct QuarterRows {
    pub year: i32,
    pub quarter: u32,
    /// The quarterly analysis of the quarter, the one before and the same one a year before.
    pub now: Vec<Row>,
    pub previous: Vec<Row>,
    pub year_ago: Vec<Row>,
    /// The year's community assessment (red and black lists).
    pub communities: Vec<Row>,
    /// The quarter's overdue list.
    pub overdue: Vec<Row>,
}

/// The quarterly document of `scope` (a county or a community) for `year` and `quarter`
/// from `source`, its charts drawn with `options`.
pub async fn quarterly(
    source: &impl ReportSource,
    scope: &Scope,
    year: i32,
    quarter: u32,
    options: &ChartOptions,
) -> Result<Document, DocumentError> {
    if !(1..=4).contains(&quarter) {
        return Err(DocumentError::InvalidQuarter(quarter));
    }
    if matches!(scope, Scope::Platform) {
        return Err(DocumentError::NeedsPlace);
    }
    let mut fetched = Fetched::new(source);
    let (rows, now) = fetch_rows(&mut fetched, scope, year, quarter).await?;
    // A year outside the ledger's years has no rows at all: no place name, nothing to say.
    if rows.now.is_empty() {
        return Err(DocumentError::NoData { period: narrative::period_chinese(year, quarter) });
    }
    let scheme = fetched.source().scheme_of(scope, &now).await?;
    let place = naming::scope_text(scope, fetched.all());
    let request = ChartRequest { year, quarter: Some(quarter) };
    let mut pictures = Vec::new();
    for name in CHARTS {
        let data = fetched.chart_data(name, scope, request).await?;
        let png = charts::render(name, &data, charts::ChartFormat::Png, options)?;
        pictures.push((name, png));
    }
    let context = Context { scope, place: &place, meta: &now.meta, scheme: &scheme, options };
    Ok(context.document(&rows, pictures))
}

/// The rows of the reports behind the document, and the quarter's own report (for its
/// scheme and versions).
async fn fetch_rows<S: ReportSource>(
    fetched: &mut Fetched<'_, S>,
    scope: &Scope,
    year: i32,
    quarter: u32,
) -> Result<(QuarterRows, Report), DocumentError> {
    let now = fetched.get(ReportKind::Quarterly, scope, year, Some(quarter)).await?;
    let (py, pq) = narrative::previous_quarter(year, quarter);
    let previous = fetched.get(ReportKind::Quarterly, scope, py, Some(pq)).await?;
    let year_ago = fetched.get(ReportKind::Quarterly, scope, year - 1, Some(quarter)).await?;
    let communities = fetched.get(ReportKind::Communities, scope, year, None).await?;
    let overdue = fetched.get(ReportKind::Overdue, scope, year, Some(quarter)).await?;
    let rows = QuarterRows {
        year,
        quarter,
        now: report_rows(&now),
        previous: report_rows(&previous),
        year_ago: report_rows(&year_ago),
        communities: report_rows(&communities),
        overdue: report_rows(&overdue),
    };
    Ok((rows, now))
}

/// What the document states about itself besides the figures.
struct Context<'a> {
    scope: &'a Scope,
    place: &'a str,
    meta: &'a warehouse::analyses::ReportMeta,
    scheme: &'a warehouse::scheme::Scheme,
    options: &'a ChartOptions,
}

impl Context<'_> {
    fn document(&self, rows: &QuarterRows, pictures: Vec<(ChartName, Vec<u8>)>) -> Document {
        let period = narrative::period_chinese(rows.year, rows.quarter);
        let name = naming::scope_file_name(self.place);
        let title = format!("{name}{period}说事议事工作满意度分析报告");
        let mut body = Body::default();
        let mut pictures = pictures.into_iter();
        let mut picture = |body: &mut Body| {
            if let Some((chart, png)) = pictures.next() {
                body.picture(chart, png, self.options);
            }
        };
        self.overall(&mut body, rows, &period);
        picture(&mut body);
        self.communities(&mut body, rows);
        picture(&mut body);
        picture(&mut body);
        self.lists(&mut body, rows);
        picture(&mut body);
        self.overdue(&mut body, rows);
        self.appendix(&mut body);
        let file_stem = format!("{}_满意度分析报告_{name}", naming::quarter_text(rows.year, rows.quarter));
        let days = quarter_days(self.meta.year, self.meta.quarter);
        Document { title, cover: self.cover(&period, &days), blocks: body.blocks, file_stem }
    }

    /// 范围、期间 (`period` from `days`)、评分方案、数据版本.
    fn cover(&self, period: &str, days: &str) -> Vec<String> {
        let code = match self.scope {
            Scope::County(c) | Scope::Community(c) => format!("（{c}）"),
            Scope::Platform => String::new(),
        };
        // Tables by the names a clerk uses (`--as-of-version` reads them too).
        let label = |t: &str| ingest::Table::parse(t).map_or(t.to_string(), |t| t.chinese().to_string());
        let versions: Vec<String> = self.meta.versions.iter().map(|(t, v)| format!("{}={v}", label(t))).collect();
        let mut cover = vec![
            format!("范围：{}{code}　期间：{period}（{days}）", self.place),
            format!("评分方案：{}", self.meta.scheme_text()),
            format!(
                "数据版本：{}（可用 --as-of-version 重现）　生成时间：{}",
                versions.join(","),
                generated(&self.meta.generated_at)
            ),
        ];
        cover.extend(self.meta.notes.iter().cloned());
        cover
    }

    fn overall(&self, body: &mut Body, rows: &QuarterRows, period: &str) {
        let (now, previous, year_ago) = (Totals::of(&rows.now), Totals::of(&rows.previous), Totals::of(&rows.year_ago));
        let county = matches!(self.scope, Scope::County(_));
        let subject = narrative::subject(county, &naming::scope_file_name(self.place), now.communities);
        body.heading("一、总体情况");
        body.paragraph(narrative::overview(period, &subject, &now));
        body.paragraph(narrative::changes(&now, &previous, &year_ago));
        body.table("主要指标与上季度、上年同期比较", tables::comparison(&now, &previous, &year_ago));
    }

    fn communities(&self, body: &mut Body, rows: &QuarterRows) {
        body.heading("二、各社区情况");
        // A community's own document has no one to rank it against.
        if matches!(self.scope, Scope::County(_)) {
            body.paragraph(narrative::leaders_sentence(&rows.now));
        }
        if let Some(quality) = narrative::quality_sentence(&rows.now) {
            body.paragraph(quality);
        }
        body.table(
            "各社区主要指标（会议：次；议题、办结：件；评价：条；满意度指数：分）",
            tables::communities(&rows.now),
        );
    }

    fn lists(&self, body: &mut Body, rows: &QuarterRows) {
        body.heading("三、社区考核红黑榜");
        let sentence = match self.scope {
            Scope::Community(_) => narrative::own_assessment_sentence(rows.year, &rows.communities),
            _ => narrative::lists_sentence(rows.year, &rows.communities),
        };
        body.paragraph(sentence);
        body.table(&format!("{}年度社区考核得分与红黑榜", rows.year), tables::assessment(&rows.communities));
    }

    fn overdue(&self, body: &mut Body, rows: &QuarterRows) {
        body.heading("四、逾期议题与未完成整改");
        let as_of = as_of_text(&rows.overdue, rows.year, Some(rows.quarter));
        body.paragraph(narrative::overdue_sentence(&rows.overdue, &as_of));
        if !rows.overdue.is_empty() {
            let (table, shown) = tables::overdue(&rows.overdue);
            let total = rows.overdue.len();
            let caption = if shown < total {
                format!("逾期事项（共{total}项，列出逾期天数最多的{shown}项，全部见工作簿逾期清单）")
            } else {
                format!("逾期事项（共{total}项）")
            };
            body.table(&caption, table);
        }
    }

    fn appendix(&self, body: &mut Body) {
        body.blocks.push(Block::PageBreak);
        body.heading("附录：口径");
        for line in appendix_rules(self.scheme) {
            body.paragraph(line);
        }
        for figure in APPENDIX_FIGURES {
            body.paragraph(format!("{}：{}", figure.chinese(), figure.definition()));
        }
    }
}

/// The figures the document's sentences and tables use, for the 口径 appendix.
const APPENDIX_FIGURES: [Figure; 11] = [
    Figure::SessionsHeld,
    Figure::TopicsRaised,
    Figure::TopicsClosed,
    Figure::CompletionRate,
    Figure::Evaluations,
    Figure::SatisfactionRate,
    Figure::SatisfactionIndex,
    Figure::CommunityScore,
    Figure::ListLabel,
    Figure::OverdueLabel,
    Figure::QualityFlagsLabel,
];

/// How the document itself counts, before the figures' definitions.
fn appendix_rules(scheme: &warehouse::scheme::Scheme) -> Vec<String> {
    vec![
        "全县合计：各社区的会议、议题、办结、评价数相加；办结率、满意率按合计数重新计算，满意度指数为全部评价的平均，\
         不是各社区比率的平均。"
            .into(),
        "比较：比率以百分数、满意度指数以分表示，均保留一位小数；“上升/下降”是两期所示数值之差（比率为百分点），差为 0 时为“持平”；\
         任一期没有该指标（如无评价）时为“无可比数据”。上季度、上年同期早于有数据的首年时不作比较。"
            .into(),
        small_sample_rule(),
        format!(
            "排名靠前、靠后：本季度有评价的社区按满意度指数（一位小数）排序，各取 min({}, 有评价社区数 ÷ 2 取整) 个，并列均入。",
            narrative::LEADERS
        ),
        scheme_rule(scheme),
    ]
}

fn small_sample_rule() -> String {
    format!(
        "样本较少：议题或评价少于{}件（条）时，相应比率注明“样本较少，仅供参考”（分季度中注明“样本较少”）；\
         本季度（本年度）无评价时写“本季度无评价”（“本年度无评价”），不写满意率。",
        narrative::SMALL_SAMPLE
    )
}

fn scheme_rule(scheme: &warehouse::scheme::Scheme) -> String {
    format!("评分方案：{}（权重与红黑榜名额见方案；红黑榜按年度社区考核）。", scheme.name)
}

/// The blocks being written, with the table and figure counters.
#[derive(Default)]
struct Body {
    blocks: Vec<Block>,
    tables: usize,
    pictures: usize,
}

impl Body {
    fn heading(&mut self, text: &str) {
        self.blocks.push(Block::Heading(text.to_string()));
    }

    fn paragraph(&mut self, text: String) {
        self.blocks.push(Block::Paragraph(text));
    }

    fn table(&mut self, caption: &str, table: Table) {
        self.tables += 1;
        self.blocks.push(Block::Table(Table { caption: format!("表{} {caption}", self.tables), ..table }));
    }

    fn picture(&mut self, chart: ChartName, png: Vec<u8>, options: &ChartOptions) {
        self.pictures += 1;
        let (w, h) = png_size(&png).unwrap_or((options.width_px, 400));
        let scale = options.scale.max(0.5);
        let (width_px, height_px) = ((f64::from(w) / scale).round() as u32, (f64::from(h) / scale).round() as u32);
        let caption = format!("图{} {}", self.pictures, chart.chinese());
        self.blocks.push(Block::Picture(Picture { caption, png, width_px, height_px }));
    }
}

/// A PNG's size in device pixels, from its IHDR chunk.
fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let word = |at: usize| png.get(at..at + 4).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
    Some((word(16)?, word(20)?))
}

/// "2025年7月1日—9月30日".
fn quarter_days(year: i32, quarter: Option<u32>) -> String {
    let q = quarter.unwrap_or(1);
    let (first, last) = match q {
        1 => ("1月1日", "3月31日"),
        2 => ("4月1日", "6月30日"),
        3 => ("7月1日", "9月30日"),
        _ => ("10月1日", "12月31日"),
    };
    format!("{year}年{first}—{last}")
}

/// The overdue list's as-of day as a clerk writes it: "2025年9月30日"; the list's own, or
/// the period's last day (today if earlier) when the list is empty.
fn as_of_text(overdue: &[Row], year: i32, quarter: Option<u32>) -> String {
    let from_rows = overdue.first().and_then(|r| r.get(Figure::AsOf.key())).and_then(Value::as_str);
    let day = match from_rows {
        Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok(),
        None => warehouse::analyses::overdue::as_of(year, quarter, warehouse::analyses::overdue::today_in_china())
            .map(|(_, a)| a),
    };
    day.map_or_else(|| "本季度末".into(), |d| d.format("%Y年%-m月%-d日").to_string())
}

/// "2026-12-07T14:35:20Z" → "2026-12-07 14:35（UTC）".
fn generated(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%Y-%m-%d %H:%M（UTC）").to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// A float figure of a row; null as `None`.
pub(crate) fn num(row: &Row, figure: Figure) -> Option<f64> {
    row.get(figure.key()).and_then(Value::as_f64)
}

pub(crate) fn int(row: &Row, figure: Figure) -> Option<i64> {
    row.get(figure.key()).and_then(Value::as_i64)
}

pub(crate) fn text(row: &Row, figure: Figure) -> &str {
    row.get(figure.key()).and_then(Value::as_str).unwrap_or("")
}
