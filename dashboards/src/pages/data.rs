//! Reading a report's columns by figure, and the figures the pages show.

use warehouse::analyses::{Figure, Measure, Report};
use warehouse::arrow::array::{Array, ArrayRef, AsArray};
use warehouse::arrow::datatypes::{DataType, Float64Type, Int64Type};

use crate::encoding::text;

/// A column of a report by figure (by its key: the cadre and the community score are both
/// `score`).
pub fn column(report: &Report, figure: Figure) -> Option<&ArrayRef> {
    let i = report.columns.iter().position(|c| c.key == figure.key())?;
    report.batches.first().map(|b| b.column(i))
}

/// Number of rows (reports are one batch).
pub fn rows(report: &Report) -> usize {
    report.batches.first().map(|b| b.num_rows()).unwrap_or(0)
}

/// A numeric column as f64 (counts and ranks too); `None` for null or missing.
pub fn numbers(report: &Report, figure: Figure) -> Vec<Option<f64>> {
    let n = rows(report);
    let Some(a) = column(report, figure) else { return vec![None; n] };
    (0..n)
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            match a.data_type() {
                DataType::Float64 => Some(a.as_primitive::<Float64Type>().value(i)),
                DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(i) as f64),
                DataType::Boolean => Some(if a.as_boolean().value(i) { 1.0 } else { 0.0 }),
                _ => None,
            }
        })
        .collect()
}

/// A column as text as stored (codes, names, tokens); empty for null.
pub fn texts(report: &Report, figure: Figure) -> Vec<String> {
    let n = rows(report);
    let Some(a) = column(report, figure) else { return vec![String::new(); n] };
    (0..n).map(|i| text::plain(a, i)).collect()
}

/// A cell as a clerk reads it: rates as percents, scores with two decimals, "—" for null
/// (see [`text::figure`]).
pub fn shown(report: &Report, figure: Figure, row: usize) -> String {
    let Some(c) = report.columns.iter().find(|c| c.key == figure.key()) else { return String::new() };
    let Some(a) = column(report, figure) else { return String::new() };
    text::figure(a, row, c.kind)
}

/// A value computed on a page (such as an average) as [`shown`] shows a cell of `kind`.
pub fn shown_value(value: Option<f64>, kind: warehouse::analyses::ColumnKind) -> String {
    let array = warehouse::arrow::array::Float64Array::from(vec![value]);
    text::figure(&array, 0, kind)
}

/// The Chinese header of a column.
pub fn header(report: &Report, figure: Figure) -> String {
    report
        .columns
        .iter()
        .find(|c| c.key == figure.key())
        .map(|c| c.chinese.to_string())
        .unwrap_or_else(|| figure.key().to_string())
}

/// Sum of a column over the rows `rows` (nulls skipped).
pub fn sum(report: &Report, figure: Figure, rows: &[usize]) -> f64 {
    let values = numbers(report, figure);
    rows.iter().filter_map(|r| values.get(*r).copied().flatten()).sum()
}

/// Mean of `figure` weighted by `weight` over the rows `rows` where both are set; `None`
/// when the weights add to zero.
pub fn weighted_mean(report: &Report, figure: Figure, weight: Figure, rows: &[usize]) -> Option<f64> {
    let (values, weights) = (numbers(report, figure), numbers(report, weight));
    let (mut num, mut den) = (0.0, 0.0);
    for r in rows {
        if let (Some(Some(v)), Some(Some(w))) = (values.get(*r), weights.get(*r)) {
            num += v * w;
            den += w;
        }
    }
    (den > 0.0).then(|| num / den)
}

/// The headline figures of a scope and period, from its quarterly report rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Headline {
    pub communities: usize,
    pub sessions: f64,
    pub topics: f64,
    pub closed: f64,
    pub evaluations: f64,
    /// closed ÷ topics; `None` with no topics.
    pub completion_rate: Option<f64>,
    /// Closed by the deadline ÷ closed; `None` with none closed.
    pub on_time_rate: Option<f64>,
    /// Satisfied or basically satisfied ÷ evaluations; `None` with no evaluations.
    pub satisfaction_rate: Option<f64>,
    pub satisfaction_index: Option<f64>,
}

impl Headline {
    pub fn of(quarterly: &Report) -> Headline {
        let all: Vec<usize> = (0..rows(quarterly)).collect();
        Headline::of_rows(quarterly, &all)
    }

    /// The headline of the rows `rows` of a quarterly report (one community's quarters in
    /// the community list).
    pub fn of_rows(quarterly: &Report, rows: &[usize]) -> Headline {
        let all_codes = texts(quarterly, Figure::CommunityCode);
        let mut codes: Vec<&String> = rows.iter().filter_map(|r| all_codes.get(*r)).collect();
        codes.sort();
        codes.dedup();
        let topics = sum(quarterly, Figure::TopicsRaised, rows);
        let closed = sum(quarterly, Figure::TopicsClosed, rows);
        Headline {
            communities: codes.iter().filter(|c| !c.is_empty()).count(),
            sessions: sum(quarterly, Figure::SessionsHeld, rows),
            topics,
            closed,
            evaluations: sum(quarterly, Figure::Evaluations, rows),
            completion_rate: (topics > 0.0).then(|| closed / topics),
            // 按时办结率's denominator is the closed topics, so the quarters weigh by those.
            on_time_rate: weighted_mean(quarterly, Figure::OnTimeRate, Figure::TopicsClosed, rows),
            satisfaction_rate: weighted_mean(quarterly, Figure::SatisfactionRate, Figure::Evaluations, rows),
            satisfaction_index: weighted_mean(quarterly, Figure::SatisfactionIndex, Figure::Evaluations, rows),
        }
    }
}

/// A rate as a percent with one decimal, or "—".
pub fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0)).unwrap_or_else(|| "—".into())
}

/// A headline figure's change from the period before (环比) as a card shows it: "↑ 3",
/// "↓ 2.5个百分点", "持平" when it is zero at the shown precision (never "-0.0"), "—"
/// when either value is missing. Counts in whole units, rates in percentage points and
/// other figures with one decimal, as the cards show the values.
pub fn change(now: Option<f64>, before: Option<f64>, measure: Measure) -> String {
    let (Some(now), Some(before)) = (now, before) else { return "—".into() };
    let (scale, decimals, unit) = match measure {
        Measure::Count => (1.0, 0, ""),
        Measure::Rate => (100.0, 1, "个百分点"),
        _ => (1.0, 1, ""),
    };
    let delta = (now - before) * scale;
    let shown = format!("{:.*}", decimals, delta.abs());
    if shown.parse::<f64>().is_ok_and(|v| v == 0.0) {
        return "持平".into();
    }
    format!("{} {shown}{unit}", if delta > 0.0 { "↑" } else { "↓" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_with_direction_and_never_as_minus_zero() {
        assert_eq!(change(Some(12.0), Some(9.0), Measure::Count), "↑ 3");
        assert_eq!(change(Some(0.80), Some(0.825), Measure::Rate), "↓ 2.5个百分点");
        assert_eq!(change(Some(0.8), Some(0.80004), Measure::Rate), "持平");
        assert_eq!(change(Some(71.26), Some(71.3), Measure::Score), "持平");
        assert_eq!(change(Some(71.0), Some(70.0), Measure::Score), "↑ 1.0");
        assert_eq!(change(Some(5.0), Some(5.0), Measure::Count), "持平");
        assert_eq!(change(None, Some(1.0), Measure::Count), "—");
    }
}
