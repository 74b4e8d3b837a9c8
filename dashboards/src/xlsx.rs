//! Reports as Excel workbooks: one sheet per report with Chinese headers, a frozen header
//! row, a filter and number formats (rates as percents, scores with two decimals); a 图表
//! sheet with native Excel charts of the main figures, one per printed page, drawn from
//! small summary tables on the 图表数据 sheet so staff can restyle them in Excel or WPS;
//! and a 口径 sheet with the definition of every column and the scheme used.
//!
//! Every sheet prints on A4 landscape, one page wide, with its header row repeated, a
//! print header naming the scope (by name) and the period, and 第 N 页 / 共 N 页 footers
//! (see [`page_setup`]). A report too wide for one page at a readable size (the quarterly
//! analysis has 49 columns) prints in page-wide bands of columns instead, each repeating
//! the row's name (see [`print_in_bands`]). Charts of more than 40 communities or cadres show the first and
//! last 20 ([`crate::long_lists`]); the full list stays in the report's sheet.

use std::collections::{BTreeMap, BTreeSet};

use ingest::Scope;
use rust_xlsxwriter::{Chart, ChartFont, ChartType, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde_json::Value;
use warehouse::analyses::{ColumnKind, Figure, Measure, Report, ReportKind};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};
use warehouse::scheme::Scheme;

