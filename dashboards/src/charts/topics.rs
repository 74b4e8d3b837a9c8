//! What residents raise: topics by category per quarter (stacked bars) and topics by
//! source channel (sorted bars with shares), from the quarterly breakdowns.

use plotters::prelude::DrawingBackend;
use warehouse::analyses::{Figure, ReportKind};

use super::ChartError;
use super::canvas::{Align, Canvas, Fill};
use super::data::{ChartData, Row, in_period, int, text};
use super::page::{
    Axis, Header, LABEL_EM, LegendItem, Plot, Rect, Swatch, TICK_EM, draw_empty, draw_x_axis, draw_y_axis, measure,
    number, tick_width,
};
use super::palette::{INK, NAVY, NINE, WHITE};
use ingest::schema::{CATEGORY, CHANNEL, Enumeration};

/// Topics raised per group token, summed over the rows (communities) of a period.
fn totals(rows: &[Row], group: Figure, enumeration: &Enumeration) -> Vec<u64> {
    enumeration
        .values
        .iter()
        .map(|(_, token)| {
            rows.iter()
                .filter(|r| text(r, group) == *token)
                .filter_map(|r| int(r, Figure::TopicsRaised))
                .map(|n| n.max(0) as u64)
                .sum()
        })
        .collect()
}

const TOPICS_DEFINITION: &str =
    "议题数 = 期内提出的议题（按提出日期归属季度），按议题登记的类别或来源渠道归类，范围内各社区合计";

// ---------------------------------------------------------------------------------------
// topics_by_category

pub(crate) struct ByCategory {
    header: Header,
    /// Quarter and the topics per category (in contract order).
    stacks: Vec<(u32, Vec<u64>)>,
}

impl ByCategory {
    pub(crate) fn new(data: &ChartData) -> Result<ByCategory, ChartError> {
        let year = data.request.year;
        let rows = data.rows(ReportKind::QuarterlyByCategory, year)?;
        let last = data.request.quarter.unwrap_or(4);
        let stacks: Vec<(u32, Vec<u64>)> = (1..=last)
            .map(|q| {
                let period: Vec<Row> = rows.iter().filter(|r| in_period(r, year, Some(q))).cloned().collect();
                (q, totals(&period, Figure::Category, &CATEGORY))
            })
            .collect();
        let used: Vec<bool> = (0..CATEGORY.values.len()).map(|i| stacks.iter().any(|(_, s)| s[i] > 0)).collect();
        let legend = CATEGORY
            .values
            .iter()
            .zip(NINE)
            .zip(&used)
            .filter(|(_, used)| **used)
            .map(|(((name, _), fill), _)| LegendItem { label: (*name).to_string(), swatch: Swatch::Fill(fill) })
            .collect();
        let period = if last == 4 { format!("{year}年各季度") } else { format!("{year}年第1—{last}季度") };
        let header = Header {
            title: "各季度议题数（按议题类别）".into(),
            subtitle: format!("{period}｜{}", data.scope_text()),
            period,
            legend,
            definition: format!("{TOPICS_DEFINITION}；柱内数字为该类别议题数，柱顶为合计"),
            provenance: data.provenance(ReportKind::QuarterlyByCategory),
        };
        Ok(ByCategory { header, stacks })
    }
}

impl Plot for ByCategory {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        let max = self.stacks.iter().map(|(_, s)| s.iter().sum::<u64>()).max().unwrap_or(0);
        if max == 0 {
            return draw_empty(canvas, plot, "所选期间没有议题");
        }
        let axis = Axis::nice(0.0, max as f64 * 1.08, 6);
        let x0 = plot.x0 + tick_width(&axis, number) + 8.0;
        let (top, bottom) = (plot.y0 + 18.0, plot.y1 - 22.0);
        draw_y_axis(canvas, &axis, (x0, plot.x1), (top, bottom), number, &Figure::TopicsRaised.with_unit())?;
        let slot = (plot.x1 - x0) / self.stacks.len() as f64;
        let bar_w = (slot * 0.55).min(90.0);
        let y_of = |v: f64| axis.map(v, bottom, top);
        for (i, (q, stack)) in self.stacks.iter().enumerate() {
            let centre = x0 + slot * (i as f64 + 0.5);
            let (left, right) = (centre - bar_w / 2.0, centre + bar_w / 2.0);
            canvas.text(&format!("第{q}季度"), (centre, bottom + 11.0), LABEL_EM, INK, Align::Center, false)?;
            let mut base = 0u64;
            for (n, fill) in stack.iter().zip(NINE) {
                if *n == 0 {
                    continue;
                }
                let (y1, y0) = (y_of(base as f64), y_of((base + n) as f64));
                canvas.rect((left, y0), (right, y1), fill)?;
                segment_label(canvas, *n, (centre, (y0 + y1) / 2.0), y1 - y0, bar_w)?;
                base += n;
            }
            let total = format!("{base}");
            canvas.text(&total, (centre, y_of(base as f64) - 8.0), TICK_EM, INK, Align::Center, true)?;
        }
        Ok(())
    }
}

