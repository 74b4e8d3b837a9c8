//! Satisfaction charts from the quarterly analysis: the trend of the satisfaction index
//! per community, the communities × quarters heatmap, and the four rating dimensions.

use std::collections::{BTreeMap, HashMap};

use plotters::prelude::DrawingBackend;
use warehouse::analyses::Figure::{
    self, AttitudeMean, CommunityCode, CommunityName, EffectMean, EfficiencyMean, Evaluations, Quarter, ResultMean,
    SatisfactionIndex, Year,
};
use warehouse::analyses::ReportKind;

use super::ChartError;
use super::canvas::{Align, Canvas, Fill, Hatch, Marker};
use super::data::{ChartData, Row, in_period, int, num, text, weighted_mean};
use super::page::{
    Axis, Header, LABEL_EM, LegendItem, Plot, Rect, Swatch, TICK_EM, draw_empty, draw_y_axis, fit, fit_labels,
    label_width, number, tick_width, titled,
};
use super::palette::{self, AVERAGE, BACKGROUND_LINE, GRID, INK, LINES, MUTED, NAVY, PALE, WHITE};

/// More communities than this are drawn as grey lines behind the average.
const DISTINCT_LINES: usize = 6;

const QUARTERS: [&str; 4] = ["一季度", "二季度", "三季度", "四季度"];

fn quarter_name(q: u32) -> &'static str {
    QUARTERS.get(q.saturating_sub(1) as usize).copied().unwrap_or("")
}

fn span_text(span: &[(i32, u32)]) -> String {
    match (span.first(), span.last()) {
        (Some(a), Some(b)) if a == b => format!("{}年第{}季度", a.0, a.1),
        (Some(a), Some(b)) => format!("{}年第{}季度—{}年第{}季度", a.0, a.1, b.0, b.1),
        _ => String::new(),
    }
}

/// The quarterly rows of the requested year and the year before.
fn quarterly_rows(data: &ChartData) -> Result<Vec<Row>, ChartError> {
    let mut rows = data.rows_if_any(ReportKind::Quarterly, data.request.year - 1);
    rows.extend(data.rows(ReportKind::Quarterly, data.request.year)?);
    Ok(rows)
}

/// The county rows to average over, for both years.
fn county_quarterly_rows(data: &ChartData) -> Option<Vec<Row>> {
    let mut rows = data.county_rows(ReportKind::Quarterly, data.request.year)?;
    rows.extend(data.county_rows(ReportKind::Quarterly, data.request.year - 1).unwrap_or_default());
    Some(rows)
}

/// Communities in code order: (code, name).
fn communities(rows: &[Row]) -> Vec<(String, String)> {
    let map: BTreeMap<String, String> =
        rows.iter().map(|r| (text(r, CommunityCode).to_string(), text(r, CommunityName).to_string())).collect();
    map.into_iter().collect()
}

/// `figure` per (community, year, quarter), for lookups in a grid of many communities.
fn by_quarter(rows: &[Row], figure: Figure) -> HashMap<(String, i64, i64), f64> {
    rows.iter()
        .filter_map(|r| {
            let at = (text(r, CommunityCode).to_string(), int(r, Year)?, int(r, Quarter)?);
            Some((at, num(r, figure)?))
        })
        .collect()
}

/// The community's values over the span; `None` where the quarter has no figure.
fn values_over(index: &HashMap<(String, i64, i64), f64>, community: &str, span: &[(i32, u32)]) -> Vec<Option<f64>> {
    span.iter().map(|(y, q)| index.get(&(community.to_string(), i64::from(*y), i64::from(*q))).copied()).collect()
}

const AVERAGE_NOTE: &str = "县平均 = 全县全部评价的满意度指数（即各社区按评价数加权）";

// ---------------------------------------------------------------------------------------
// satisfaction_trend

/// One line: a community's index per quarter of the span.
struct Line {
    label: String,
    values: Vec<Option<f64>>,
}

pub(crate) struct Trend {
    header: Header,
    span: Vec<(i32, u32)>,
    lines: Vec<Line>,
    average: Option<Vec<Option<f64>>>,
}