use crate::encoding::{json, text};
use crate::{long_lists, naming};

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法生成 Excel 文件：{0} (xlsx_error)")]
pub struct ExportError(#[from] XlsxError);

/// The name of the sheet with the native charts.
pub const CHART_SHEET: &str = "图表";
/// The name of the sheet with the charts' summary tables.
pub const CHART_DATA_SHEET: &str = "图表数据";
/// The name of the sheet with the red and black lists (after the community assessment's).
pub const LISTS_SHEET: &str = "红黑榜";
/// The name of the sheet with the definitions.
pub const ABOUT_SHEET: &str = "口径";

/// The workbook of one report (computed for `scope`), as bytes.
pub fn report_workbook(report: &Report, scope: &Scope) -> Result<Vec<u8>, ExportError> {
    workbook(&[report], scope, None)
}

/// A workbook of several reports computed for `scope` (one sheet each), the 图表 and
/// 图表数据 sheets and the 口径 sheet. With `scheme`, the 口径 sheet lists its weights and
/// thresholds too.
pub fn workbook(reports: &[&Report], scope: &Scope, scheme: Option<&Scheme>) -> Result<Vec<u8>, ExportError> {
    let place = naming::scope_text(scope, reports.iter().copied());
    let mut workbook = Workbook::new();
    let mut names = Vec::new();
    for report in reports {
        let name = unique(sheet_name(report.kind), &names);
        let mut sheet = Worksheet::new();
        sheet.set_name(&name)?;
        let widths = write_rows(&mut sheet, report)?;
        page_setup(&mut sheet, &place, report.kind.chinese(), &naming::report_period(&report.meta));
        sheet.set_repeat_rows(0, 0)?;
        print_in_bands(&mut sheet, &widths)?;
        workbook.push_worksheet(sheet);
        names.push(name);
        if report.kind == ReportKind::Communities {
            let name = unique(LISTS_SHEET.to_string(), &names);
            let mut sheet = Worksheet::new();
            sheet.set_name(&name)?;
            let widths = write_selected(&mut sheet, report, &listed_rows(report))?;
            page_setup(&mut sheet, &place, LISTS_SHEET, &naming::report_period(&report.meta));
            sheet.set_repeat_rows(0, 0)?;
            print_in_bands(&mut sheet, &widths)?;
            workbook.push_worksheet(sheet);
            names.push(name);
        }
    }
    let tables: Vec<Table> = reports.iter().flat_map(|r| report_tables(r, &place)).collect();
    let period = workbook_period(reports);
    let mut charts = Worksheet::new();
    charts.set_name(CHART_SHEET)?;
    let mut data = Worksheet::new();
    data.set_name(CHART_DATA_SHEET)?;
    write_charts(&mut charts, &mut data, &tables)?;
    page_setup(&mut charts, &place, CHART_SHEET, &period);
    // One chart a page: the manual breaks place them, and Excel ignores manual breaks under
    // fit-to-page scaling, so this sheet prints at 100% (each chart is one page wide).
    charts.set_print_scale(100);
    page_setup(&mut data, &place, CHART_DATA_SHEET, &period);
    workbook.push_worksheet(charts);
    workbook.push_worksheet(data);
    let mut about = Worksheet::new();
    about.set_name(ABOUT_SHEET)?;
    write_about(&mut about, reports, &place, scheme)?;
    page_setup(&mut about, &place, ABOUT_SHEET, &period);
    workbook.push_worksheet(about);
    Ok(workbook.save_to_buffer()?)
}

// ---------------------------------------------------------------------------------------
// Printing

/// Page margins in inches (left, right, top, bottom, header, footer): Excel's defaults
/// with narrower sides, so a chart of [`CHART_WIDTH`] fits between them.
const MARGINS: (f64, f64, f64, f64, f64, f64) = (0.4, 0.4, 0.75, 0.75, 0.3, 0.3);
/// Room for a chart on A4 landscape (297 × 210 mm = 11.69 × 8.27 in) inside [`MARGINS`],
/// at 96 pixels an inch: 10.89 × 6.77 in = 1045 × 650 px.
const CHART_WIDTH: u32 = 1000;
const CHART_HEIGHT: u32 = 580;
/// Rows of the default height (20 px) a chart's page block takes: 620 px, under the
/// 650 px of a page, so no automatic break falls inside a block.
const CHART_BLOCK_ROWS: u32 = 31;
/// Blank rows above each chart in its block (40 px). LibreOffice draws every object that
/// meets a page's printable area and clips it to the page's rows: with the next chart
/// starting right at the break (620 px), its title was drawn clipped into the 30 px left
/// below it, invisible but in the PDF's text. Starting at 620 + 40 = 660 px it is off the page.
const CHART_TOP_ROWS: u32 = 2;
/// Excel's paper code for A4.
const A4: u8 = 9;

/// A4 landscape, one page wide and as many tall as needed, a print header with the scope,
/// what the sheet is and the period, and page numbers in the footer.
fn page_setup(sheet: &mut Worksheet, place: &str, what: &str, period: &str) {
    let (left, right, top, bottom, header, footer) = MARGINS;
    sheet
        .set_paper_size(A4)
        .set_landscape()
        .set_margins(left, right, top, bottom, header, footer)
        .set_print_fit_to_pages(1, 0)
        .set_header(format!("&L{}&C{}&R{}", header_text(place), header_text(what), header_text(period)))
        .set_footer("&C第 &P 页 / 共 &N 页");
}

/// Text for a print header: `&` doubled (Excel reads it as a code) and at most 60
/// characters, so the header stays under Excel's 255.
fn header_text(text: &str) -> String {
    text.chars().take(60).collect::<String>().replace('&', "&&")
}

/// The printable width of A4 landscape inside [`MARGINS`] at 100%, in Excel's pixels
/// (96 an inch): 11.69 − 0.8 in.
const PAGE_WIDTH_PX: u32 = 1045;
/// The print scale of a sheet printed in bands: 80% of 11 pt is about 9 pt, as small as
/// a printed table should go. Fitting the quarterly analysis's 49 columns to one page wide
/// printed it at about 26% (under 3 pt).
const BAND_SCALE: u16 = 80;

/// A column's printed width in pixels at 100%. Excel draws `chars` as about 7·chars + 5
/// px; LibreOffice prints the same column about a third wider (measured: 88 characters
/// took 866 px), so bands are cut by LibreOffice's measure and Excel's pages have room
/// to spare. Cut by Excel's, LibreOffice broke each band again before its end.
fn width_px(chars: u16) -> u32 {
    u32::from(chars) * 10
}

/// Prints a sheet too wide for one page at [`BAND_SCALE`] in page-wide bands of columns,
/// over then down (a block of rows in all its bands, then the next block), with the row's
/// name columns repeated at the left of every band. Narrower sheets keep fit-to-width.
fn print_in_bands(sheet: &mut Worksheet, columns: &[(ColumnKind, u16)]) -> Result<(), XlsxError> {
    let room = PAGE_WIDTH_PX * 100 / u32::from(BAND_SCALE);
    let widths: Vec<u32> = columns.iter().map(|(_, w)| width_px(*w)).collect();
    if widths.iter().sum::<u32>() <= room {
        return Ok(());
    }
    let repeat = name_columns(columns);
    let breaks = band_breaks(&widths, repeat.clone(), room);
    sheet.set_print_scale(BAND_SCALE).set_page_order(false);
    sheet.set_vertical_page_breaks(&breaks)?;
    sheet.set_repeat_columns(col(*repeat.start()), col(*repeat.end()))?;
    Ok(())
}

/// The columns that name a row, repeated on every band: from the last name (Text) column
/// among the leading identifying columns (codes, names, periods) to the end of them —
/// 社区名称 … 季度, or 干部姓名 … 年度. Codes before the name print on the first band only.
fn name_columns(columns: &[(ColumnKind, u16)]) -> std::ops::RangeInclusive<usize> {
    let identifying = |kind: &ColumnKind| matches!(kind, ColumnKind::Key | ColumnKind::Text | ColumnKind::Period);
    let lead = columns.iter().take_while(|(kind, _)| identifying(kind)).count().max(1);
    let name = columns[..lead].iter().rposition(|(kind, _)| *kind == ColumnKind::Text).unwrap_or(0);
    name..=lead - 1
}

/// The first column of each band after the first: columns fill a band while they fit in
/// `room` pixels, each band after the first starting with the repeated columns' width.
fn band_breaks(widths: &[u32], repeat: std::ops::RangeInclusive<usize>, room: u32) -> Vec<u32> {
    let repeated: u32 = widths[repeat.clone()].iter().sum();
    let mut breaks = Vec::new();
    let mut used = 0;
    for (i, width) in widths.iter().enumerate() {
        // A column wider than a band still gets a band of its own rather than a loop.
        if used + width > room && i > *repeat.end() && used > repeated {
            breaks.push(i as u32);
            used = repeated;
        }
        used += width;
    }
    breaks
}

/// The period of the workbook's 图表 and 口径 sheets: the quarter, and the year of the
/// annual assessments when the workbook holds both.
fn workbook_period(reports: &[&Report]) -> String {
    let mut periods: Vec<String> = Vec::new();
    for report in reports {
        let period = naming::report_period(&report.meta);
        if !periods.contains(&period) {
            periods.push(period);
        }
    }
    periods.join("；")
}

/// The sheet name of a report: its Chinese title without the characters Excel forbids.
pub fn sheet_name(kind: ReportKind) -> String {
    // Excel sheet names: at most 31 characters, none of []:*?/\
    let name: String = kind.chinese().chars().filter(|c| !"[]:*?/\\（）()".contains(*c)).collect();
    name.chars().take(31).collect()
}

fn unique(name: String, taken: &[String]) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{}{n}", name.chars().take(29).collect::<String>());
        n += 1;
    }
    candidate
}

