//! A report as an Excel workbook: the rows with Chinese headers, a frozen header row and
//! number formats (rates as percents, scores with two decimals), and a 口径 sheet that
//! says what was computed from what.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use warehouse::analyses::{ColumnKind, Report};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};

/// Why a workbook could not be written.
#[derive(Debug, thiserror::Error)]
#[error("无法生成 Excel 文件：{0} (xlsx_error)")]
pub struct ExportError(#[from] XlsxError);

/// The workbook of one report, as bytes.
pub fn report_workbook(report: &Report) -> Result<Vec<u8>, ExportError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(report))?;
    write_rows(sheet, report)?;
    let about = workbook.add_worksheet();
    about.set_name("口径")?;
    write_about(about, report)?;
    Ok(workbook.save_to_buffer()?)
}

fn sheet_name(report: &Report) -> String {
    // Excel sheet names: at most 31 characters, none of []:*?/\
    let name: String = report.kind.chinese().chars().filter(|c| !"[]:*?/\\（）()".contains(*c)).collect();
    name.chars().take(31).collect()
}

fn number_format(kind: ColumnKind) -> Format {
    use warehouse::analyses::Measure;
    let pattern = match kind {
        ColumnKind::Rate | ColumnKind::Change(Measure::Rate) => "0.0%",
        ColumnKind::Score | ColumnKind::Mean | ColumnKind::Days => "0.00",
        ColumnKind::Change(Measure::Score | Measure::Mean | Measure::Days) => "+0.00;-0.00;0.00",
        ColumnKind::Change(Measure::Count) => "+0;-0;0",
        _ => "General",
    };
    Format::new().set_num_format(pattern)
}

fn write_rows(sheet: &mut Worksheet, report: &Report) -> Result<(), XlsxError> {
    let header = Format::new().set_bold().set_text_wrap().set_background_color("#D9E1F2");
    for (col, column) in report.columns.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet.write_string_with_format(0, col, column.chinese, &header)?;
        sheet.set_column_width(col, if column.kind == ColumnKind::Text { 24 } else { 12 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let formats: Vec<Format> = report.columns.iter().map(|c| number_format(c.kind)).collect();
    let mut row = 1u32;
    for batch in &report.batches {
        for r in 0..batch.num_rows() {
            for (col, array) in batch.columns().iter().enumerate() {
                let c = u16::try_from(col).unwrap_or(u16::MAX);
                if array.is_null(r) {
                    continue;
                }
                match array.data_type() {
                    DataType::Float64 => {
                        let v = array.as_primitive::<Float64Type>().value(r);
                        sheet.write_number_with_format(row, c, v, &formats[col])?;
                    }
                    DataType::Int64 => {
                        let v = array.as_primitive::<Int64Type>().value(r) as f64;
                        sheet.write_number_with_format(row, c, v, &formats[col])?;
                    }
                    DataType::Boolean => {
                        sheet.write_string(row, c, if array.as_boolean().value(r) { "是" } else { "否" })?;
                    }
                    _ => {
                        let text = warehouse::arrow::util::display::array_value_to_string(array, r).unwrap_or_default();
                        sheet.write_string(row, c, text)?;
                    }
                }
            }
            row += 1;
        }
    }
    Ok(())
}

fn write_about(sheet: &mut Worksheet, report: &Report) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    let meta = &report.meta;
    let period = match meta.quarter {
        Some(q) => format!("{}年第{q}季度", meta.year),
        None => format!("{}年", meta.year),
    };
    let versions: Vec<String> = meta.versions.iter().map(|(t, v)| format!("{t}={v}")).collect();
    let lines = [
        ("报表", report.kind.chinese().to_string()),
        ("期间", period),
        ("范围", meta.scope.clone()),
        ("评分方案", meta.scheme_name.clone()),
        ("方案哈希", meta.scheme_hash.clone()),
        ("数据版本", versions.join(", ")),
        ("生成时间", meta.generated_at.clone()),
        ("空值", "分母为 0 的比率为空（—），不是 0 或 100%".to_string()),
        ("依据", "说事议事台账数据契约（data-contract.md）".to_string()),
    ];
    sheet.set_column_width(0, 14)?;
    sheet.set_column_width(1, 80)?;
    for (i, (label, value)) in lines.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        sheet.write_string_with_format(i, 0, *label, &bold)?;
        sheet.write_string(i, 1, value)?;
    }
    Ok(())
}
