//! Blank ledger templates a clerk fills in and uploads: one per table, as an Excel
//! workbook or a CSV header line. The columns, their Chinese headers, meanings, examples
//! and enumerations all come from `ingest` (`schema` and `guide`), so a template always
//! matches what the upload accepts.
//!
//! The workbook's first sheet is the one that is uploaded (ingest reads the first sheet),
//! so it holds only the header row: an example row there would be ingested as data. The
//! example row is on the 示例 sheet, under the same headers, and the 填写说明 sheet says
//! what each column means and how it may be written.

use ingest::Table;
use ingest::guide::{self, ColumnGuide};
use ingest::schema::ColumnType;
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, ExcelDateTime, Format, FormatAlign, Note, Workbook,
    Worksheet, XlsxError,
};

use crate::xlsx::ExportError;

/// The sheet with the example row.
pub const EXAMPLE_SHEET: &str = "示例";
/// The sheet with the instructions.
pub const GUIDE_SHEET: &str = "填写说明";

/// How far down the data sheet the dropdowns and formats reach (Excel's last row).
const LAST_ROW: u32 = 1_048_575;

/// A template's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateFormat {
    Xlsx,
    Csv,
}

impl TemplateFormat {
    /// `xlsx` or `csv` (case-insensitive).
    pub fn parse(text: &str) -> Option<TemplateFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "xlsx" => Some(TemplateFormat::Xlsx),
            "csv" => Some(TemplateFormat::Csv),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            TemplateFormat::Xlsx => "xlsx",
            TemplateFormat::Csv => "csv",
        }
    }

    /// The file name offered for download: `议题_导入模板.xlsx`.
    pub fn file_name(self, table: Table) -> String {
        format!("{}_导入模板.{}", table.chinese(), self.extension())
    }
}

/// The template of `table` in `format`, as bytes.
pub fn template(table: Table, format: TemplateFormat) -> Result<Vec<u8>, ExportError> {
    match format {
        TemplateFormat::Xlsx => workbook(table),
        TemplateFormat::Csv => Ok(csv_header(table)),
    }
}

/// The CSV template: the Chinese headers in the contract's order, UTF-8 with a BOM so
/// that Excel on Chinese Windows opens it as UTF-8.
pub fn csv_header(table: Table) -> Vec<u8> {
    let headers: Vec<&str> = table.columns().iter().map(|c| c.chinese()).collect();
    format!("\u{feff}{}\r\n", headers.join(",")).into_bytes()
}

/// The workbook template: the data sheet, the 示例 sheet and the 填写说明 sheet.
pub fn workbook(table: Table) -> Result<Vec<u8>, ExportError> {
    let guides = guide::columns(table);
    let mut workbook = Workbook::new();
    let data = workbook.add_worksheet();
    data.set_name(table.chinese())?;
    write_headers(data, &guides, true)?;
    prepare_columns(data, &guides)?;
    let example = workbook.add_worksheet();
    example.set_name(EXAMPLE_SHEET)?;
    write_headers(example, &guides, false)?;
    write_example(example, &guides)?;
    let about = workbook.add_worksheet();
    about.set_name(GUIDE_SHEET)?;
    write_guide(about, table, &guides)?;
    Ok(workbook.save_to_buffer()?)
}

fn col(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// The header row: required columns in white on dark red, optional ones on grey; on the
/// data sheet each header carries a note with its meaning and accepted forms.
fn write_headers(sheet: &mut Worksheet, guides: &[ColumnGuide], notes: bool) -> Result<(), XlsxError> {
    let base = Format::new().set_bold().set_align(FormatAlign::Center).set_text_wrap();
    let required = base.clone().set_font_color("#FFFFFF").set_background_color("#C00000");
    let optional = base.set_background_color("#D9D9D9");
    for (i, g) in guides.iter().enumerate() {
        let format = if g.column.required { &required } else { &optional };
        sheet.write_string_with_format(0, col(i), g.column.chinese(), format)?;
        sheet.set_column_width(col(i), width(g))?;
        if notes {
            let note = Note::new(note_text(g)).add_author_prefix(false).set_width(300).set_height(120);
            sheet.insert_note(0, col(i), &note)?;
        }
    }
    sheet.set_row_height(0, 30)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn note_text(g: &ColumnGuide) -> String {
    let need = if g.column.required { "必填" } else { "选填" };
    format!("{need}。{}。\n填写：{}\n例如：{}", g.meaning, g.accepted_forms(), g.example)
}

fn width(g: &ColumnGuide) -> f64 {
    match g.column.ty {
        ColumnType::Code(_) | ColumnType::Date => 14.0,
        ColumnType::Text | ColumnType::List => 24.0,
        _ => 12.0,
    }
}

/// Each column's cell format and, where the contract has a closed set or a range, a
/// validation: dropdowns of the Chinese labels, 是/否, scores 1–5, counts ≥ 0, dates.
fn prepare_columns(sheet: &mut Worksheet, guides: &[ColumnGuide]) -> Result<(), XlsxError> {
    for (i, g) in guides.iter().enumerate() {
        let c = col(i);
        sheet.set_column_format(c, &cell_format(g.column.ty))?;
        if let Some(validation) = validation(g)? {
            sheet.add_data_validation(1, c, LAST_ROW, c, &validation)?;
        }
    }
    Ok(())
}

/// Codes and ids as text (Excel would turn 141026100001 into 1.41026E+11), dates as
/// dates, counts and scores as whole numbers.
fn cell_format(ty: ColumnType) -> Format {
    match ty {
        ColumnType::Date => Format::new().set_num_format("yyyy-mm-dd"),
        ColumnType::Int | ColumnType::Score => Format::new().set_num_format("0"),
        ColumnType::Bool => Format::new(),
        _ => Format::new().set_num_format("@"),
    }
}

fn validation(g: &ColumnGuide) -> Result<Option<DataValidation>, XlsxError> {
    let header = g.column.chinese();
    let rule = match g.column.ty {
        ColumnType::Enum(e) => {
            let labels: Vec<&str> = e.values.iter().map(|(zh, _)| *zh).collect();
            let list = DataValidation::new().allow_list_strings(&labels)?;
            return Ok(Some(
                list.set_error_title(format!("{header}填写有误"))?
                    .set_error_message(format!("请从下拉列表中选择：{}", labels.join("、")))?,
            ));
        }
        ColumnType::Bool => DataValidation::new().allow_list_strings(&["是", "否"])?,
        ColumnType::Score => DataValidation::new().allow_whole_number(DataValidationRule::Between(1, 5)),
        ColumnType::Int => DataValidation::new().allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0)),
        ColumnType::Date => {
            let (first, last) = (ExcelDateTime::from_ymd(1990, 1, 1)?, ExcelDateTime::from_ymd(2200, 12, 31)?);
            // A warning, not a stop: 2025年3月15日 typed as text is accepted by the upload.
            DataValidation::new()
                .allow_date(DataValidationRule::Between(first, last))
                .set_error_style(DataValidationErrorStyle::Warning)
        }
        _ => return Ok(None),
    };
    let rule = rule.set_error_title(format!("{header}填写有误"))?.set_error_message(g.accepted_forms())?;
    Ok(Some(rule))
}

