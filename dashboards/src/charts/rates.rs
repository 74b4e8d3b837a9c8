//! Completion, on-time and publicity rates by community: grouped horizontal bars (names
//! on the left read without turning the page), sorted by completion rate; of more than 40
//! communities the first and last 20.

use plotters::prelude::DrawingBackend;
use warehouse::analyses::{Figure, ReportKind};

use super::ChartError;
use super::canvas::{Align, Canvas};
use super::data::{ChartData, Row, in_period, num, text};
use super::page::{
    Axis, Header, LegendItem, Plot, Rect, Swatch, TICK_EM, draw_empty, draw_x_axis, fit_labels, label_width, percent,
};
use super::palette::{INK, MUTED, THREE};
use crate::{long_lists, naming};

const RATES: [Figure; 3] = [Figure::CompletionRate, Figure::OnTimeRate, Figure::PublicityRate];

/// A community's (name, code) and its three rates.
type RatesRow = ((String, String), [Option<f64>; 3]);

pub(crate) struct Rates {
    header: Header,
    /// (name, code) and the three rates, best completion first.
    rows: Vec<RatesRow>,
}

impl Rates {
    pub(crate) fn new(data: &ChartData) -> Result<Rates, ChartError> {
        let (year, quarter) = (data.request.year, data.request.quarter);
        let (kind, source): (ReportKind, Vec<Row>) = match quarter {
            Some(_) => (ReportKind::Quarterly, data.rows(ReportKind::Quarterly, year)?),
            None => (ReportKind::Communities, data.rows(ReportKind::Communities, year)?),
        };
        let mut rows: Vec<RatesRow> = source
            .iter()
            .filter(|r| in_period(r, year, quarter))
            .map(|r| {
                let label = (text(r, Figure::CommunityName).to_string(), text(r, Figure::CommunityCode).to_string());
                (label, RATES.map(|rate| num(r, rate)))
            })
            .collect();
        // Highest completion first; communities without topics (null) last.
        rows.sort_by(|a, b| {
            let key = |r: &[Option<f64>; 3]| r[0].map(|v| (v * 1e9).round() as i64);
            key(&b.1).cmp(&key(&a.1)).then_with(|| (a.0).1.cmp(&(b.0).1))
        });
        // The marker row has no code and no rates; it is drawn in grey without dashes.
        let (rows, gap) = long_lists::ends(rows, |gap| ((gap.marker("个社区"), String::new()), [None; 3]));
        let legend = RATES
            .iter()
            .zip(THREE)
            .map(|(rate, fill)| LegendItem { label: rate.chinese().to_string(), swatch: Swatch::Fill(fill) })
            .collect();
        let definitions: Vec<&str> = RATES.iter().map(|rate| rate.definition()).collect();
        let period = match quarter {
            Some(q) => naming::quarter_text(year, q),
            None => naming::year_text(year),
        };
        let header = Header {
            title: "各社区议题办结率、按时办结率与公示率".into(),
            subtitle: match gap {
                // The note replaces the order text: a 590 px subtitle holds about 50 characters.
                Some(gap) => format!("{period}｜{}｜{}", data.scope_text(), gap.note("个社区")),
                None => format!("{period}｜{}｜按办结率从高到低排列", data.scope_text()),
            },
            period,
            legend,
            definition: format!("{}；“—”表示分母为 0", definitions.join("；")),
            provenance: data.provenance(kind),
        };
        Ok(Rates { header, rows })
    }
}

impl Plot for Rates {
    fn header(&self) -> &Header {
        &self.header
    }
    fn rows(&self) -> usize {
        self.rows.len()
    }
    fn row_pitch(&self) -> (f64, f64) {
        (27.0, 13.0)
    }
    fn plot_chrome(&self) -> f64 {
        48.0
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        if self.rows.is_empty() {
            return draw_empty(canvas, plot, "范围内没有社区数据");
        }
        let labels: Vec<(String, String)> = self.rows.iter().map(|(l, _)| l.clone()).collect();
        let (top, bottom) = (plot.y0 + 4.0, plot.y1 - 36.0);
        let pitch = (bottom - top) / self.rows.len() as f64;
        let em = (pitch * 0.62).clamp(7.5, 10.5);
        let lw = label_width(&labels, em, plot, 0.3);
        let shown = fit_labels(&labels, lw, em);
        let (x0, x1) = (plot.x0 + lw + 8.0, plot.x1 - 30.0);
        let axis = Axis::fixed(0.0, 1.0, 0.2);
        draw_x_axis(canvas, &axis, (x0, x1), (top, bottom), percent, "比率（%）")?;
        let bar_h = pitch * 0.8 / 3.0;
        for (i, (((_, code), rates), label)) in self.rows.iter().zip(&shown).enumerate() {
            let y = top + pitch * i as f64 + pitch * 0.1;
            if code.is_empty() {
                canvas.text(label, (x0 - 6.0, y + pitch * 0.4), em, MUTED, Align::Right, false)?;
                continue;
            }
            canvas.text(label, (x0 - 6.0, y + pitch * 0.4), em, INK, Align::Right, false)?;
            for (k, (rate, fill)) in rates.iter().zip(THREE).enumerate() {
                let by = y + bar_h * k as f64;
                let centre = by + bar_h / 2.0;
                match rate {
                    Some(v) => {
                        let x = axis.map(*v, x0, x1);
                        canvas.rect((x0, by), (x.max(x0 + 0.5), by + bar_h - 0.5), fill)?;
                        if bar_h >= 6.0 {
                            canvas.text(
                                &format!("{:.1}%", v * 100.0),
                                (x + 3.0, centre),
                                (bar_h * 0.95).min(TICK_EM),
                                INK,
                                Align::Left,
                                false,
                            )?;
                        }
                    }
                    None if bar_h >= 6.0 => {
                        canvas.text("—", (x0 + 3.0, centre), (bar_h * 0.95).min(TICK_EM), MUTED, Align::Left, false)?
                    }
                    None => {}
                }
            }
        }
        Ok(())
    }
}