fn number_format(kind: ColumnKind) -> Format {
    let pattern = match kind {
        ColumnKind::Rate | ColumnKind::Change(Measure::Rate) => "0.0%",
        ColumnKind::Score | ColumnKind::Mean | ColumnKind::Days => "0.00",
        ColumnKind::Change(Measure::Score | Measure::Mean | Measure::Days) => "+0.00;-0.00;0.00",
        ColumnKind::Change(Measure::Count) => "+0;-0;0",
        _ => "General",
    };
    Format::new().set_num_format(pattern)
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

fn row_index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The rows sheet: the columns people read ([`text::for_people_columns`]: labels, not tokens).
/// Returns the shown columns' kinds and widths (in Excel's character units), for
/// [`print_in_bands`].
fn write_rows(sheet: &mut Worksheet, report: &Report) -> Result<Vec<(ColumnKind, u16)>, XlsxError> {
    let every: Vec<(usize, usize)> =
        report.batches.iter().enumerate().flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r))).collect();
    write_selected(sheet, report, &every)
}

/// The community assessment's rows on a list, as (batch, row): 红榜 by score from the
/// top, then 黑榜 from the bottom, then 样本不足 (the warehouse's `list` column decides).
fn listed_rows(report: &Report) -> Vec<(usize, usize)> {
    use warehouse::analyses::lists::CommunityList;
    let mut rows: Vec<(CommunityList, f64, (usize, usize))> = Vec::new();
    for (b, batch) in report.batches.iter().enumerate() {
        let (Some(list), Some(score)) =
            (batch.column_by_name(Figure::List.key()), batch.column_by_name(Figure::CommunityScore.key()))
        else {
            continue;
        };
        let (list, score) = (list.as_string::<i32>(), score.as_primitive::<Float64Type>());
        for r in 0..batch.num_rows() {
            if let Some(on) = list.is_valid(r).then(|| CommunityList::parse(list.value(r))).flatten() {
                let s = if score.is_valid(r) { score.value(r) } else { f64::NAN };
                rows.push((on, if on == CommunityList::Black { s } else { -s }, (b, r)));
            }
        }
    }
    let place = |l: CommunityList| CommunityList::ALL.iter().position(|x| *x == l);
    rows.sort_by(|a, b| place(a.0).cmp(&place(b.0)).then(a.1.total_cmp(&b.1)));
    rows.into_iter().map(|(_, _, at)| at).collect()
}

