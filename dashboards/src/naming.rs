//! How the outputs name who and when their figures are about, as a clerk reads it: the
//! scope by its name ("东岭社区（安泽县）", "安泽县", "全部县区"), never an account code, and
//! the period the figures cover — the year for the annual assessments, the quarter for
//! the quarterly analyses. Charts, workbooks and the pack's file names all read these.

use ingest::Scope;
use warehouse::analyses::{Figure, Report, ReportMeta};
use warehouse::arrow::array::{Array, AsArray};

/// Who `reports` (computed for `scope`) are about, by name; the code only when no report
/// has a row to take the name from.
pub fn scope_text<'a>(scope: &Scope, reports: impl IntoIterator<Item = &'a Report> + Clone) -> String {
    let name = |figure: Figure| reports.clone().into_iter().find_map(|r| first_text(r, figure));
    match scope {
        Scope::Platform => "全部县区".to_string(),
        Scope::County(code) => name(Figure::CountyName).unwrap_or_else(|| format!("县区 {code}")),
        Scope::Community(code) => match (name(Figure::CommunityName), name(Figure::CountyName)) {
            (Some(c), Some(k)) => format!("{c}（{k}）"),
            (Some(c), None) => c,
            _ => format!("社区 {code}"),
        },
    }
}

/// The scope's name for file names: "东岭社区", "安泽县" (without the county in brackets).
pub fn scope_file_name(scope_text: &str) -> String {
    file_safe(scope_text.split('（').next().unwrap_or(scope_text))
}

/// A name without the characters Windows forbids in file names.
pub fn file_safe(name: &str) -> String {
    name.chars().map(|c| if "\\/:*?\"<>|".contains(c) || c.is_control() { '_' } else { c }).collect()
}

/// The period an annual assessment covers: "2025年全年".
pub fn year_text(year: i32) -> String {
    format!("{year}年全年")
}

/// "2025年第3季度".
pub fn quarter_text(year: i32, quarter: u32) -> String {
    format!("{year}年第{quarter}季度")
}

/// The period a report's figures cover: the quarter asked for, every quarter of the year
/// (a quarterly report without a quarter), the month or every month of the monthly
/// report, or the year of an annual assessment or overdue list.
pub fn report_period(meta: &ReportMeta) -> String {
    use warehouse::analyses::ReportKind;
    match (meta.kind, meta.quarter) {
        (ReportKind::Monthly, Some(m)) => format!("{}年{m}月", meta.year),
        (ReportKind::Monthly, None) => format!("{}年各月", meta.year),
        (kind, Some(q)) if kind.is_quarterly() => quarter_text(meta.year, q),
        (ReportKind::Overdue, None) => year_text(meta.year),
        (kind, None) if kind.is_quarterly() => format!("{}年各季度", meta.year),
        _ => year_text(meta.year),
    }
}

/// The text of column `figure` in the first row of `report`, if it has the column and a row.
fn first_text(report: &Report, figure: Figure) -> Option<String> {
    let batch = report.batches.iter().find(|b| b.num_rows() > 0)?;
    let column = batch.column_by_name(figure.key())?;
    let strings = column.as_string_opt::<i32>()?;
    (!strings.is_null(0)).then(|| strings.value(0).to_string())
}