impl Trend {
    pub(crate) fn new(data: &ChartData) -> Result<Trend, ChartError> {
        let rows = quarterly_rows(data)?;
        let span = data.quarter_span(&rows, SatisfactionIndex);
        let index = by_quarter(&rows, SatisfactionIndex);
        let lines: Vec<Line> = communities(&rows)
            .into_iter()
            .map(|(code, name)| Line { label: name, values: values_over(&index, &code, &span) })
            .collect();
        let average = county_quarterly_rows(data).map(|county| {
            span.iter()
                .map(|(y, q)| {
                    weighted_mean(county.iter().filter(|r| in_period(r, *y, Some(*q))), SatisfactionIndex, Evaluations)
                })
                .collect::<Vec<_>>()
        });
        let header = Header {
            title: titled(if lines.len() == 1 { lines[0].label.as_str() } else { "各社区" }, "季度满意度指数趋势"),
            subtitle: format!("{}｜{}", span_text(&span), data.scope_text()),
            period: span_text(&span),
            legend: trend_legend(&lines, average.is_some()),
            definition: format!("{}；{AVERAGE_NOTE}；线段中断表示该季度无评价", SatisfactionIndex.definition()),
            provenance: data.provenance(ReportKind::Quarterly),
        };
        Ok(Trend { header, span, lines, average })
    }
}

fn trend_legend(lines: &[Line], has_average: bool) -> Vec<LegendItem> {
    let mut legend = Vec::new();
    if has_average {
        legend.push(LegendItem {
            label: "县平均".into(),
            swatch: Swatch::Line { color: AVERAGE, width: 3.0, marker: Some(Marker::Square), dashed: false },
        });
    }
    if lines.len() > DISTINCT_LINES {
        legend.push(LegendItem {
            label: format!("各社区（{} 个，灰线）", lines.len()),
            swatch: Swatch::Line { color: BACKGROUND_LINE, width: 1.0, marker: None, dashed: false },
        });
        return legend;
    }
    for (line, (color, marker, dashed)) in lines.iter().zip(LINES) {
        legend.push(LegendItem {
            label: fit(&line.label, 150.0, LABEL_EM),
            swatch: Swatch::Line { color, width: 1.6, marker: Some(marker), dashed },
        });
    }
    legend
}

impl Plot for Trend {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        let all = self.lines.iter().flat_map(|l| l.values.iter()).chain(self.average.iter().flatten()).flatten();
        let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
        if lo > hi || self.span.is_empty() {
            return draw_empty(canvas, plot, "所选期间没有评价，满意度指数为空");
        }
        let axis = Axis::nice((lo - 5.0).max(0.0), (hi + 5.0).min(100.0), 6);
        let x0 = plot.x0 + tick_width(&axis, number) + 8.0;
        let (top, bottom) = (plot.y0 + 18.0, plot.y1 - 30.0);
        let (left, right) = (x0 + 18.0, plot.x1 - 18.0);
        draw_y_axis(canvas, &axis, (x0, plot.x1), (top, bottom), number, "满意度指数（分，0–100）")?;
        let xs = positions(self.span.len(), left, right);
        draw_quarter_labels(canvas, &self.span, &xs, bottom)?;
        // A quarter without any figure says so, rather than leave the reader guessing.
        for (i, x) in xs.iter().enumerate() {
            let empty = self.lines.iter().all(|l| l.values[i].is_none())
                && self.average.as_ref().is_none_or(|a| a[i].is_none());
            if empty {
                canvas.text("本季度无评价", (*x, (top + bottom) / 2.0), TICK_EM, MUTED, Align::Center, false)?;
            }
        }
        let y_of = |v: f64| axis.map(v, bottom, top);
        let many = self.lines.len() > DISTINCT_LINES;
        for (i, line) in self.lines.iter().enumerate() {
            let (color, marker, dashed) =
                if many { (BACKGROUND_LINE, Marker::Circle, false) } else { LINES[i % LINES.len()] };
            let width = if many { 1.0 } else { 1.6 };
            draw_series(
                canvas,
                &line.values,
                &xs,
                &y_of,
                (color, width, dashed),
                (marker, if many { 3.0 } else { 6.0 }),
            )?;
        }
        if let Some(average) = &self.average {
            draw_series(canvas, average, &xs, &y_of, (AVERAGE, 3.0, false), (Marker::Square, 7.0))?;
            for (v, x) in average.iter().zip(&xs) {
                if let Some(v) = v {
                    canvas.label(&format!("{v:.1}"), (*x, y_of(*v) - 12.0), TICK_EM, AVERAGE, Align::Center, true)?;
                }
            }
        }
        Ok(())
    }
}