/// The header row and the `rows` (batch, row) of `report`, in that order.
fn write_selected(
    sheet: &mut Worksheet,
    report: &Report,
    rows: &[(usize, usize)],
) -> Result<Vec<(ColumnKind, u16)>, XlsxError> {
    let header =
        Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Center).set_background_color("#D9E1F2");
    let shown = text::for_people_columns(&report.columns);
    let mut widths = Vec::with_capacity(shown.len());
    for (i, column) in shown.iter().map(|c| &report.columns[*c]).enumerate() {
        sheet.write_string_with_format(0, col(i), column.chinese, &header)?;
        // Narrow enough that the quarterly analysis prints in five bands (see
        // `print_in_bands`): headers wrap onto up to three lines instead.
        let width = match column.kind {
            ColumnKind::Text => 16,
            ColumnKind::Key => 13,
            ColumnKind::Period => 6,
            _ => 9,
        };
        sheet.set_column_width(col(i), width)?;
        widths.push((column.kind, width));
    }
    sheet.set_row_height(0, 45)?;
    sheet.set_freeze_panes(1, 0)?;
    let formats: Vec<Format> = shown.iter().map(|c| number_format(report.columns[*c].kind)).collect();
    let mut row = 1u32;
    for &(b, r) in rows {
        let batch = &report.batches[b];
        for (i, array) in shown.iter().map(|c| batch.column(*c)).enumerate() {
            if !array.is_null(r) {
                write_cell(sheet, (row, col(i)), array.as_ref(), r, &formats[i])?;
            }
        }
        row += 1;
    }
    if !shown.is_empty() {
        sheet.autofilter(0, 0, row.saturating_sub(1), col(shown.len() - 1))?;
    }
    Ok(widths)
}

