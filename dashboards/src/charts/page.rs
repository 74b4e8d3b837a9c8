//! The page every chart sits on: title, subtitle, legend, the plot, and the footnotes (口径
//! and provenance); plus the pieces plots share — value axes with nice ticks, the row
//! labels that must never overlap, the empty-period message. The chart files build on
//! this one; it knows none of them (any [`Plot`] is drawn the same way).

use plotters::prelude::DrawingBackend;

use super::ChartError;
use super::canvas::{Align, Canvas, Fill, Marker};
use super::palette::{AXIS, GRID, INK, MUTED};
use crate::fonts;

pub(crate) const MARGIN: f64 = 18.0;
pub(crate) const TITLE_EM: f64 = 16.0;
pub(crate) const SUBTITLE_EM: f64 = 11.0;
pub(crate) const LABEL_EM: f64 = 10.5;
pub(crate) const TICK_EM: f64 = 9.5;
pub(crate) const FOOT_EM: f64 = 8.5;
const LEGEND_ROW: f64 = 17.0;
const FOOT_LINE: f64 = 12.5;
/// The default page height; charts with many rows grow beyond it.
pub(crate) const DEFAULT_HEIGHT: f64 = 400.0;
/// An A4 page's text height in the official layout (225 mm) in logical pixels: row charts
/// squeeze their rows to stay on one page until a row would be too thin to read.
const PAGE_HEIGHT: f64 = 850.0;

/// A rectangle in logical pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x0: f64,
    pub(crate) y0: f64,
    pub(crate) x1: f64,
    pub(crate) y1: f64,
}