/// The example row under the headers, dates as date cells.
fn write_example(sheet: &mut Worksheet, guides: &[ColumnGuide]) -> Result<(), XlsxError> {
    for (i, g) in guides.iter().enumerate() {
        let c = col(i);
        let format = cell_format(g.column.ty);
        match g.column.ty {
            ColumnType::Date => match ingest::values::parse_date(g.example) {
                Some(day) => {
                    let (y, m, d) = ymd(day);
                    sheet.write_datetime_with_format(1, c, ExcelDateTime::from_ymd(y, m, d)?, &format)?
                }
                None => sheet.write_string(1, c, g.example)?,
            },
            ColumnType::Int | ColumnType::Score => match g.example.parse::<f64>() {
                Ok(n) => sheet.write_number_with_format(1, c, n, &format)?,
                Err(_) => sheet.write_string(1, c, g.example)?,
            },
            _ => sheet.write_string_with_format(1, c, g.example, &format)?,
        };
    }
    Ok(())
}

fn ymd(day: chrono::NaiveDate) -> (u16, u8, u8) {
    use chrono::Datelike;
    let narrow = |n: u32| u8::try_from(n).unwrap_or(1);
    (u16::try_from(day.year()).unwrap_or(1900), narrow(day.month()), narrow(day.day()))
}

/// The 填写说明 sheet: what the table is, the order of the tables, and one row per column.
fn write_guide(sheet: &mut Worksheet, table: Table, guides: &[ColumnGuide]) -> Result<(), XlsxError> {
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold().set_background_color("#D9E1F2").set_text_wrap();
    let wrap = Format::new().set_text_wrap();
    let lines = [
        format!("{}表导入模板 填写说明", table.chinese()),
        guide::table_meaning(table).to_string(),
        format!("导入顺序：{}（后面的表要引用前面表中的编号，请按此顺序上传）。", guide::table_order()),
        format!(
            "在第一张工作表“{}”的表头下方逐行填写，表头不要修改；红色表头为必填列，灰色为选填列。",
            table.chinese()
        ),
        format!("“{EXAMPLE_SHEET}”工作表有一行填好的示例；上传时只读取第一张工作表。"),
    ];
    sheet.write_string_with_format(0, 0, &lines[0], &title)?;
    for (i, line) in lines.iter().enumerate().skip(1) {
        sheet.write_string(u32::try_from(i).unwrap_or(0), 0, line)?;
    }
    let top = u32::try_from(lines.len() + 1).unwrap_or(7);
    for (c, header) in ["列名（表头）", "英文列名", "是否必填", "含义", "填写格式", "示例"].iter().enumerate()
    {
        sheet.write_string_with_format(top, col(c), *header, &bold)?;
    }
    for (i, g) in guides.iter().enumerate() {
        let row = top + 1 + u32::try_from(i).unwrap_or(0);
        sheet.write_string(row, 0, g.column.chinese())?;
        sheet.write_string(row, 1, g.column.name)?;
        sheet.write_string(row, 2, if g.column.required { "必填" } else { "选填" })?;
        sheet.write_string_with_format(row, 3, g.meaning, &wrap)?;
        sheet.write_string_with_format(row, 4, g.accepted_forms(), &wrap)?;
        sheet.write_string(row, 5, g.example)?;
    }
    for (c, w) in [16.0, 18.0, 10.0, 40.0, 50.0, 18.0].into_iter().enumerate() {
        sheet.set_column_width(col(c), w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_template_is_the_chinese_header_line() {
        let text = String::from_utf8(csv_header(Table::Cadres)).expect("utf-8");
        assert_eq!(text, "\u{feff}社区代码,干部编号,姓名,职务,是否党员\r\n");
    }

    #[test]
    fn every_table_has_a_workbook() {
        for table in Table::ALL {
            let bytes = workbook(table).expect("workbook");
            assert!(bytes.starts_with(b"PK"), "{table}");
        }
    }
}