/// Evenly spaced x positions for `n` categories between `left` and `right`.
fn positions(n: usize, left: f64, right: f64) -> Vec<f64> {
    if n == 1 {
        return vec![(left + right) / 2.0];
    }
    (0..n).map(|i| left + (right - left) * i as f64 / (n - 1) as f64).collect()
}

/// Quarter names under the axis and each year once, centred under its quarters.
fn draw_quarter_labels<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    span: &[(i32, u32)],
    xs: &[f64],
    bottom: f64,
) -> Result<(), ChartError> {
    for ((_, q), x) in span.iter().zip(xs) {
        canvas.text(quarter_name(*q), (*x, bottom + 9.0), TICK_EM, MUTED, Align::Center, false)?;
    }
    let mut i = 0;
    while i < span.len() {
        let year = span[i].0;
        let j = span[i..].iter().position(|p| p.0 != year).map_or(span.len(), |k| i + k);
        let centre = (xs[i] + xs[j - 1]) / 2.0;
        canvas.text(&format!("{year}年"), (centre, bottom + 23.0), LABEL_EM, INK, Align::Center, false)?;
        i = j;
    }
    Ok(())
}

/// A line broken at nulls (a gap, never a zero); every point gets its marker, so a value
/// between two gaps still shows.
fn draw_series<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    values: &[Option<f64>],
    xs: &[f64],
    y_of: &impl Fn(f64) -> f64,
    (color, width, dashed): (plotters::style::RGBColor, f64, bool),
    (marker, size): (Marker, f64),
) -> Result<(), ChartError> {
    let mut run: Vec<(f64, f64)> = Vec::new();
    let flush = |run: &mut Vec<(f64, f64)>| -> Result<(), ChartError> {
        if run.len() > 1 {
            if dashed { canvas.dashed(run, color, width, 5.0)? } else { canvas.line(run, color, width)? }
        }
        run.clear();
        Ok(())
    };
    for (v, x) in values.iter().zip(xs) {
        match v {
            Some(v) => run.push((*x, y_of(*v))),
            None => flush(&mut run)?,
        }
    }
    flush(&mut run)?;
    for (v, x) in values.iter().zip(xs) {
        if let Some(v) = v {
            canvas.marker(marker, (*x, y_of(*v)), size, color, true)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// satisfaction_heatmap

/// A community's (name, code) and its index per quarter of the span.
type HeatRow = ((String, String), Vec<Option<f64>>);

pub(crate) struct Heatmap {
    header: Header,
    span: Vec<(i32, u32)>,
    /// (label, code) and the index per quarter, sorted by the latest quarter.
    rows: Vec<HeatRow>,
    range: (f64, f64),
}

impl Heatmap {
    pub(crate) fn new(data: &ChartData) -> Result<Heatmap, ChartError> {
        let rows = quarterly_rows(data)?;
        let span = data.quarter_span(&rows, SatisfactionIndex);
        let index = by_quarter(&rows, SatisfactionIndex);
        let mut grid: Vec<HeatRow> = communities(&rows)
            .into_iter()
            .map(|(code, name)| {
                let values = values_over(&index, &code, &span);
                ((name, code), values)
            })
            .collect();
        // Best first by the latest quarter; communities without it last, by code.
        grid.sort_by(|a, b| {
            let last = |v: &Vec<Option<f64>>| v.last().copied().flatten();
            last(&b.1).partial_cmp(&last(&a.1)).unwrap_or(std::cmp::Ordering::Equal)
        });
        grid.sort_by_key(|(_, v)| v.last().copied().flatten().is_none());
        let values: Vec<f64> = grid.iter().flat_map(|(_, v)| v.iter().flatten().copied()).collect();
        let lo = values.iter().copied().fold(f64::MAX, f64::min);
        let hi = values.iter().copied().fold(f64::MIN, f64::max);
        let range = if lo <= hi {
            ((lo / 10.0).floor() * 10.0, ((hi / 10.0).ceil() * 10.0).max(lo + 10.0))
        } else {
            (0.0, 100.0)
        };
        let header = Header {
            title: "各社区季度满意度指数热力图".into(),
            subtitle: format!("{}｜{}｜按最近一季度从高到低排列", span_text(&span), data.scope_text()),
            period: span_text(&span),
            legend: heat_legend(range),
            definition: format!(
                "{}；颜色越深指数越高，格内为指数值；“—”表示该季度无评价",
                SatisfactionIndex.definition()
            ),
            provenance: data.provenance(ReportKind::Quarterly),
        };
        Ok(Heatmap { header, span, rows: grid, range })
    }
}

fn heat_legend((lo, hi): (f64, f64)) -> Vec<LegendItem> {
    let mut legend: Vec<LegendItem> = (0..5)
        .map(|i| {
            let a = lo + (hi - lo) * f64::from(i) / 5.0;
            let b = lo + (hi - lo) * f64::from(i + 1) / 5.0;
            let t = (f64::from(i) + 0.5) / 5.0;
            LegendItem { label: format!("{a:.0}–{b:.0}"), swatch: Swatch::Fill(Fill::solid(palette::sequential(t))) }
        })
        .collect();
    legend.push(LegendItem {
        label: "无评价".into(),
        swatch: Swatch::Fill(Fill::hatched(WHITE, Hatch::Up).outlined(GRID)),
    });
    legend
}

impl Plot for Heatmap {
    fn header(&self) -> &Header {
        &self.header
    }
    fn rows(&self) -> usize {
        self.rows.len()
    }
    fn row_pitch(&self) -> (f64, f64) {
        (20.0, 12.0)
    }
    fn plot_chrome(&self) -> f64 {
        44.0
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        if self.rows.is_empty() || self.span.is_empty() {
            return draw_empty(canvas, plot, "范围内没有社区数据");
        }
        let labels: Vec<(String, String)> = self.rows.iter().map(|(l, _)| l.clone()).collect();
        let em = label_em(plot.height() - 40.0, labels.len());
        let lw = label_width(&labels, em, plot, 0.34);
        let shown = fit_labels(&labels, lw, em);
        let (x0, top, bottom) = (plot.x0 + lw + 8.0, plot.y0 + 36.0, plot.y1);
        let cell_w = (plot.x1 - x0) / self.span.len() as f64;
        let cell_h = (bottom - top) / self.rows.len() as f64;
        draw_column_heads(canvas, &self.span, x0, cell_w, plot.y0)?;
        for (i, ((_, values), label)) in self.rows.iter().zip(&shown).enumerate() {
            let y = top + cell_h * i as f64;
            canvas.text(label, (x0 - 6.0, y + cell_h / 2.0), em, INK, Align::Right, false)?;
            for (j, v) in values.iter().enumerate() {
                let x = x0 + cell_w * j as f64;
                self.draw_cell(canvas, (x, y), (cell_w, cell_h), *v, em)?;
            }
        }
        Ok(())
    }
}

impl Heatmap {
    fn draw_cell<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        (x, y): (f64, f64),
        (w, h): (f64, f64),
        value: Option<f64>,
        em: f64,
    ) -> Result<(), ChartError> {
        let (a, b) = ((x + 0.5, y + 0.5), (x + w - 0.5, y + h - 0.5));
        let centre = (x + w / 2.0, y + h / 2.0);
        match value {
            Some(v) => {
                let shade = palette::sequential((v - self.range.0) / (self.range.1 - self.range.0));
                canvas.rect(a, b, Fill::solid(shade))?;
                if h >= 9.0 {
                    let ink = if palette::is_dark(shade) { WHITE } else { INK };
                    canvas.text(&format!("{v:.1}"), centre, em.min(TICK_EM), ink, Align::Center, false)?;
                }
                Ok(())
            }
            None => {
                canvas.rect(a, b, Fill::hatched(WHITE, Hatch::Up).outlined(GRID))?;
                if h >= 9.0 { canvas.text("—", centre, em.min(TICK_EM), MUTED, Align::Center, false) } else { Ok(()) }
            }
        }
    }
}

/// Label size for `n` rows in `height`: the usual size, smaller when rows are thin.
fn label_em(height: f64, n: usize) -> f64 {
    let pitch = height / n.max(1) as f64;
    (pitch * 0.75).clamp(7.5, LABEL_EM)
}

fn draw_column_heads<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    span: &[(i32, u32)],
    x0: f64,
    cell_w: f64,
    y: f64,
) -> Result<(), ChartError> {
    for (j, (year, q)) in span.iter().enumerate() {
        let x = x0 + cell_w * (j as f64 + 0.5);
        canvas.text(&format!("{year}年"), (x, y + 8.0), TICK_EM, MUTED, Align::Center, false)?;
        canvas.text(quarter_name(*q), (x, y + 23.0), TICK_EM, INK, Align::Center, false)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// dimensions

/// The four rating dimensions' means and the dimension's name.
const DIMENSIONS: [(Figure, &str); 4] =
    [(AttitudeMean, "态度"), (EfficiencyMean, "效率"), (ResultMean, "结果"), (EffectMean, "效果")];

pub(crate) struct Dimensions {
    header: Header,
    /// The subject's mean per dimension.
    subject: [Option<f64>; 4],
    /// The county average per dimension (a community account's comparison).
    average: Option<[Option<f64>; 4]>,
    /// The lowest and highest community mean per dimension (county and platform scope).
    range: Option<[Option<(f64, f64)>; 4]>,
}

impl Dimensions {
    pub(crate) fn new(data: &ChartData) -> Result<Dimensions, ChartError> {
        let (year, quarter) = (data.request.year, data.request.quarter);
        let rows: Vec<Row> =
            data.rows(ReportKind::Quarterly, year)?.into_iter().filter(|r| in_period(r, year, quarter)).collect();
        let means = |rows: &[Row]| DIMENSIONS.map(|(mean, _)| weighted_mean(rows, mean, Evaluations));
        let subject = means(&rows);
        let community = matches!(data.scope, ingest::Scope::Community(_));
        let average = community.then(|| data.county_rows(ReportKind::Quarterly, year)).flatten().map(|county| {
            let county: Vec<Row> = county.into_iter().filter(|r| in_period(r, year, quarter)).collect();
            means(&county)
        });
        let range = (!community).then(|| DIMENSIONS.map(|(mean, _)| community_range(&rows, mean)));
        let subject_label =
            if community { "本社区".to_string() } else { "全县（按评价数加权）".to_string() };
        let header = Header {
            title: titled(&data.scope_file_name(), "评价四维度均分"),
            subtitle: format!("{}｜{}", data.request.period_text(), data.scope_text()),
            period: data.request.period_text(),
            legend: dimension_legend(&subject_label, average.is_some(), range.is_some()),
            definition: format!(
                "态度、效率、结果、效果均分 = 期内评价该维度分（1–5 分）的平均，无评价时为空；{}",
                if community {
                    "县平均 = 全县全部评价的均分（各社区按评价数加权）"
                } else {
                    "全县值按评价数加权；竖线为各社区均分的最低–最高"
                }
            ),
            provenance: data.provenance(ReportKind::Quarterly),
        };
        Ok(Dimensions { header, subject, average, range })
    }
}

/// Each community's period mean of `mean`, then the lowest and highest of them.
fn community_range(rows: &[Row], mean: Figure) -> Option<(f64, f64)> {
    let mut by_community: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
    for r in rows {
        by_community.entry(text(r, CommunityCode)).or_default().push(r.clone());
    }
    let means: Vec<f64> = by_community.values().filter_map(|rs| weighted_mean(rs, mean, Evaluations)).collect();
    let lo = means.iter().copied().fold(f64::MAX, f64::min);
    let hi = means.iter().copied().fold(f64::MIN, f64::max);
    (lo <= hi).then_some((lo, hi))
}

fn dimension_legend(subject: &str, average: bool, range: bool) -> Vec<LegendItem> {
    let mut legend = vec![LegendItem { label: subject.to_string(), swatch: Swatch::Fill(Fill::solid(NAVY)) }];
    if average {
        legend.push(LegendItem {
            label: "县平均".into(),
            swatch: Swatch::Fill(Fill::hatched(PALE, Hatch::Up).outlined(NAVY)),
        });
    }
    if range {
        legend.push(LegendItem {
            label: "各社区最低–最高".into(),
            swatch: Swatch::Line { color: INK, width: 1.2, marker: None, dashed: false },
        });
    }
    legend
}

impl Plot for Dimensions {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        if self.subject.iter().all(Option::is_none) {
            return draw_empty(canvas, plot, "本期没有评价，四个维度的均分为空");
        }
        let axis = Axis::fixed(0.0, 5.0, 1.0);
        let x0 = plot.x0 + tick_width(&axis, number) + 8.0;
        let (top, bottom) = (plot.y0 + 18.0, plot.y1 - 22.0);
        draw_y_axis(canvas, &axis, (x0, plot.x1), (top, bottom), number, "均分（1–5 分）")?;
        let group_w = (plot.x1 - x0) / 4.0;
        let bars = if self.average.is_some() { 2.0 } else { 1.0 };
        let bar_w = (group_w * 0.6 / bars).min(56.0);
        let y_of = |v: f64| axis.map(v, bottom, top);
        for (i, (_, name)) in DIMENSIONS.iter().enumerate() {
            let centre = x0 + group_w * (i as f64 + 0.5);
            canvas.text(name, (centre, bottom + 11.0), LABEL_EM, INK, Align::Center, false)?;
            let first = centre - bar_w * bars / 2.0;
            self.bar(canvas, self.subject[i], first, bar_w, Fill::solid(NAVY), &y_of, bottom)?;
            if let Some(average) = &self.average {
                let fill = Fill::hatched(PALE, Hatch::Up).outlined(NAVY);
                self.bar(canvas, average[i], first + bar_w, bar_w, fill, &y_of, bottom)?;
            }
            if let Some(Some((lo, hi))) = self.range.as_ref().map(|r| r[i]) {
                let x = centre + bar_w * 0.5 + 8.0;
                canvas.line(&[(x, y_of(lo)), (x, y_of(hi))], INK, 1.2)?;
                canvas.line(&[(x - 3.0, y_of(lo)), (x + 3.0, y_of(lo))], INK, 1.2)?;
                canvas.line(&[(x - 3.0, y_of(hi)), (x + 3.0, y_of(hi))], INK, 1.2)?;
            }
        }
        Ok(())
    }
}

impl Dimensions {
    #[allow(clippy::too_many_arguments)]
    fn bar<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        value: Option<f64>,
        x: f64,
        w: f64,
        fill: Fill,
        y_of: &impl Fn(f64) -> f64,
        bottom: f64,
    ) -> Result<(), ChartError> {
        match value {
            Some(v) => {
                canvas.rect((x + 1.0, y_of(v)), (x + w - 1.0, bottom), fill)?;
                canvas.text(&format!("{v:.2}"), (x + w / 2.0, y_of(v) - 8.0), TICK_EM, INK, Align::Center, false)
            }
            None => canvas.text("—", (x + w / 2.0, bottom - 8.0), TICK_EM, MUTED, Align::Center, false),
        }
    }
}
