//! Reports as Excel workbooks: one sheet per report with Chinese headers, a frozen header
//! row, a filter and number formats (rates as percents, scores with two decimals); a 图表
//! sheet with native Excel charts of the main figures, drawn from small summary tables on
//! that sheet so staff can restyle them in Excel or WPS; and a 口径 sheet with the
//! definition of every column and the scheme used.

use std::collections::{BTreeMap, BTreeSet};

use rust_xlsxwriter::{Chart, ChartType, Format, FormatAlign, Workbook, Worksheet, XlsxError};
use serde_json::Value;
use warehouse::analyses::{ColumnKind, Figure, Measure, Report, ReportKind};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};
use warehouse::scheme::Scheme;

use crate::encoding::{json, text};

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法生成 Excel 文件：{0} (xlsx_error)")]
pub struct ExportError(#[from] XlsxError);

/// The name of the sheet with the native charts.
pub const CHART_SHEET: &str = "图表";
/// The name of the sheet with the definitions.
pub const ABOUT_SHEET: &str = "口径";

/// The workbook of one report, as bytes.
pub fn report_workbook(report: &Report) -> Result<Vec<u8>, ExportError> {
    workbook(&[report], None)
}

/// A workbook of several reports (one sheet each), the 图表 sheet and the 口径 sheet.
/// With `scheme`, the 口径 sheet lists its weights and thresholds too.
pub fn workbook(reports: &[&Report], scheme: Option<&Scheme>) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let mut names = Vec::new();
    for report in reports {
        let name = unique(sheet_name(report.kind), &names);
        let sheet = workbook.add_worksheet();
        sheet.set_name(&name)?;
        write_rows(sheet, report)?;
        names.push(name);
    }
    let charts = workbook.add_worksheet();
    charts.set_name(CHART_SHEET)?;
    let mut row = 0;
    for report in reports {
        row = write_charts(charts, report, row)?;
    }
    let about = workbook.add_worksheet();
    about.set_name(ABOUT_SHEET)?;
    write_about(about, reports, scheme)?;
    Ok(workbook.save_to_buffer()?)
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
fn write_rows(sheet: &mut Worksheet, report: &Report) -> Result<(), XlsxError> {
    let header =
        Format::new().set_bold().set_text_wrap().set_align(FormatAlign::Center).set_background_color("#D9E1F2");
    let shown = text::for_people_columns(&report.columns);
    for (i, column) in shown.iter().map(|c| &report.columns[*c]).enumerate() {
        sheet.write_string_with_format(0, col(i), column.chinese, &header)?;
        let width = match column.kind {
            ColumnKind::Text => 22,
            ColumnKind::Key => 14,
            _ => 11,
        };
        sheet.set_column_width(col(i), width)?;
    }
    sheet.set_row_height(0, 30)?;
    sheet.set_freeze_panes(1, 0)?;
    let formats: Vec<Format> = shown.iter().map(|c| number_format(report.columns[*c].kind)).collect();
    let mut row = 1u32;
    for batch in &report.batches {
        for r in 0..batch.num_rows() {
            for (i, array) in shown.iter().map(|c| batch.column(*c)).enumerate() {
                if !array.is_null(r) {
                    write_cell(sheet, (row, col(i)), array.as_ref(), r, &formats[i])?;
                }
            }
            row += 1;
        }
    }
    if !shown.is_empty() {
        sheet.autofilter(0, 0, row.saturating_sub(1), col(shown.len() - 1))?;
    }
    Ok(())
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
    categories: Vec<String>,
    series: Vec<(String, Vec<Option<f64>>)>,
    number_format: &'static str,
    chart: ChartType,
    axis: String,
}

/// Writes the charts of `report` from row `start` of the 图表 sheet; returns the next free row.
fn write_charts(sheet: &mut Worksheet, report: &Report, start: u32) -> Result<u32, XlsxError> {
    let rows = json::report_rows(report);
    let mut row = start;
    for table in tables(report.kind, &rows) {
        if table.categories.is_empty() {
            continue;
        }
        row = write_table(sheet, &table, row)? + 2;
    }
    Ok(row)
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
        ReportKind::Counties => vec![Table {
            title: "县区社区平均得分".into(),
            categories: rows.iter().map(|r| s(r, Figure::CountyName).to_string()).collect(),
            series: vec![(Figure::AvgScore.chinese().into(), rows.iter().map(|r| f(r, Figure::AvgScore)).collect())],
            number_format: "0.00",
            chart: ChartType::Column,
            axis: Figure::CommunityScore.with_unit(),
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
        categories: communities.into_iter().map(|(_, name)| name).collect(),
        series,
        number_format: "0.00",
        chart: ChartType::Column,
        axis: Figure::SatisfactionIndex.with_unit(),
    }
}

fn rates_table(rows: &[Row]) -> Table {
    let last = periods(rows).last().copied();
    let latest: Vec<&Row> = rows.iter().filter(|r| last.is_some_and(|period| in_quarter(r, period))).collect();
    let rate = |figure: Figure| (figure.chinese().to_string(), latest.iter().map(|r| f(r, figure)).collect());
    let period = last.map(|(y, q)| format!("（{y}年第{q}季度）")).unwrap_or_default();
    Table {
        title: format!("各社区办结率、按时办结率与公示率{period}"),
        categories: latest.iter().map(|r| s(r, Figure::CommunityName).to_string()).collect(),
        series: vec![rate(Figure::CompletionRate), rate(Figure::OnTimeRate), rate(Figure::PublicityRate)],
        number_format: "0.0%",
        chart: ChartType::Bar,
        axis: "比率".into(),
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
        categories: periods.iter().map(|(y, q)| format!("{y}年第{q}季度")).collect(),
        series,
        number_format: "0",
        chart: ChartType::ColumnStacked,
        axis: Figure::TopicsRaised.with_unit(),
    }
}

fn score_table(rows: &[Row], name: Figure, score: Figure, title: &str) -> Table {
    let mut scored: Vec<(&str, Option<f64>)> = rows.iter().map(|r| (s(r, name), f(r, score))).collect();
    scored.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    Table {
        title: title.to_string(),
        categories: scored.iter().map(|(n, _)| (*n).to_string()).collect(),
        series: vec![(score.chinese().into(), scored.iter().map(|(_, v)| *v).collect())],
        number_format: "0.00",
        chart: ChartType::Bar,
        axis: score.with_unit(),
    }
}

/// Writes `table` at `start` (title, header, rows) and a chart of it to its right;
/// returns the last row used by either.
fn write_table(sheet: &mut Worksheet, table: &Table, start: u32) -> Result<u32, XlsxError> {
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
    let last = head + row_index(table.categories.len());
    let chart = chart_of(table, head, last);
    let chart_col = col(table.series.len() + 2);
    sheet.insert_chart(start, chart_col, &chart)?;
    // A chart is about 20 rows tall; the next table starts below whichever is longer.
    Ok(last.max(start + 20))
}

fn chart_of(table: &Table, head: u32, last: u32) -> Chart {
    let mut chart = Chart::new(table.chart);
    for (j, (_, _)) in table.series.iter().enumerate() {
        let c = col(j + 1);
        chart
            .add_series()
            .set_name((CHART_SHEET, head, c))
            .set_categories((CHART_SHEET, head + 1, 0, last, 0))
            .set_values((CHART_SHEET, head + 1, c, last, c));
    }
    chart.title().set_name(&table.title);
    let value_axis = if matches!(table.chart, ChartType::Bar) { chart.x_axis() } else { chart.y_axis() };
    value_axis.set_name(&table.axis).set_num_format(table.number_format);
    if matches!(table.chart, ChartType::Bar) {
        // Excel draws bar charts bottom-up; reversing puts the first (best) row on top.
        chart.y_axis().set_reverse();
    }
    if table.series.len() == 1 {
        chart.legend().set_hidden();
    }
    let rows = u32::try_from(table.categories.len()).unwrap_or(u32::MAX);
    let tall = matches!(table.chart, ChartType::Bar) && rows > 12;
    chart.set_width(640).set_height(if tall { (rows * 22 + 120).min(1600) } else { 380 });
    chart
}

// ---------------------------------------------------------------------------------------
// 口径

fn write_about(sheet: &mut Worksheet, reports: &[&Report], scheme: Option<&Scheme>) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 18)?;
    sheet.set_column_width(2, 24)?;
    sheet.set_column_width(3, 90)?;
    let mut row = 0u32;
    for (label, value) in provenance(reports, scheme) {
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

/// The lines at the top of the 口径 sheet: period, scope, scheme, versions, null rule.
fn provenance(reports: &[&Report], scheme: Option<&Scheme>) -> Vec<(&'static str, String)> {
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
        ("范围", meta.scope.clone()),
        ("评分方案", meta.scheme_name.clone()),
        ("方案哈希", meta.scheme_hash.clone()),
        ("数据版本", versions.join(", ")),
        ("生成时间", meta.generated_at.clone()),
        ("空值", "分母为 0 的比率为空（—），不是 0 或 100%；图表中为空缺".to_string()),
        ("依据", "说事议事台账数据契约（data-contract.md）".to_string()),
    ];
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