/// One cell; nulls are left empty (Excel shows a blank, charts a gap).
fn write_cell(
    sheet: &mut Worksheet,
    (row, c): (u32, u16),
    array: &dyn Array,
    r: usize,
    format: &Format,
) -> Result<(), XlsxError> {
    match array.data_type() {
        DataType::Float64 => {
            sheet.write_number_with_format(row, c, array.as_primitive::<Float64Type>().value(r), format)?;
        }
        DataType::Int64 => {
            sheet.write_number_with_format(row, c, array.as_primitive::<Int64Type>().value(r) as f64, format)?;
        }
        DataType::Boolean => {
            sheet.write_string(row, c, if array.as_boolean().value(r) { "是" } else { "否" })?;
        }
        _ => {
            sheet.write_string(row, c, text::plain(array, r))?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 图表: summary tables with native charts beside them

type Row = json::Row;

fn f(row: &Row, figure: Figure) -> Option<f64> {
    row.get(figure.key()).and_then(Value::as_f64)
}

fn s(row: &Row, figure: Figure) -> &str {
    row.get(figure.key()).and_then(Value::as_str).unwrap_or("")
}

/// A summary table: a title, the category labels and named series of values.
struct Table {
    title: String,
    /// Scope, period and, for a shortened list, what was left out.
    subtitle: String,
    categories: Vec<String>,
    series: Vec<(String, Vec<Option<f64>>)>,
    number_format: &'static str,
    chart: ChartType,
    axis: String,
    /// The top of the value axis when the figure has one (100 points, 100%); bars are then
    /// compared against the whole scale, not an axis that ends at 120.
    full_scale: Option<f64>,
}

impl Table {
    /// A table of more than 40 categories keeps the first and last 20 with a marker row (no
    /// values) between, and says so in its subtitle. The ends are of a ranking: by the last
    /// series, highest first (the score tables already are), empty values last.
    fn shortened(mut self, unit: &str) -> Table {
        let mut indices: Vec<Option<usize>> = (0..self.categories.len()).map(Some).collect();
        if indices.len() > long_lists::MAX_ITEMS
            && let Some((_, values)) = self.series.last()
        {
            let key = |i: &Option<usize>| i.and_then(|i| values[i]).map(|v| (v * 1e9).round() as i64);
            indices.sort_by_key(|i| std::cmp::Reverse(key(i)));
        }
        let (kept, gap) = long_lists::ends(indices, |_| None);
        let Some(gap) = gap else { return self };
        let categories =
            kept.iter().map(|i| i.map_or_else(|| gap.marker(unit), |i| self.categories[i].clone())).collect();
        self.categories = categories;
        for (_, values) in &mut self.series {
            *values = kept.iter().map(|i| i.and_then(|i| values[i])).collect();
        }
        self.subtitle = format!("{}｜{}", self.subtitle, gap.note(unit));
        self
    }
}

/// The summary tables of `report`'s charts (those with something to show), their subtitles
/// naming `place` and the report's period.
fn report_tables(report: &Report, place: &str) -> Vec<Table> {
    let rows = json::report_rows(report);
    let subtitle = format!("{place}｜{}", naming::report_period(&report.meta));
    tables(report.kind, &rows)
        .into_iter()
        .filter(|t| !t.categories.is_empty())
        .map(|t| {
            let unit = match report.kind {
                ReportKind::Cadres => "人",
                ReportKind::Counties => "个县区",
                _ => "个社区",
            };
            Table { subtitle: subtitle.clone(), ..t }.shortened(unit)
        })
        .collect()
}

/// One chart a printed page on the 图表 sheet (a manual page break before each), drawn
/// from its table on the 图表数据 sheet.
fn write_charts(charts: &mut Worksheet, data: &mut Worksheet, tables: &[Table]) -> Result<(), XlsxError> {
    // Each chart lies inside column A, so its width is the anchor's offset in that one
    // column, not a sum of column widths that LibreOffice converts with its own font
    // metrics (with several columns the charts came out a quarter wider and were cut).
    charts.set_column_width_pixels(0, CHART_WIDTH + 10)?;
    let mut row = 0;
    let mut breaks = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let (head, last) = write_table(data, table, row)?;
        row = last + 3;
        let top = row_index(i) * CHART_BLOCK_ROWS;
        if i > 0 {
            breaks.push(top);
        }
        charts.insert_chart(top + CHART_TOP_ROWS, 0, &chart_of(table, head, last))?;
    }
    if !breaks.is_empty() {
        charts.set_page_breaks(&breaks)?;
    }
    Ok(())
}

fn tables(kind: ReportKind, rows: &[Row]) -> Vec<Table> {
    match kind {
        ReportKind::Quarterly => vec![index_table(rows), rates_table(rows)],
        ReportKind::QuarterlyByCategory => {
            vec![group_table(rows, Figure::Category, &ingest::schema::CATEGORY, "各季度议题数（按议题类别）")]
        }
        ReportKind::QuarterlyByChannel => {
            vec![group_table(rows, Figure::Channel, &ingest::schema::CHANNEL, "各季度议题数（按来源渠道）")]
        }
        ReportKind::Cadres => vec![score_table(rows, Figure::CadreName, Figure::CadreScore, "干部考核得分")],
        ReportKind::Communities => {
            vec![score_table(rows, Figure::CommunityName, Figure::CommunityScore, "社区考核得分")]
        }
        // The deliberation reports are tables to read, not charts.
        ReportKind::Meetings | ReportKind::Handling | ReportKind::Units | ReportKind::Publicity => Vec::new(),
        // A list of items to act on, and a month-by-month ranking: the rows are the sheet.
        ReportKind::Overdue | ReportKind::Monthly | ReportKind::HotTopics => Vec::new(),
        ReportKind::Counties => vec![Table {
            title: "县区社区平均得分".into(),
            subtitle: String::new(),
            categories: rows.iter().map(|r| s(r, Figure::CountyName).to_string()).collect(),
            series: vec![(Figure::AvgScore.chinese().into(), rows.iter().map(|r| f(r, Figure::AvgScore)).collect())],
            number_format: "0.00",
            chart: ChartType::Column,
            axis: Figure::CommunityScore.with_unit(),
            full_scale: Some(100.0),
        }],
    }
}

/// The periods (year, quarter) of quarterly rows, in order.
fn periods(rows: &[Row]) -> Vec<(i64, i64)> {
    let set: BTreeSet<(i64, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.get(Figure::Year.key())?.as_i64()?, r.get(Figure::Quarter.key())?.as_i64()?)))
        .collect();
    set.into_iter().collect()
}

/// Whether a row is of the period (year, quarter).
fn in_quarter(row: &Row, (year, quarter): (i64, i64)) -> bool {
    row.get(Figure::Year.key()) == Some(&year.into()) && row.get(Figure::Quarter.key()) == Some(&quarter.into())
}

