//! The county-wide comparison of communities: scores sorted, the county average line, and
//! the red and black lists (红榜、黑榜) marked as the community assessment's `list` column
//! has them (the rule is the warehouse's, `warehouse::analyses::lists`).

use plotters::prelude::DrawingBackend;
use plotters::style::RGBColor;
use warehouse::analyses::lists::CommunityList;
use warehouse::analyses::{Figure, ReportKind};

use super::ChartError;
use super::canvas::{Align, Canvas, Fill};
use super::data::{ChartData, int, num, text};
use super::page::{
    Axis, Header, LegendItem, Plot, Rect, Swatch, TICK_EM, draw_empty, draw_x_axis, fit_labels, label_width, measure,
    number,
};
use super::palette::{AVERAGE, INK, MUTED, NAVY, PALE};
use crate::{long_lists, naming};

const RED: RGBColor = RGBColor(192, 57, 43);
const BLACK: RGBColor = RGBColor(38, 38, 38);

struct Bar {
    label: (String, String),
    rank: Option<i64>,
    score: Option<f64>,
    list: Option<CommunityList>,
    /// The marker row where a long list leaves communities out.
    gap: bool,
}

pub(crate) struct Ranking {
    header: Header,
    bars: Vec<Bar>,
    /// The average line's value and its name.
    average: Option<(f64, &'static str)>,
}

impl Ranking {
    pub(crate) fn new(data: &ChartData) -> Result<Ranking, ChartError> {
        let year = data.request.year;
        let rows = data.rows(ReportKind::Communities, year)?;
        let counties: std::collections::BTreeSet<&str> = rows.iter().map(|r| text(r, Figure::CountyCode)).collect();
        let rank = if counties.len() > 1 { Figure::RankOverall } else { Figure::RankInCounty };
        let mut bars: Vec<Bar> = rows
            .iter()
            .map(|r| Bar {
                label: (text(r, Figure::CommunityName).to_string(), text(r, Figure::CommunityCode).to_string()),
                rank: int(r, rank),
                score: num(r, Figure::CommunityScore),
                list: CommunityList::parse(text(r, Figure::List)),
                gap: false,
            })
            .collect();
        bars.sort_by(|a, b| {
            a.rank.unwrap_or(i64::MAX).cmp(&b.rank.unwrap_or(i64::MAX)).then_with(|| a.label.1.cmp(&b.label.1))
        });
        let average = if counties.len() == 1 {
            rows.first().and_then(|r| num(r, Figure::CountyAvgScore)).map(|v| (v, "县平均"))
        } else {
            let scores: Vec<f64> = bars.iter().filter_map(|b| b.score).collect();
            (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64, "全部社区平均"))
        };
        let count = |list| bars.iter().filter(|b| b.list == Some(list)).count();
        let listed = CommunityList::ALL.map(|list| (list, count(list)));
        let (bars, gap) = long_lists::ends(bars, |gap| Bar {
            label: (gap.marker("个社区"), String::new()),
            rank: None,
            score: None,
            list: None,
            gap: true,
        });
        // Annual figures: the period is the year, whatever quarter the pack is for.
        let period = naming::year_text(year);
        let order = match gap {
            // The note replaces the order text: a 590 px subtitle holds about 50 characters.
            Some(gap) => gap.note("个社区"),
            None => format!("按{}排列", rank.chinese()),
        };
        let header = Header {
            title: format!("{year}年度社区考核得分排名"),
            subtitle: format!("{period}｜{}｜{order}", data.scope_text()),
            period,
            legend: legend(listed, average.map(|a| a.1)),
            definition: format!(
                "{}；{}；{}",
                Figure::CommunityScore.definition(),
                Figure::ListLabel.definition(),
                Figure::CountyAvgScore.definition()
            ),
            provenance: data.provenance(ReportKind::Communities),
        };
        Ok(Ranking { header, bars, average })
    }

    /// A bar's fill and its tag after the score: the list it is on, or 样本不足.
    fn fill(&self, i: usize) -> (Fill, Option<&'static str>) {
        match self.bars[i].list {
            Some(CommunityList::Red) => (Fill::solid(RED), Some(CommunityList::Red.chinese())),
            Some(CommunityList::Black) => (Fill::solid(BLACK), Some(CommunityList::Black.chinese())),
            Some(CommunityList::Unranked) => (Fill::solid(PALE).outlined(MUTED), Some("样本不足")),
            None => (Fill::solid(PALE).outlined(NAVY), None),
        }
    }
}