/// The count inside a stack segment, when the segment is tall enough to hold it.
fn segment_label<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    n: u64,
    at: (f64, f64),
    height: f64,
    width: f64,
) -> Result<(), ChartError> {
    let label = n.to_string();
    if height < 11.0 || measure(&label, TICK_EM) > width - 4.0 {
        return Ok(());
    }
    // Text sits on a white chip so it reads on hatched and dark fills alike.
    let w = measure(&label, TICK_EM) + 4.0;
    canvas.rect((at.0 - w / 2.0, at.1 - 6.0), (at.0 + w / 2.0, at.1 + 6.0), Fill::solid(WHITE))?;
    canvas.text(&label, at, TICK_EM, INK, Align::Center, false)
}

// ---------------------------------------------------------------------------------------
// topics_by_channel

pub(crate) struct ByChannel {
    header: Header,
    /// Channel name and topics, most first.
    bars: Vec<(&'static str, u64)>,
}

impl ByChannel {
    pub(crate) fn new(data: &ChartData) -> Result<ByChannel, ChartError> {
        let (year, quarter) = (data.request.year, data.request.quarter);
        let rows: Vec<Row> = data
            .rows(ReportKind::QuarterlyByChannel, year)?
            .into_iter()
            .filter(|r| in_period(r, year, quarter))
            .collect();
        let counts = totals(&rows, Figure::Channel, &CHANNEL);
        let mut bars: Vec<(&'static str, u64)> = CHANNEL.values.iter().map(|(name, _)| *name).zip(counts).collect();
        bars.sort_by_key(|b| std::cmp::Reverse(b.1));
        let period = data.request.period_text();
        let header = Header {
            title: "议题来源渠道分布".into(),
            subtitle: format!("{period}｜{}｜按议题数从多到少排列", data.scope_text()),
            period,
            legend: vec![LegendItem {
                label: "议题数（括号内为占比）".into(),
                swatch: Swatch::Fill(Fill::solid(NAVY)),
            }],
            definition: format!("{TOPICS_DEFINITION}；占比 = 该渠道议题数 ÷ 全部渠道议题数"),
            provenance: data.provenance(ReportKind::QuarterlyByChannel),
        };
        Ok(ByChannel { header, bars })
    }
}

impl Plot for ByChannel {
    fn header(&self) -> &Header {
        &self.header
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        let total: u64 = self.bars.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return draw_empty(canvas, plot, "所选期间没有议题");
        }
        let max = self.bars.first().map_or(0, |b| b.1);
        let axis = Axis::nice(0.0, max as f64 * 1.05, 6);
        let lw = self.bars.iter().map(|(name, _)| measure(name, LABEL_EM)).fold(0.0, f64::max);
        let (x0, x1) = (plot.x0 + lw + 10.0, plot.x1 - 90.0);
        let (top, bottom) = (plot.y0 + 4.0, plot.y1 - 36.0);
        draw_x_axis(canvas, &axis, (x0, x1), (top, bottom), number, &Figure::TopicsRaised.with_unit())?;
        let pitch = (bottom - top) / self.bars.len() as f64;
        for (i, (name, n)) in self.bars.iter().enumerate() {
            let y = top + pitch * i as f64;
            let centre = y + pitch / 2.0;
            canvas.text(name, (x0 - 6.0, centre), LABEL_EM, INK, Align::Right, false)?;
            let x = axis.map(*n as f64, x0, x1);
            if *n > 0 {
                canvas.rect((x0, y + pitch * 0.18), (x, y + pitch * 0.82), Fill::solid(NAVY))?;
            }
            let share = *n as f64 / total as f64 * 100.0;
            canvas.text(&format!("{n}（{share:.1}%）"), (x + 4.0, centre), TICK_EM, INK, Align::Left, false)?;
        }
        Ok(())
    }
}