/// Communities in the report's order: (code, name).
fn communities(rows: &[Row]) -> Vec<(String, String)> {
    let mut seen = BTreeMap::new();
    for r in rows {
        seen.entry(s(r, Figure::CommunityCode).to_string()).or_insert_with(|| s(r, Figure::CommunityName).to_string());
    }
    seen.into_iter().collect()
}

fn index_table(rows: &[Row]) -> Table {
    let periods = periods(rows);
    let communities = communities(rows);
    let series = periods
        .iter()
        .map(|(y, q)| {
            let values = communities
                .iter()
                .map(|(code, _)| {
                    rows.iter()
                        .find(|r| s(r, Figure::CommunityCode) == code && in_quarter(r, (*y, *q)))
                        .and_then(|r| f(r, Figure::SatisfactionIndex))
                })
                .collect();
            (format!("{y}年第{q}季度"), values)
        })
        .collect();
    Table {
        title: "各社区满意度指数".into(),
        subtitle: String::new(),
        categories: communities.into_iter().map(|(_, name)| name).collect(),
        series,
        number_format: "0.00",
        chart: ChartType::Column,
        axis: Figure::SatisfactionIndex.with_unit(),
        full_scale: Some(100.0),
    }
}

fn rates_table(rows: &[Row]) -> Table {
    let last = periods(rows).last().copied();
    let latest: Vec<&Row> = rows.iter().filter(|r| last.is_some_and(|period| in_quarter(r, period))).collect();
    let rate = |figure: Figure| (figure.chinese().to_string(), latest.iter().map(|r| f(r, figure)).collect());
    let period = last.map(|(y, q)| format!("（{y}年第{q}季度）")).unwrap_or_default();
    Table {
        title: format!("各社区办结率、按时办结率与公示率{period}"),
        subtitle: String::new(),
        categories: latest.iter().map(|r| s(r, Figure::CommunityName).to_string()).collect(),
        series: vec![rate(Figure::CompletionRate), rate(Figure::OnTimeRate), rate(Figure::PublicityRate)],
        number_format: "0.0%",
        chart: ChartType::Bar,
        axis: "比率".into(),
        full_scale: Some(1.0),
    }
}

fn group_table(rows: &[Row], group: Figure, groups: &ingest::schema::Enumeration, title: &str) -> Table {
    let periods = periods(rows);
    let series = groups
        .values
        .iter()
        .map(|(name, token)| {
            let values = periods
                .iter()
                .map(|(y, q)| {
                    let n: f64 = rows
                        .iter()
                        .filter(|r| s(r, group) == *token && in_quarter(r, (*y, *q)))
                        .filter_map(|r| f(r, Figure::TopicsRaised))
                        .sum();
                    Some(n)
                })
                .collect();
            ((*name).to_string(), values)
        })
        .filter(|(_, values): &(String, Vec<Option<f64>>)| values.iter().any(|v| v.is_some_and(|n| n > 0.0)))
        .collect();
    Table {
        title: title.to_string(),
        subtitle: String::new(),
        categories: periods.iter().map(|(y, q)| format!("{y}年第{q}季度")).collect(),
        series,
        number_format: "0",
        chart: ChartType::ColumnStacked,
        axis: Figure::TopicsRaised.with_unit(),
        full_scale: None,
    }
}

fn score_table(rows: &[Row], name: Figure, score: Figure, title: &str) -> Table {
    let mut scored: Vec<(&str, Option<f64>)> = rows.iter().map(|r| (s(r, name), f(r, score))).collect();
    scored.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    Table {
        title: title.to_string(),
        subtitle: String::new(),
        categories: scored.iter().map(|(n, _)| (*n).to_string()).collect(),
        series: vec![(score.chinese().into(), scored.iter().map(|(_, v)| *v).collect())],
        number_format: "0.00",
        chart: ChartType::Bar,
        axis: score.with_unit(),
        full_scale: Some(100.0),
    }
}

