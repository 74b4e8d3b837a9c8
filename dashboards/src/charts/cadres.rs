//! Cadre scores of the annual assessment: sorted bars coloured (and patterned) by grade,
//! with the 优秀 score line and the quota line — the score of the last 优秀 seat.

use plotters::prelude::DrawingBackend;
use warehouse::analyses::{Figure, Grade, ReportKind};

use super::ChartError;
use super::canvas::{Align, Canvas};
use super::data::{ChartData, Row, num, text};
use super::page::{
    Axis, Header, LegendItem, Plot, Rect, Swatch, TICK_EM, draw_empty, draw_x_axis, fit_labels, label_width, number,
};
use super::palette::{self, AVERAGE, INK, MUTED};
use crate::{long_lists, naming};

const EXCELLENT_LINE: plotters::style::RGBColor = plotters::style::RGBColor(30, 107, 58);

struct Bar {
    label: (String, String),
    score: Option<f64>,
    /// `None` for a token the chart does not know (drawn as not rated, unnamed).
    grade: Option<Grade>,
}

pub(crate) struct CadreScores {
    header: Header,
    bars: Vec<Bar>,
    excellent: f64,
    /// The score of the last 优秀 seat of the county and the number of seats.
    quota: Option<(f64, usize)>,
}

impl CadreScores {
    pub(crate) fn new(data: &ChartData) -> Result<CadreScores, ChartError> {
        let year = data.request.year;
        let rows = data.rows(ReportKind::Cadres, year)?;
        let with_community = !matches!(data.scope, ingest::Scope::Community(_));
        let mut bars: Vec<Bar> = rows.iter().map(|r| bar(r, with_community)).collect();
        // Rated cadres by score, then the unrated (whose score is shown but not ranked).
        bars.sort_by(|a, b| {
            let rated = |x: &Bar| x.grade != Some(Grade::NotRated);
            rated(b).cmp(&rated(a)).then_with(|| b.score.partial_cmp(&a.score).unwrap_or(std::cmp::Ordering::Equal))
        });
        let (bars, gap) =
            long_lists::ends(bars, |gap| Bar { label: (gap.marker("人"), String::new()), score: None, grade: None });
        let grades = &data.scheme.grades;
        let quota =
            data.county_rows(ReportKind::Cadres, year).and_then(|county| quota_line(&county, grades.excellent_quota));
        // Annual figures: the period is the year, whatever quarter the pack is for.
        let period = naming::year_text(year);
        let order = match gap {
            // The note replaces the order text: a 590 px subtitle holds about 50 characters.
            Some(gap) => gap.note("人"),
            None => "参评干部按得分排列，未评定者在后".to_string(),
        };
        let header = Header {
            title: format!("{year}年度干部考核得分"),
            subtitle: format!("{period}｜{}｜{order}", data.scope_text()),
            period,
            legend: legend(&bars, grades.excellent_score, quota.is_some()),
            definition: format!(
                "{}；{}；名额线 = 县内参评干部第 N 名的得分，N = max(1, {}% × 参评人数向下取整)",
                Figure::CadreScore.definition(),
                Figure::GradeChinese.definition(),
                grades.excellent_quota * 100.0
            ),
            provenance: data.provenance(ReportKind::Cadres),
        };
        Ok(CadreScores { header, bars, excellent: grades.excellent_score, quota })
    }
}

fn bar(r: &Row, with_community: bool) -> Bar {
    let name = text(r, Figure::CadreName);
    let label =
        if with_community { format!("{name}（{}）", text(r, Figure::CommunityName)) } else { name.to_string() };
    let key = format!("{}{}", text(r, Figure::CommunityCode), text(r, Figure::CadreId));
    Bar { label: (label, key), score: num(r, Figure::CadreScore), grade: Grade::parse(text(r, Figure::Grade)) }
}

/// The score of the last 优秀 seat among the county's rated cadres, and the seat count
/// (fine print 6: seats = max(1, ⌊quota × rated⌋)).
fn quota_line(county: &[Row], quota: f64) -> Option<(f64, usize)> {
    let mut scores: Vec<f64> = county
        .iter()
        .filter(|r| text(r, Figure::Grade) != Grade::NotRated.token())
        .filter_map(|r| num(r, Figure::CadreScore))
        .collect();
    if scores.is_empty() {
        return None;
    }
    scores.sort_by(|a, b| b.partial_cmp(a).unwrap_or(std::cmp::Ordering::Equal));
    let seats = ((quota * scores.len() as f64 + 1e-9).floor() as usize).max(1);
    scores.get(seats - 1).map(|s| (*s, seats))
}

