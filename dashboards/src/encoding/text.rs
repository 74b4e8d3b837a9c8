//! A cell as text: as stored ([`plain`]), as a person reads a query result
//! ([`for_people`]), as a clerk reads a report's figure ([`figure`]) or a spreadsheet's
//! cell ([`spreadsheet`]); and which of a report's columns people read
//! ([`for_people_columns`]: labels, not tokens).

use warehouse::analyses::{ColumnKind, Measure, ReportColumn};
use warehouse::arrow::array::{Array, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};

/// A cell as stored: codes, names, tokens, dates, numbers at full precision (Arrow's
/// display); empty for null. What CSV files, JSON strings and the pages' lists hold.
pub fn plain(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return String::new();
    }
    warehouse::arrow::util::display::array_value_to_string(array, row).unwrap_or_default()
}

/// A cell of a query result for a person: floats to at most four decimals without
/// trailing zeros, "—" for null, anything else as stored.
pub fn for_people(array: &dyn Array, row: usize) -> String {
    if array.is_null(row) {
        return "—".into();
    }
    match array.data_type() {
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
        }
        _ => plain(array, row),
    }
}

/// A report's figure as a clerk reads it, by its column's kind: rates as percents,
/// changes signed (a rate's change in percentage points), other floats with two
/// decimals, flags as 是/否, "—" for null, anything else as stored.
pub fn figure(array: &dyn Array, row: usize, kind: ColumnKind) -> String {
    if array.is_null(row) {
        return "—".into();
    }
    match array.data_type() {
        DataType::Float64 => {
            let v = array.as_primitive::<Float64Type>().value(row);
            match kind {
                ColumnKind::Rate => format!("{:.1}%", v * 100.0),
                ColumnKind::Change(Measure::Rate) => format!("{:+.1}个百分点", v * 100.0),
                ColumnKind::Change(_) => format!("{v:+.2}"),
                _ => format!("{v:.2}"),
            }
        }
        DataType::Int64 => {
            let v = array.as_primitive::<Int64Type>().value(row);
            if matches!(kind, ColumnKind::Change(_)) { format!("{v:+}") } else { v.to_string() }
        }
        DataType::Boolean => (if array.as_boolean().value(row) { "是" } else { "否" }).into(),
        _ => plain(array, row),
    }
}

/// The columns of a report a person reads (CSV, XLSX, the CLI's table), by index: every
/// column but a token column whose label column is in the report too — people read
/// 议题类别 (`category_label`), programs read `category` in JSON.
pub fn for_people_columns(columns: &[ReportColumn]) -> Vec<usize> {
    let has = |label: warehouse::analyses::Figure| columns.iter().any(|c| c.figure == label);
    (0..columns.len()).filter(|i| !columns[*i].figure.label().is_some_and(has)).collect()
}

/// A report's cell for a spreadsheet: as stored ([`plain`]: full precision, empty for
/// null), but yes/no as 是/否.
pub fn spreadsheet(array: &dyn Array, row: usize, kind: ColumnKind) -> String {
    match kind {
        ColumnKind::Flag if array.is_valid(row) => figure(array, row, kind),
        _ => plain(array, row),
    }
}

#[cfg(test)]
mod tests {
    use warehouse::analyses::ReportKind;
    use warehouse::arrow::array::{BooleanArray, Float64Array, Int64Array};

    use super::*;

    #[test]
    fn figures_as_a_clerk_reads_them() {
        let floats = Float64Array::from(vec![Some(0.875), Some(0.05), None, Some(0.1 + 0.2)]);
        assert_eq!(figure(&floats, 0, ColumnKind::Rate), "87.5%");
        assert_eq!(figure(&floats, 1, ColumnKind::Change(Measure::Rate)), "+5.0个百分点");
        assert_eq!(figure(&floats, 0, ColumnKind::Change(Measure::Score)), "+0.88");
        assert_eq!(figure(&floats, 2, ColumnKind::Rate), "—");
        assert_eq!(for_people(&floats, 3), "0.3");
        assert_eq!(for_people(&floats, 2), "—");
        assert_eq!(plain(&floats, 3), "0.30000000000000004");
        assert_eq!(plain(&floats, 2), "");
        let ints = Int64Array::from(vec![3, -2]);
        assert_eq!(figure(&ints, 0, ColumnKind::Change(Measure::Count)), "+3");
        assert_eq!(figure(&ints, 1, ColumnKind::Count), "-2");
        assert_eq!(figure(&BooleanArray::from(vec![true, false]), 1, ColumnKind::Flag), "否");
        let flags = BooleanArray::from(vec![Some(true), None]);
        assert_eq!(spreadsheet(&flags, 0, ColumnKind::Flag), "是");
        assert_eq!(spreadsheet(&flags, 1, ColumnKind::Flag), "");
    }

    #[test]
    fn people_read_labels_not_tokens() {
        let keys = |kind: ReportKind| -> Vec<&str> {
            let columns = kind.columns();
            for_people_columns(columns).into_iter().map(|i| columns[i].key).collect()
        };
        let by_channel = keys(ReportKind::QuarterlyByChannel);
        assert!(by_channel.contains(&"channel_label") && !by_channel.contains(&"channel"));
        let cadres = keys(ReportKind::Cadres);
        assert!(cadres.contains(&"grade_chinese") && !cadres.contains(&"grade"));
        let quarterly = keys(ReportKind::Quarterly);
        assert!(quarterly.contains(&"quality_flags_label") && !quarterly.contains(&"quality_flags"));
        // The county summary's only token column is its quality flags.
        assert_eq!(keys(ReportKind::Counties).len(), ReportKind::Counties.columns().len() - 1);
        let handling = keys(ReportKind::Handling);
        assert!(handling.contains(&"handling_mode_label") && !handling.contains(&"handling_mode"));
    }
}