/// Writes `table` at `start` of the 图表数据 sheet (title, header, rows); returns its header
/// row and its last row.
fn write_table(sheet: &mut Worksheet, table: &Table, start: u32) -> Result<(u32, u32), XlsxError> {
    let bold = Format::new().set_bold();
    let header = Format::new().set_bold().set_background_color("#D9E1F2");
    let values = Format::new().set_num_format(table.number_format);
    sheet.write_string_with_format(start, 0, &table.title, &bold)?;
    let head = start + 1;
    sheet.write_string_with_format(head, 0, "", &header)?;
    sheet.set_column_width(0, 22)?;
    for (j, (name, column)) in table.series.iter().enumerate() {
        let c = col(j + 1);
        sheet.write_string_with_format(head, c, name, &header)?;
        sheet.set_column_width(c, 12)?;
        for (i, v) in column.iter().enumerate() {
            if let Some(v) = v {
                sheet.write_number_with_format(head + 1 + row_index(i), c, *v, &values)?;
            }
        }
    }
    for (i, name) in table.categories.iter().enumerate() {
        sheet.write_string(head + 1 + row_index(i), 0, name)?;
    }
    Ok((head, head + row_index(table.categories.len())))
}

fn chart_of(table: &Table, head: u32, last: u32) -> Chart {
    let mut chart = Chart::new(table.chart);
    for (j, (_, _)) in table.series.iter().enumerate() {
        let c = col(j + 1);
        chart
            .add_series()
            .set_name((CHART_DATA_SHEET, head, c))
            .set_categories((CHART_DATA_SHEET, head + 1, 0, last, 0))
            .set_values((CHART_DATA_SHEET, head + 1, c, last, c));
    }
    chart.title().set_name(&format!("{}\n{}", table.title, table.subtitle)).set_font(ChartFont::new().set_size(13));
    let value_axis = if matches!(table.chart, ChartType::Bar) { chart.x_axis() } else { chart.y_axis() };
    value_axis.set_name(&table.axis).set_num_format(table.number_format);
    if let Some(max) = table.full_scale {
        value_axis.set_min(0.0).set_max(max);
    }
    if matches!(table.chart, ChartType::Bar) {
        // Excel draws bar charts bottom-up; reversing puts the first (best) row on top.
        chart.y_axis().set_reverse();
    }
    if table.series.len() == 1 {
        chart.legend().set_hidden();
    }
    // Up to 41 category labels (20 + the marker + 20) on one page, every one: at 7 pt
    // LibreOffice left out every other label to avoid overlaps, at 6 pt it prints them all.
    let category_axis = if matches!(table.chart, ChartType::Bar) { chart.y_axis() } else { chart.x_axis() };
    category_axis.set_font(ChartFont::new().set_size(6)).set_label_interval(1);
    chart.set_width(CHART_WIDTH).set_height(CHART_HEIGHT);
    chart
}

// ---------------------------------------------------------------------------------------
// 口径

fn write_about(
    sheet: &mut Worksheet,
    reports: &[&Report],
    place: &str,
    scheme: Option<&Scheme>,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 18)?;
    sheet.set_column_width(2, 24)?;
    sheet.set_column_width(3, 90)?;
    let mut row = 0u32;
    for (label, value) in provenance(reports, place, scheme) {
        sheet.write_string_with_format(row, 0, label, &bold)?;
        sheet.write_string(row, 1, value)?;
        row += 1;
    }
    row += 1;
    let header = Format::new().set_bold().set_background_color("#D9E1F2");
    for (c, title) in ["报表", "列名", "字段", "口径（定义）"].iter().enumerate() {
        sheet.write_string_with_format(row, col(c), *title, &header)?;
    }
    row += 1;
    for report in reports {
        for column in text::for_people_columns(&report.columns).into_iter().map(|c| &report.columns[c]) {
            sheet.write_string(row, 0, report.kind.chinese())?;
            sheet.write_string(row, 1, column.chinese)?;
            sheet.write_string(row, 2, column.key)?;
            sheet.write_string_with_format(row, 3, column.figure.definition(), &wrap)?;
            row += 1;
        }
    }
    Ok(())
}