impl Rect {
    pub(crate) fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    pub(crate) fn height(&self) -> f64 {
        self.y1 - self.y0
    }
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Swatch {
    Fill(Fill),
    Line { color: plotters::style::RGBColor, width: f64, marker: Option<Marker>, dashed: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendItem {
    pub(crate) label: String,
    pub(crate) swatch: Swatch,
}

/// The text around a plot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Header {
    pub(crate) title: String,
    /// The period the figures cover, as the subtitle and the pack's file name state it.
    pub(crate) period: String,
    /// Period and scope.
    pub(crate) subtitle: String,
    pub(crate) legend: Vec<LegendItem>,
    /// How the figure is defined (口径), from its [`warehouse::analyses::Figure::definition`].
    pub(crate) definition: String,
    /// Scheme, data version and generation time.
    pub(crate) provenance: String,
}

/// What a chart draws inside the page.
pub(crate) trait Plot {
    fn header(&self) -> &Header;
    /// Rows of labels the plot lists (communities, cadres); 0 for a fixed-height plot.
    fn rows(&self) -> usize {
        0
    }
    /// Logical pixels a row would like, and the least it can do with.
    fn row_pitch(&self) -> (f64, f64) {
        (16.0, 11.0)
    }
    /// Space the plot needs above and below its rows (axes, tick labels).
    fn plot_chrome(&self) -> f64 {
        40.0
    }
    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError>;
}

/// The height that fits the plot's rows: the default page, squeezed rows up to an A4
/// page, then taller (a 200-community ranking is a long picture, not a blur).
pub(crate) fn auto_height<P: Plot>(plot: &P, width: f64) -> f64 {
    let chrome = header_height(plot.header(), width) + footer_height(plot.header(), width) + plot.plot_chrome();
    let rows = plot.rows() as f64;
    let (wanted, least) = plot.row_pitch();
    if rows == 0.0 {
        return DEFAULT_HEIGHT;
    }
    let comfortable = chrome + rows * wanted;
    if comfortable <= PAGE_HEIGHT {
        return comfortable.max(DEFAULT_HEIGHT).ceil();
    }
    (chrome + rows * least).max(PAGE_HEIGHT).ceil()
}

/// Draws the page: title, subtitle, legend, footnotes, and the plot in the room left.
pub(crate) fn draw_page<P: Plot, DB: DrawingBackend>(plot: &P, canvas: &Canvas<DB>) -> Result<(), ChartError> {
    let header = plot.header();
    let width = canvas.width;
    let room = width - 2.0 * MARGIN;
    let mut y = MARGIN + TITLE_EM * 0.5;
    // Bold is overprinted a little to the right: leave it room.
    canvas.text(&fit(&header.title, room - 2.0, TITLE_EM), (MARGIN, y), TITLE_EM, INK, Align::Left, true)?;
    y += TITLE_EM * 0.5 + 6.0 + SUBTITLE_EM * 0.5;
    canvas.text(&fit(&header.subtitle, room, SUBTITLE_EM), (MARGIN, y), SUBTITLE_EM, MUTED, Align::Left, false)?;
    y += SUBTITLE_EM * 0.5 + 8.0;
    y = draw_legend(canvas, &header.legend, y, width)?;
    let footer = footer_lines(header, width);
    let footer_top = canvas.height - MARGIN * 0.7 - footer.len() as f64 * FOOT_LINE;
    let rule = footer_top - 4.0;
    canvas.line(&[(MARGIN, rule), (width - MARGIN, rule)], GRID, 0.6)?;
    for (i, line) in footer.iter().enumerate() {
        let ly = footer_top + FOOT_LINE * (i as f64 + 0.5);
        canvas.text(line, (MARGIN, ly), FOOT_EM, MUTED, Align::Left, false)?;
    }
    let plot_rect = Rect { x0: MARGIN, y0: y + 4.0, x1: width - MARGIN, y1: rule - 8.0 };
    plot.draw_plot(canvas, plot_rect)
}

fn header_height(header: &Header, width: f64) -> f64 {
    MARGIN + TITLE_EM + 6.0 + SUBTITLE_EM + 8.0 + legend_rows(&header.legend, width) as f64 * LEGEND_ROW + 4.0
}

fn footer_height(header: &Header, width: f64) -> f64 {
    footer_lines(header, width).len() as f64 * FOOT_LINE + MARGIN * 0.7 + 12.0
}

fn footer_lines(header: &Header, width: f64) -> Vec<String> {
    let max = width - 2.0 * MARGIN;
    let mut lines = wrap(&format!("口径：{}", header.definition), max, FOOT_EM);
    lines.extend(wrap(&header.provenance, max, FOOT_EM));
    lines
}

const SWATCH_W: f64 = 16.0;
const SWATCH_GAP: f64 = 5.0;
const ITEM_GAP: f64 = 14.0;

fn legend_item_width(item: &LegendItem) -> f64 {
    SWATCH_W + SWATCH_GAP + measure(&item.label, LABEL_EM) + ITEM_GAP
}

fn legend_rows(items: &[LegendItem], width: f64) -> usize {
    if items.is_empty() {
        return 0;
    }
    let (mut rows, mut x) = (1, 0.0);
    for item in items {
        let w = legend_item_width(item);
        if x > 0.0 && x + w > width - 2.0 * MARGIN {
            rows += 1;
            x = 0.0;
        }
        x += w;
    }
    rows
}

/// Draws the legend from `y` down, wrapping at the page width; returns the y below it.
fn draw_legend<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    items: &[LegendItem],
    y: f64,
    width: f64,
) -> Result<f64, ChartError> {
    if items.is_empty() {
        return Ok(y);
    }
    let (mut x, mut row_y) = (MARGIN, y + LEGEND_ROW * 0.5);
    for item in items {
        let w = legend_item_width(item);
        if x > MARGIN && x + w > width - MARGIN {
            x = MARGIN;
            row_y += LEGEND_ROW;
        }
        draw_swatch(canvas, &item.swatch, x, row_y)?;
        canvas.text(&item.label, (x + SWATCH_W + SWATCH_GAP, row_y), LABEL_EM, INK, Align::Left, false)?;
        x += w;
    }
    Ok(row_y + LEGEND_ROW * 0.5)
}

fn draw_swatch<DB: DrawingBackend>(canvas: &Canvas<DB>, swatch: &Swatch, x: f64, y: f64) -> Result<(), ChartError> {
    match swatch {
        Swatch::Fill(fill) => canvas.rect((x, y - 5.0), (x + SWATCH_W, y + 5.0), *fill),
        Swatch::Line { color, width, marker, dashed } => {
            let points = [(x, y), (x + SWATCH_W, y)];
            if *dashed {
                canvas.dashed(&points, *color, *width, 4.0)?;
            } else {
                canvas.line(&points, *color, *width)?;
            }
            match marker {
                Some(m) => canvas.marker(*m, (x + SWATCH_W / 2.0, y), 6.0, *color, true),
                None => Ok(()),
            }
        }
    }
}

/// A title about `subject` that keeps what it shows: a long subject is cut, not the rest.
pub(crate) fn titled(subject: &str, what: &str) -> String {
    const MOST: usize = 14;
    if subject.chars().count() <= MOST {
        return format!("{subject}{what}");
    }
    let head: String = subject.chars().take(MOST - 1).collect();
    format!("{head}…{what}")
}

/// Width of `text` at `em` logical pixels per em (the canvas's measure, without a canvas).
pub(crate) fn measure(text: &str, em: f64) -> f64 {
    fonts::text_width(text, em / fonts::em_per_size())
}

/// Greedy line breaking by width; 汉字 may break anywhere, so no word logic is needed
/// beyond keeping a closing punctuation mark on its line.
pub(crate) fn wrap(text: &str, max_width: f64, em: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let candidate = format!("{line}{c}");
        let closing = "，。；：、）」』】％%".contains(c);
        if !line.is_empty() && !closing && measure(&candidate, em) > max_width {
            lines.push(std::mem::take(&mut line));
            line.push(c);
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut to `max_width` with "…" when it does not fit.
pub(crate) fn fit(text: &str, max_width: f64, em: f64) -> String {
    if measure(text, em) <= max_width {
        return text.to_string();
    }
    let mut kept = String::new();
    for c in text.chars() {
        let next = format!("{kept}{c}…");
        if measure(&next, em) > max_width {
            break;
        }
        kept.push(c);
    }
    format!("{kept}…")
}

/// Row labels cut to `max_width`; labels that become equal after cutting get the tail of
/// their key (the community code) so two communities never share a label.
pub(crate) fn fit_labels(labels: &[(String, String)], max_width: f64, em: f64) -> Vec<String> {
    let fitted: Vec<String> = labels.iter().map(|(text, _)| fit(text, max_width, em)).collect();
    fitted
        .iter()
        .zip(labels)
        .map(|(shown, (text, key))| {
            let clash = fitted.iter().filter(|other| *other == shown).count() > 1;
            if !clash {
                return shown.clone();
            }
            let tail: String = key.chars().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect();
            let suffix = format!("·{tail}");
            format!("{}{suffix}", fit(text, max_width - measure(&suffix, em), em))
        })
        .collect()
}

/// The widest label, capped at a share of the page so the bars keep their room.
pub(crate) fn label_width(labels: &[(String, String)], em: f64, page: Rect, share: f64) -> f64 {
    let widest = labels.iter().map(|(t, _)| measure(t, em)).fold(0.0, f64::max);
    widest.min(page.width() * share).max(40.0)
}

/// A linear value axis.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    pub(crate) lo: f64,
    pub(crate) hi: f64,
    pub(crate) ticks: Vec<f64>,
}

impl Axis {
    /// An axis over `lo..hi` with ticks at 1, 2, 2.5 or 5 × 10ⁿ, extended to whole ticks.
    pub(crate) fn nice(lo: f64, hi: f64, max_ticks: usize) -> Axis {
        let hi = if hi <= lo { lo + 1.0 } else { hi };
        let raw = (hi - lo) / max_ticks.max(2) as f64;
        let magnitude = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * magnitude).find(|s| *s >= raw).unwrap_or(raw);
        let lo = (lo / step).floor() * step;
        let hi = (hi / step).ceil() * step;
        let count = ((hi - lo) / step).round() as usize;
        let ticks = (0..=count).map(|i| lo + step * i as f64).collect();
        Axis { lo, hi, ticks }
    }

    /// An axis with fixed bounds and ticks every `step`.
    pub(crate) fn fixed(lo: f64, hi: f64, step: f64) -> Axis {
        let count = ((hi - lo) / step).round() as usize;
        Axis { lo, hi, ticks: (0..=count).map(|i| lo + step * i as f64).collect() }
    }

    /// `v` mapped onto `a..b` (pixels), clamped to the axis.
    pub(crate) fn map(&self, v: f64, a: f64, b: f64) -> f64 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        a + (b - a) * t
    }
}