fn legend(bars: &[Bar], excellent: f64, quota: bool) -> Vec<LegendItem> {
    let mut legend: Vec<LegendItem> = Grade::ALL
        .into_iter()
        .filter(|grade| bars.iter().any(|b| b.grade == Some(*grade)))
        .map(|grade| LegendItem {
            label: grade.chinese().to_string(),
            swatch: Swatch::Fill(palette::grade_fill(Some(grade))),
        })
        .collect();
    legend.push(LegendItem {
        label: format!("优秀线 {}", number(excellent)),
        swatch: Swatch::Line { color: EXCELLENT_LINE, width: 1.4, marker: None, dashed: true },
    });
    if quota {
        legend.push(LegendItem {
            label: "优秀名额线".into(),
            swatch: Swatch::Line { color: AVERAGE, width: 1.4, marker: None, dashed: true },
        });
    }
    legend
}

impl Plot for CadreScores {
    fn header(&self) -> &Header {
        &self.header
    }
    fn rows(&self) -> usize {
        self.bars.len()
    }
    fn row_pitch(&self) -> (f64, f64) {
        (17.0, 11.0)
    }
    fn plot_chrome(&self) -> f64 {
        62.0
    }

    fn draw_plot<DB: DrawingBackend>(&self, canvas: &Canvas<DB>, plot: Rect) -> Result<(), ChartError> {
        if self.bars.is_empty() {
            return draw_empty(canvas, plot, "本年度没有干部考核数据");
        }
        let labels: Vec<(String, String)> = self.bars.iter().map(|b| b.label.clone()).collect();
        let (top, bottom) = (plot.y0 + 18.0, plot.y1 - 36.0);
        let pitch = (bottom - top) / self.bars.len() as f64;
        let em = (pitch * 0.68).clamp(7.5, 10.5);
        let lw = label_width(&labels, em, plot, 0.32);
        let shown = fit_labels(&labels, lw, em);
        let (x0, x1) = (plot.x0 + lw + 8.0, plot.x1 - 62.0);
        let axis = Axis::fixed(0.0, 100.0, 10.0);
        draw_x_axis(canvas, &axis, (x0, x1), (top, bottom), number, "得分（分，满分 100）")?;
        let row = |i: usize| (top + pitch * i as f64, top + pitch * (i as f64 + 0.5));
        for (i, b) in self.bars.iter().enumerate() {
            if let Some(score) = b.score {
                let (y, _) = row(i);
                let x = axis.map(score, x0, x1);
                canvas.rect(
                    (x0, y + pitch * 0.15),
                    (x.max(x0 + 0.5), y + pitch * 0.85),
                    palette::grade_fill(b.grade),
                )?;
            }
        }
        // The cut-off lines cross the bars; the value labels sit on top of both.
        self.draw_lines(canvas, &axis, (x0, x1), (top, bottom))?;
        for (i, (b, label)) in self.bars.iter().zip(&shown).enumerate() {
            let (_, centre) = row(i);
            // The marker row of a shortened list (no cadre key) is set in grey.
            let ink = if b.label.1.is_empty() { MUTED } else { INK };
            canvas.text(label, (x0 - 6.0, centre), em, ink, Align::Right, false)?;
            if let Some(score) = b.score {
                let tag = format!("{score:.1} {}", b.grade.map_or("", Grade::chinese));
                canvas.label(
                    &tag,
                    (axis.map(score, x0, x1) + 3.0, centre),
                    em.min(TICK_EM),
                    INK,
                    Align::Left,
                    false,
                )?;
            }
        }
        Ok(())
    }
}

impl CadreScores {
    /// The 优秀 score line and the quota line, labelled above the plot.
    fn draw_lines<DB: DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        axis: &Axis,
        (x0, x1): (f64, f64),
        (top, bottom): (f64, f64),
    ) -> Result<(), ChartError> {
        let x = axis.map(self.excellent, x0, x1);
        canvas.dashed(&[(x, top - 4.0), (x, bottom)], EXCELLENT_LINE, 1.4, 5.0)?;
        let quota_left = self.quota.is_some_and(|(score, _)| score < self.excellent);
        // The two labels point away from each other so they never overlap.
        let (ex, ealign) = if quota_left { (x + 4.0, Align::Left) } else { (x - 4.0, Align::Right) };
        canvas.label(
            &format!("优秀线 {}", number(self.excellent)),
            (ex, top - 11.0),
            TICK_EM,
            EXCELLENT_LINE,
            ealign,
            false,
        )?;
        if let Some((score, seats)) = self.quota {
            let q = axis.map(score, x0, x1);
            canvas.dashed(&[(q, top - 4.0), (q, bottom)], AVERAGE, 1.4, 3.0)?;
            let label = format!("名额线 {score:.1}（{seats} 个名额）");
            let (qx, qalign) = if quota_left { (q - 4.0, Align::Right) } else { (q + 4.0, Align::Left) };
            canvas.label(&label, (qx, top - 11.0), TICK_EM, AVERAGE, qalign, false)?;
        }
        Ok(())
    }
}