fn legend(listed: [(CommunityList, usize); 3], average: Option<&str>) -> Vec<LegendItem> {
    let mut legend = Vec::new();
    for (list, n) in listed.into_iter().filter(|(_, n)| *n > 0) {
        let (label, fill) = match list {
            CommunityList::Red => (format!("红榜（{n} 个）"), Fill::solid(RED)),
            CommunityList::Black => (format!("黑榜（{n} 个）"), Fill::solid(BLACK)),
            CommunityList::Unranked => (list.chinese().to_string(), Fill::solid(PALE).outlined(MUTED)),
        };
        legend.push(LegendItem { label, swatch: Swatch::Fill(fill) });
    }
    legend.push(LegendItem { label: "其他社区".into(), swatch: Swatch::Fill(Fill::solid(PALE).outlined(NAVY)) });
    if let Some(name) = average {
        legend.push(LegendItem {
            label: name.to_string(),
            swatch: Swatch::Line { color: AVERAGE, width: 1.6, marker: None, dashed: true },
        });
    }
    legend
}

impl Plot for Ranking {
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
            return draw_empty(canvas, plot, "本年度没有社区考核数据");
        }
        let labels: Vec<(String, String)> = self.bars.iter().map(|b| b.label.clone()).collect();
        let (top, bottom) = (plot.y0 + 18.0, plot.y1 - 36.0);
        let pitch = (bottom - top) / self.bars.len() as f64;
        let em = (pitch * 0.68).clamp(7.5, 10.5);
        let rank_w = measure("000", em);
        let lw = label_width(&labels, em, plot, 0.3);
        let shown = fit_labels(&labels, lw, em);
        let (x0, x1) = (plot.x0 + rank_w + 6.0 + lw + 8.0, plot.x1 - 60.0);
        let axis = Axis::fixed(0.0, 100.0, 10.0);
        draw_x_axis(canvas, &axis, (x0, x1), (top, bottom), number, "得分（分，满分 100）")?;
        let row = |i: usize| (top + pitch * i as f64, top + pitch * (i as f64 + 0.5));
        for (i, b) in self.bars.iter().enumerate() {
            if let Some(score) = b.score {
                let (y, _) = row(i);
                let x = axis.map(score, x0, x1);
                canvas.rect((x0, y + pitch * 0.15), (x.max(x0 + 0.5), y + pitch * 0.85), self.fill(i).0)?;
            }
        }
        // The average line crosses the bars; the value labels sit on top of both.
        if let Some((avg, name)) = self.average {
            let x = axis.map(avg, x0, x1);
            canvas.dashed(&[(x, top - 4.0), (x, bottom)], AVERAGE, 1.6, 5.0)?;
            canvas.label(&format!("{name} {avg:.1}"), (x, top - 11.0), TICK_EM, AVERAGE, Align::Center, false)?;
        }
        for (i, (b, label)) in self.bars.iter().zip(&shown).enumerate() {
            let (_, centre) = row(i);
            if b.gap {
                canvas.text(label, (x0 - 6.0, centre), em, MUTED, Align::Right, false)?;
                continue;
            }
            let rank = b.rank.map_or("—".to_string(), |r| r.to_string());
            canvas.text(&rank, (plot.x0 + rank_w, centre), em, MUTED, Align::Right, false)?;
            canvas.text(label, (x0 - 6.0, centre), em, INK, Align::Right, false)?;
            let Some(score) = b.score else { continue };
            let list = self.fill(i).1;
            let tag = match list {
                Some(list) => format!("{score:.1} {list}"),
                None => format!("{score:.1}"),
            };
            let ink = match self.bars[i].list {
                Some(CommunityList::Red) => RED,
                Some(CommunityList::Unranked) => MUTED,
                _ => INK,
            };
            canvas.label(
                &tag,
                (axis.map(score, x0, x1) + 3.0, centre),
                em.min(TICK_EM),
                ink,
                Align::Left,
                list.is_some(),
            )?;
        }
        Ok(())
    }
}