/// The lines at the top of the 口径 sheet: period, scope (the place by name, then the
/// account it was computed for), scheme, versions, null rule.
fn provenance(reports: &[&Report], place: &str, scheme: Option<&Scheme>) -> Vec<(&'static str, String)> {
    let Some(first) = reports.first() else {
        return vec![("报表", "（无）".to_string())];
    };
    let meta = &first.meta;
    let period = match reports.iter().find_map(|r| r.meta.quarter) {
        Some(q) => format!("{}年第{q}季度（年度考核为{}年全年）", meta.year, meta.year),
        None => format!("{}年", meta.year),
    };
    let titles: Vec<&str> = reports.iter().map(|r| r.kind.chinese()).collect();
    let versions: Vec<String> = meta.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
    let mut lines = vec![
        ("报表", titles.join("、")),
        ("期间", period),
        ("范围", format!("{place}（{}）", meta.scope)),
        ("评分方案", meta.scheme_name.clone()),
        ("方案哈希", meta.scheme_hash.clone()),
        ("方案版本", meta.scheme_version.map_or_else(|| "默认（数据契约）".to_string(), |v| format!("第{v}版"))),
        // Each county's own where a report covers counties with different schemes.
        ("所用方案", meta.scheme_text()),
        ("数据版本", versions.join(", ")),
        ("生成时间", meta.generated_at.clone()),
        ("空值", "分母为 0 的比率为空（—），不是 0 或 100%；图表中为空缺".to_string()),
        ("依据", "说事议事台账数据契约（data-contract.md）".to_string()),
    ];
    // A frozen year-end result or a past version: said beside the versions. Notes of the
    // reports, each once.
    let mut notes: Vec<&String> = reports.iter().flat_map(|r| &r.meta.notes).collect();
    notes.dedup();
    lines.extend(notes.into_iter().map(|n| ("说明", n.clone())));
    if let Some(scheme) = scheme {
        lines.extend(scheme_lines(scheme));
    }
    lines
}

fn scheme_lines(scheme: &Scheme) -> Vec<(&'static str, String)> {
    let c = &scheme.cadre;
    let k = &scheme.community;
    let g = &scheme.grades;
    vec![
        (
            "干部得分权重",
            format!(
                "办结率 {}、按时办结率 {}、满意度指数/100 {}、整改率 {}",
                c.completion_rate, c.on_time_rate, c.satisfaction_index, c.rectification_rate
            ),
        ),
        (
            "社区得分权重",
            format!(
                "办结率 {}、按时办结率 {}、满意度指数/100 {}、整改率 {}、公示率 {}、定期会议达标率 {}",
                k.completion_rate,
                k.on_time_rate,
                k.satisfaction_index,
                k.rectification_rate,
                k.publicity_rate,
                k.session_rate
            ),
        ),
        (
            "等级",
            format!(
                "优秀 ≥ {} 且在县内参评干部前 {}%；称职 ≥ {}；基本称职 ≥ {}；全年议题少于 {} 个为未评定",
                g.excellent_score,
                g.excellent_quota * 100.0,
                g.competent_score,
                g.basically_competent_score,
                g.min_topics
            ),
        ),
        (
            "定期会议目标",
            format!("每季度 {} 次、每年 {} 次", scheme.sessions.regular_per_quarter, scheme.sessions.regular_per_year),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quarterly analysis as shown: 县区代码, 县区名称, 社区代码, 社区名称, 年度, 季度,
    /// then 43 figures of 9 characters.
    fn quarterly_columns() -> Vec<(ColumnKind, u16)> {
        let mut columns = vec![
            (ColumnKind::Key, 13),
            (ColumnKind::Text, 16),
            (ColumnKind::Key, 13),
            (ColumnKind::Text, 16),
            (ColumnKind::Period, 6),
            (ColumnKind::Period, 6),
        ];
        columns.extend(std::iter::repeat_n((ColumnKind::Rate, 9), 43));
        columns
    }

    #[test]
    fn a_wide_report_prints_in_bands_repeating_the_row_name() {
        let columns = quarterly_columns();
        // 社区名称, 年度, 季度 (columns 3–5): 160 + 60 + 60 = 280 px on every band.
        assert_eq!(name_columns(&columns), 3..=5);
        let widths: Vec<u32> = columns.iter().map(|(_, w)| width_px(*w)).collect();
        assert_eq!(widths[..7], [130, 160, 130, 160, 60, 60, 90]);
        // Room at 80%: 1045 × 100 / 80 = 1306 px. Band 1: the 700 px of the six leading
        // columns and 6 figures (1240; a 7th would make 1330). Each later band: 280 + 11
        // figures (1270; a 12th 1360). 6 + 6 = column 12, then 23, 34, 45; 45–48 the last.
        let room = PAGE_WIDTH_PX * 100 / u32::from(BAND_SCALE);
        assert_eq!(room, 1306);
        assert_eq!(band_breaks(&widths, 3..=5, room), vec![12, 23, 34, 45]);
    }

    #[test]
    fn a_narrow_report_is_one_band() {
        // 14 columns of 9 characters (1260 px) fit.
        let widths = vec![90; 14];
        assert!(band_breaks(&widths, 0..=0, 1306).is_empty());
        // A 15th does not.
        assert_eq!(band_breaks(&vec![90; 15], 0..=0, 1306), vec![14]);
    }
}