/// Vertical grid lines and tick labels under a horizontal value axis spanning `x0..x1`,
/// with the axis title centred below them.
pub(crate) fn draw_x_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    axis: &Axis,
    (x0, x1): (f64, f64),
    (top, bottom): (f64, f64),
    format: impl Fn(f64) -> String,
    title: &str,
) -> Result<(), ChartError> {
    for t in &axis.ticks {
        let x = axis.map(*t, x0, x1);
        canvas.line(&[(x, top), (x, bottom)], GRID, 0.6)?;
        canvas.text(&format(*t), (x, bottom + 9.0), TICK_EM, MUTED, Align::Center, false)?;
    }
    canvas.line(&[(x0, bottom), (x1, bottom)], AXIS, 0.8)?;
    canvas.text(title, ((x0 + x1) / 2.0, bottom + 24.0), LABEL_EM, INK, Align::Center, false)
}

/// Horizontal grid lines and tick labels left of `x0` for a vertical value axis spanning
/// `top..bottom`, with the axis title above the labels (horizontal text prints cleaner
/// than rotated text).
pub(crate) fn draw_y_axis<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    axis: &Axis,
    (x0, x1): (f64, f64),
    (top, bottom): (f64, f64),
    format: impl Fn(f64) -> String,
    title: &str,
) -> Result<(), ChartError> {
    for t in &axis.ticks {
        let y = axis.map(*t, bottom, top);
        canvas.line(&[(x0, y), (x1, y)], GRID, 0.6)?;
        canvas.text(&format(*t), (x0 - 5.0, y), TICK_EM, MUTED, Align::Right, false)?;
    }
    canvas.line(&[(x0, top), (x0, bottom)], AXIS, 0.8)?;
    canvas.line(&[(x0, bottom), (x1, bottom)], AXIS, 0.8)?;
    canvas.text(title, (MARGIN, top - 12.0), LABEL_EM, INK, Align::Left, false)
}

