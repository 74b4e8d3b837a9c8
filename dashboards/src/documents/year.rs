//! The year-end document (《甲县2025年度说事议事工作满意度分析报告》): the year's four
//! quarters and the year against the year before, the community assessment with its red
//! and black lists, the cadre assessment with its grades and the cadres whose grade changed
//! from the year before, and the items still overdue at the year's end.
//!
//! Its reports come from the same [`ReportSource`] as the quarterly document's and the
//! pack's, so in the server's hands (and the CLI's with a catalog) the assessment is
//! computed with the county's scheme in force, and a frozen year's as it was frozen.

use ingest::Scope;
use warehouse::analyses::{Figure, Report, ReportKind, ReportMeta};

use super::narrative::{self, Span, Totals};
use super::{Block, Body, Context, Document, DocumentError, Row, tables};
use crate::charts::{self, ChartName, ChartOptions, ChartRequest};
use crate::encoding::json::report_rows;
use crate::naming;
use crate::sources::{Fetched, ReportSource};

/// The charts of the year-end document, in order (图1 …).
const CHARTS: [ChartName; 3] = [ChartName::SatisfactionTrend, ChartName::CommunityRanking, ChartName::CadreScores];

/// The reports a year-end document is written from, as rows.
#[derive(Debug, Clone, Default)]
pub struct YearRows {
    pub year: i32,
    /// The quarterly analysis of every quarter of the year, and of the year before.
    pub quarters: Vec<Row>,
    pub last_year: Vec<Row>,
    /// The year's community assessment and cadre assessment, and the year before's cadres.
    pub communities: Vec<Row>,
    pub cadres: Vec<Row>,
    pub last_cadres: Vec<Row>,
    /// The year's overdue list, as of its last day.
    pub overdue: Vec<Row>,
    /// What the assessment sentences say they are based on: the latest data or a frozen result.
    pub basis: &'static str,
}

/// The year-end document of `scope` (a county or a community) for `year` from `source`.
pub async fn yearly(
    source: &impl ReportSource,
    scope: &Scope,
    year: i32,
    options: &ChartOptions,
) -> Result<Document, DocumentError> {
    if matches!(scope, Scope::Platform) {
        return Err(DocumentError::NeedsPlace);
    }
    let mut fetched = Fetched::new(source);
    let (rows, quarterly, cadres) = fetch_rows(&mut fetched, scope, year).await?;
    if rows.quarters.is_empty() {
        return Err(DocumentError::NoData { period: format!("{year}年") });
    }
    // The assessment's scheme: for a frozen year the one it was frozen with.
    let scheme = fetched.source().scheme_of(scope, &cadres).await?;
    let place = naming::scope_text(scope, fetched.all());
    let request = ChartRequest { year, quarter: None };
    let mut pictures = Vec::new();
    for name in CHARTS {
        let data = fetched.chart_data(name, scope, request).await?;
        pictures.push((name, charts::render(name, &data, charts::ChartFormat::Png, options)?));
    }
    let context = Context { scope, place: &place, meta: &quarterly.meta, scheme: &scheme, options };
    Ok(context.year_document(&rows, &cadres.meta, pictures))
}

async fn fetch_rows<S: ReportSource>(
    fetched: &mut Fetched<'_, S>,
    scope: &Scope,
    year: i32,
) -> Result<(YearRows, Report, Report), DocumentError> {
    let quarterly = fetched.get(ReportKind::Quarterly, scope, year, None).await?;
    let last_year = fetched.get(ReportKind::Quarterly, scope, year - 1, None).await?;
    let communities = fetched.get(ReportKind::Communities, scope, year, None).await?;
    let cadres = fetched.get(ReportKind::Cadres, scope, year, None).await?;
    let last_cadres = fetched.get(ReportKind::Cadres, scope, year - 1, None).await?;
    let overdue = fetched.get(ReportKind::Overdue, scope, year, None).await?;
    let rows = YearRows {
        year,
        quarters: report_rows(&quarterly),
        last_year: report_rows(&last_year),
        communities: report_rows(&communities),
        cadres: report_rows(&cadres),
        last_cadres: report_rows(&last_cadres),
        overdue: report_rows(&overdue),
        basis: basis(&communities.meta),
    };
    Ok((rows, quarterly, cadres))
}

/// Whether an assessment is a frozen result (`ReportMeta::frozen`, which the server sets
/// beside its note 「本结果为2025年度冻结结果……」).
fn basis(meta: &ReportMeta) -> &'static str {
    if meta.frozen { narrative::FROZEN_BASIS } else { narrative::LATEST_BASIS }
}

impl Context<'_> {
    fn year_document(&self, rows: &YearRows, assessment: &ReportMeta, pictures: Vec<(ChartName, Vec<u8>)>) -> Document {
        let name = naming::scope_file_name(self.place);
        let title = format!("{name}{}年度说事议事工作满意度分析报告", rows.year);
        let mut body = Body::default();
        let mut pictures = pictures.into_iter();
        let mut picture = |body: &mut Body| {
            if let Some((chart, png)) = pictures.next() {
                body.picture(chart, png, self.options);
            }
        };
        self.year_overall(&mut body, rows);
        picture(&mut body);
        self.year_communities(&mut body, rows);
        picture(&mut body);
        self.year_cadres(&mut body, rows);
        picture(&mut body);
        self.year_overdue(&mut body, rows);
        self.year_appendix(&mut body);
        let file_stem = format!("{}年度_满意度分析报告_{name}", rows.year);
        Document { title, cover: self.year_cover(rows.year, assessment), blocks: body.blocks, file_stem }
    }

    /// 范围、期间、评分方案 (the assessment's)、数据版本, and the notes of a frozen result.
    fn year_cover(&self, year: i32, assessment: &ReportMeta) -> Vec<String> {
        let mut cover = self.cover(&format!("{year}年"), &format!("{year}年1月1日—12月31日"));
        if let Some(line) = cover.get_mut(1) {
            *line = format!("评分方案：{}", assessment.scheme_text());
        }
        for note in &assessment.notes {
            if !cover.contains(note) {
                cover.push(note.clone());
            }
        }
        cover
    }

    fn year_overall(&self, body: &mut Body, rows: &YearRows) {
        let (now, last_year) = (Totals::of_year(&rows.quarters), Totals::of_year(&rows.last_year));
        let county = matches!(self.scope, Scope::County(_));
        let subject = narrative::subject(county, &naming::scope_file_name(self.place), now.communities);
        body.heading("一、全年总体情况");
        body.paragraph(narrative::overview_over(&format!("{}年", rows.year), &subject, &now, Span::Year));
        body.paragraph(narrative::year_changes(&now, &last_year));
        body.table("全年主要指标与上年比较", tables::year_comparison(&now, &last_year));
        body.paragraph(narrative::quarters_sentence(&rows.quarters));
        body.table(
            "分季度主要指标（会议：次；议题、办结：件；评价：条；满意度指数：分）",
            tables::quarters(&rows.quarters),
        );
    }

    fn year_communities(&self, body: &mut Body, rows: &YearRows) {
        body.heading("二、社区考核与红黑榜");
        let sentence = match self.scope {
            Scope::Community(_) => narrative::own_assessment_sentence_on(rows.year, &rows.communities, rows.basis),
            _ => narrative::lists_sentence_on(rows.year, &rows.communities, rows.basis),
        };
        body.paragraph(sentence);
        body.table(&format!("{}年度社区考核得分与红黑榜", rows.year), tables::assessment(&rows.communities));
    }

    fn year_cadres(&self, body: &mut Body, rows: &YearRows) {
        body.heading("三、社区干部考核");
        body.paragraph(narrative::grades_sentence(rows.year, &rows.cadres, rows.basis));
        body.table(&format!("{}年度社区干部考核等级", rows.year), tables::grades(&rows.cadres));
        let changes = narrative::grade_changes(&rows.cadres, &rows.last_cadres);
        body.paragraph(narrative::grade_changes_sentence(rows.year, &changes, !rows.last_cadres.is_empty()));
        if !changes.is_empty() {
            let caption = format!("考核等级较{}年度变化的干部（共{}名）", rows.year - 1, changes.len());
            body.table(&caption, tables::grade_changes(&changes));
        }
    }

    fn year_overdue(&self, body: &mut Body, rows: &YearRows) {
        body.heading("四、逾期议题与未完成整改");
        let as_of = super::as_of_text(&rows.overdue, rows.year, None);
        body.paragraph(narrative::overdue_sentence_over(&rows.overdue, &as_of, Span::Year));
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

    fn year_appendix(&self, body: &mut Body) {
        body.blocks.push(Block::PageBreak);
        body.heading("附录：口径");
        for line in year_rules() {
            body.paragraph(line);
        }
        body.paragraph(super::small_sample_rule());
        body.paragraph(super::scheme_rule(self.scheme));
        for figure in super::APPENDIX_FIGURES.iter().chain(&YEAR_FIGURES) {
            body.paragraph(format!("{}：{}", figure.chinese(), figure.definition()));
        }
    }
}

/// The figures of the cadre assessment, besides those of the quarterly document.
const YEAR_FIGURES: [Figure; 3] = [Figure::CadreScore, Figure::RankInCounty, Figure::GradeChinese];

/// How the year-end document counts, before the quarterly document's rules it shares.
fn year_rules() -> Vec<String> {
    vec![
        "全年合计：各社区各季度的会议、议题、办结、评价数相加；办结率、满意率按合计数重新计算，满意度指数为全年全部评价的平均，\
         不是各季度或各社区比率的平均。分季度数按同样方法合计各社区。"
            .into(),
        "比较：比率以百分数、满意度指数以分表示，均保留一位小数；“上升/下降”是两年所示数值之差（比率为百分点），差为 0 时为“持平”；\
         任一年没有该指标（如无评价）时为“无可比数据”；上年不在有数据的年份内时不作比较。"
            .into(),
        "考核等级变化：同一干部编号本年与上年的考核等级不同即列入；“升为/降为”按优秀、称职、基本称职、不称职的顺序，\
         与“未评定”之间的变化写作“变为”；只在其中一年有考核结果的干部不列入。"
            .into(),
        "年度考核：冻结了的年度按冻结时的结果和评分方案（封面注明），否则按生成本报告时的数据和本县区现行的评分方案。".into(),
    ]
}