/// The width tick labels of `axis` need.
pub(crate) fn tick_width(axis: &Axis, format: impl Fn(f64) -> String) -> f64 {
    axis.ticks.iter().map(|t| measure(&format(*t), TICK_EM)).fold(0.0, f64::max)
}

/// The message a plot shows instead of bars when its period has no data.
pub(crate) fn draw_empty<DB: DrawingBackend>(canvas: &Canvas<DB>, plot: Rect, message: &str) -> Result<(), ChartError> {
    let fill = Fill::solid(plotters::style::RGBColor(247, 247, 247)).outlined(GRID);
    canvas.rect((plot.x0, plot.y0), (plot.x1, plot.y1), fill)?;
    canvas.text(
        message,
        ((plot.x0 + plot.x1) / 2.0, (plot.y0 + plot.y1) / 2.0),
        SUBTITLE_EM,
        MUTED,
        Align::Center,
        false,
    )
}

/// A percent for tick labels and bar ends: "85%", "92.5%".
pub(crate) fn percent(v: f64) -> String {
    let p = v * 100.0;
    if (p - p.round()).abs() < 0.05 { format!("{:.0}%", p) } else { format!("{p:.1}%") }
}

/// A plain number for ticks: "80", "2.5".
pub(crate) fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 { format!("{:.0}", v) } else { format!("{v:.1}") }
}
