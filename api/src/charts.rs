//! The charts the server offers: every chart of `dashboards::charts` (plotters with the
//! embedded CJK font), drawn from reports computed through the server's cache, and the
//! rendered images cached by the same key (scope, period, table versions).
//!
//! [`draw`] is the one place that turns a chart into PNG or SVG bytes. Should the
//! renderer fail, a plain stand-in (bars and lines; text only in SVG) is served instead and
//! the failure logged, so a page never shows a broken image.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dashboards::charts::{ChartData as Figures, ChartFormat, ChartName, ChartOptions, ChartRequest, reports_needed};
use ingest::Scope;
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;

use crate::AppState;
use crate::error::{AppError, AppResult};
use dashboards::pages::data;

/// PNG or SVG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Svg,
}

/// A chart: its name in URLs (`dashboards::charts::ChartName`), and the report its CSV and
/// XLSX download buttons export.
#[derive(Debug, Clone, Copy)]
pub struct ChartDef {
    pub name: &'static str,
    pub chart: ChartName,
    pub title: &'static str,
    pub report: ReportKind,
}

const fn def(chart: ChartName, name: &'static str, title: &'static str, report: ReportKind) -> ChartDef {
    ChartDef { name, chart, title, report }
}

/// Every chart.
pub const CHARTS: &[ChartDef] = &[
    def(ChartName::SatisfactionTrend, "satisfaction_trend", "满意度趋势", ReportKind::Quarterly),
    def(ChartName::Dimensions, "dimensions", "四维度评价", ReportKind::Quarterly),
    def(ChartName::RatesByCommunity, "rates_by_community", "各社区办理率", ReportKind::Communities),
    def(ChartName::CadreScores, "cadre_scores", "干部得分", ReportKind::Cadres),
    def(ChartName::CommunityRanking, "community_ranking", "社区排名", ReportKind::Communities),
    def(ChartName::TopicsByCategory, "topics_by_category", "议题类别", ReportKind::QuarterlyByCategory),
    def(ChartName::TopicsByChannel, "topics_by_channel", "议题来源渠道", ReportKind::QuarterlyByChannel),
    def(ChartName::SatisfactionHeatmap, "satisfaction_heatmap", "满意度热力图", ReportKind::Quarterly),
];

pub fn find(name: &str) -> Option<&'static ChartDef> {
    let chart = ChartName::parse(name).ok()?;
    CHARTS.iter().find(|c| c.chart == chart)
}

/// Rendered images by (chart, format, scope, year, quarter, table versions).
#[derive(Debug, Default)]
pub struct ImageCache {
    map: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    fallbacks: std::sync::atomic::AtomicU64,
}

impl ImageCache {
    const CAPACITY: usize = 2048;

    /// Images drawn by the stand-in because the renderer failed (0 when all is well).
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn get(&self, key: &str) -> Option<Arc<Vec<u8>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned()
    }

    fn put(&self, key: String, bytes: Arc<Vec<u8>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(key, bytes);
    }
}

/// The chart as PNG or SVG bytes, over the reports of `scope` for the period.
pub async fn draw(
    state: &AppState,
    def: &ChartDef,
    scope: &Scope,
    year: i32,
    quarter: Option<u32>,
    format: ImageFormat,
) -> AppResult<Arc<Vec<u8>>> {
    let versions = crate::cache::data_versions(&state.warehouse).await?;
    let key = format!("{}|{format:?}|{scope:?}|{year}|{quarter:?}|{versions:?}", def.name);
    if let Some(bytes) = state.images.get(&key) {
        return Ok(bytes);
    }
    let request = ChartRequest { year, quarter };
    let county = scope.county_code().and_then(|c| Scope::county(c).ok());
    let (mut own, mut county_wide) = (Vec::new(), Vec::new());
    for need in reports_needed(def.chart, &request, scope) {
        let target = match (&county, need.county_wide) {
            (Some(c), true) => c,
            _ => scope,
        };
        let report = crate::routes::report(state, need.kind, target, need.year, None).await?;
        if need.county_wide { county_wide.push((*report).clone()) } else { own.push((*report).clone()) }
    }
    let fallback_report = own.first().cloned();
    let chart = def.chart;
    let scope_owned = scope.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        let figures = Figures::new(request, scope_owned, Scheme::default(), own)?.with_county_reference(county_wide)?;
        let format = match format {
            ImageFormat::Png => ChartFormat::Png,
            ImageFormat::Svg => ChartFormat::Svg,
        };
        dashboards::charts::render(chart, &figures, format, &ChartOptions::default())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let bytes = match rendered {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(chart = def.name, error = %e, "chart renderer failed; serving the stand-in");
            state.images.fallbacks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(report) = fallback_report else { return Err(AppError::Internal(e.to_string())) };
            let data = chart_data(def, &report, quarter);
            match format {
                ImageFormat::Svg => stand_in::svg(&data).into_bytes(),
                ImageFormat::Png => stand_in::png(&data).map_err(AppError::Internal)?,
            }
        }
    };
    let bytes = Arc::new(bytes);
    state.images.put(key, bytes.clone());
    Ok(bytes)
}

/// What the stand-in shows, independent of how it is drawn.
#[derive(Debug, Clone, Default)]
pub struct ChartData {
    pub title: String,
    pub y_label: String,
    /// Category axis labels.
    pub labels: Vec<String>,
    /// Named series over the labels.
    pub series: Vec<(String, Vec<Option<f64>>)>,
    /// Lines instead of bars.
    pub line: bool,
    /// A horizontal reference line (the 优秀 line of the cadre scores).
    pub reference: Option<f64>,
    /// Heatmap: row labels and one value per label per row.
    pub heat_rows: Vec<(String, Vec<Option<f64>>)>,
}

/// The stand-in's data from the chart's first report.
pub fn chart_data(def: &ChartDef, report: &Report, quarter: Option<u32>) -> ChartData {
    let mut chart = ChartData { title: def.title.to_string(), ..ChartData::default() };
    let name = match def.chart {
        ChartName::CommunityRanking | ChartName::RatesByCommunity => "ranking",
        ChartName::CadreScores => "cadres",
        ChartName::SatisfactionTrend => "trend",
        ChartName::Dimensions => "dimensions",
        ChartName::TopicsByCategory => "categories",
        ChartName::TopicsByChannel => "channels",
        ChartName::SatisfactionHeatmap => "heatmap",
    };
    let _ = quarter;
    match name {
        "ranking" | "cadres" => {
            let (label_key, value_key) = match name {
                "ranking" => ("community_name", "score"),
                _ => ("cadre_name", "score"),
            };
            let mut pairs: Vec<(String, Option<f64>)> =
                data::texts(report, label_key).into_iter().zip(data::numbers(report, value_key)).collect();
            pairs.sort_by(|a, b| b.1.unwrap_or(f64::MIN).total_cmp(&a.1.unwrap_or(f64::MIN)));
            pairs.truncate(30);
            chart.y_label = "得分".into();
            chart.labels = pairs.iter().map(|p| p.0.clone()).collect();
            chart.series = vec![("得分".into(), pairs.into_iter().map(|p| p.1).collect())];
            if name == "cadres" {
                chart.reference = Some(90.0);
            }
        }
        "trend" => {
            let quarters = data::numbers(report, "quarter");
            let mut completion = Vec::new();
            let mut satisfaction = Vec::new();
            for q in 1..=4 {
                let (mut topics, mut closed, mut evals, mut satisfied) = (0.0, 0.0, 0.0, 0.0);
                let t = data::numbers(report, "topics_raised");
                let c = data::numbers(report, "topics_closed");
                let e = data::numbers(report, "evaluations");
                let s = data::numbers(report, "satisfaction_rate");
                for i in 0..quarters.len() {
                    if quarters[i] != Some(f64::from(q)) {
                        continue;
                    }
                    topics += t[i].unwrap_or(0.0);
                    closed += c[i].unwrap_or(0.0);
                    if let (Some(ev), Some(rate)) = (e[i], s[i]) {
                        evals += ev;
                        satisfied += ev * rate;
                    }
                }
                completion.push((topics > 0.0).then(|| 100.0 * closed / topics));
                satisfaction.push((evals > 0.0).then(|| 100.0 * satisfied / evals));
                chart.labels.push(format!("第{q}季度"));
            }
            chart.y_label = "%".into();
            chart.line = true;
            chart.series = vec![("办结率".into(), completion), ("满意率".into(), satisfaction)];
        }
        "dimensions" => {
            let keys = [
                ("attitude_mean", "态度"),
                ("efficiency_mean", "效率"),
                ("result_mean", "结果"),
                ("effect_mean", "效果"),
            ];
            chart.y_label = "均分（1–5）".into();
            chart.labels = keys.iter().map(|k| k.1.to_string()).collect();
            chart.series =
                vec![("均分".into(), keys.iter().map(|k| data::weighted_mean(report, k.0, "evaluations")).collect())];
        }
        "categories" | "channels" => {
            let key = if name == "categories" { "category" } else { "channel" };
            let mut totals: Vec<(String, f64)> = Vec::new();
            for (label, v) in data::texts(report, key).into_iter().zip(data::numbers(report, "topics_raised")) {
                match totals.iter_mut().find(|t| t.0 == label) {
                    Some(t) => t.1 += v.unwrap_or(0.0),
                    None => totals.push((label, v.unwrap_or(0.0))),
                }
            }
            totals.sort_by(|a, b| b.1.total_cmp(&a.1));
            chart.y_label = "议题数".into();
            chart.labels = totals.iter().map(|t| token_chinese(&t.0).to_string()).collect();
            chart.series = vec![("议题数".into(), totals.into_iter().map(|t| Some(t.1)).collect())];
        }
        _ => {
            // heatmap: communities × quarters of satisfaction_index.
            let names = data::texts(report, "community_name");
            let quarters = data::numbers(report, "quarter");
            let index = data::numbers(report, "satisfaction_index");
            chart.labels = (1..=4).map(|q| format!("第{q}季度")).collect();
            for i in 0..names.len() {
                let row = match chart.heat_rows.iter().position(|r| r.0 == names[i]) {
                    Some(p) => p,
                    None => {
                        chart.heat_rows.push((names[i].clone(), vec![None; 4]));
                        chart.heat_rows.len() - 1
                    }
                };
                if let Some(q) = quarters[i].map(|q| q as usize).filter(|q| (1..=4).contains(q)) {
                    chart.heat_rows[row].1[q - 1] = index[i];
                }
            }
            chart.y_label = "满意度指数".into();
        }
    }
    chart
}

/// The Chinese of a category or channel token.
fn token_chinese(token: &str) -> &str {
    match token {
        "infrastructure" => "基础设施",
        "sanitation" => "环境卫生",
        "property" => "物业管理",
        "safety" => "治安消防",
        "employment" => "就业社保",
        "care" => "养老托育",
        "disputes" => "邻里纠纷",
        "policy" => "政策咨询",
        "other" => "其他",
        "home_visit" => "入户走访",
        "walk_in" => "群众来访",
        "wechat" => "微信留言",
        "hotline" => "热线电话",
        "referral" => "上级反馈",
        "grid" => "网格上报",
        "survey" => "调研征集",
        other => other,
    }
}

/// A plain renderer: enough to see the figures until the real charts land.
mod stand_in {
    use super::ChartData;

    pub(super) const W: usize = 960;
    pub(super) const H: usize = 440;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 50.0;
    const BOTTOM: f64 = 90.0;
    const COLORS: [(u8, u8, u8); 4] = [(200, 16, 46), (31, 119, 180), (255, 127, 14), (44, 160, 44)];

    /// Value range of the chart, with zero included.
    fn range(chart: &ChartData) -> (f64, f64) {
        let values = chart.series.iter().flat_map(|s| s.1.iter().flatten().copied());
        let (mut lo, mut hi) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if let Some(r) = chart.reference {
            hi = hi.max(r);
        }
        if hi - lo < 1e-9 {
            hi = lo + 1.0;
        }
        lo = if lo < 0.0 { lo * 1.1 } else { 0.0 };
        (lo, hi * 1.1)
    }

    type Rgb = (u8, u8, u8);
    /// x, y, width, height, colour.
    type Rect = (f64, f64, f64, f64, Rgb);
    type Line = (Vec<(f64, f64)>, Rgb);

    /// Rectangles and polylines of the chart, in pixels.
    struct Shapes {
        rects: Vec<Rect>,
        lines: Vec<Line>,
        labels: Vec<(f64, f64, String)>,
    }

    fn layout(chart: &ChartData) -> Shapes {
        let mut s = Shapes { rects: Vec::new(), lines: Vec::new(), labels: Vec::new() };
        let plot_w = W as f64 - LEFT - RIGHT;
        let plot_h = H as f64 - TOP - BOTTOM;
        if !chart.heat_rows.is_empty() {
            let rows = chart.heat_rows.len() as f64;
            let cols = chart.labels.len().max(1) as f64;
            let (cw, ch) = (plot_w / cols, plot_h / rows);
            for (r, (name, values)) in chart.heat_rows.iter().enumerate() {
                s.labels.push((4.0, TOP + (r as f64 + 0.6) * ch, name.clone()));
                for (c, v) in values.iter().enumerate() {
                    let color = match v {
                        Some(v) => {
                            let t = (v / 100.0).clamp(0.0, 1.0);
                            (255, (240.0 - 200.0 * t) as u8, (220.0 - 200.0 * t) as u8)
                        }
                        None => (230, 230, 230),
                    };
                    let (x, y) = (LEFT + c as f64 * cw, TOP + r as f64 * ch);
                    s.rects.push((x + 1.0, y + 1.0, cw - 2.0, ch - 2.0, color));
                    if let Some(v) = v {
                        s.labels.push((x + cw / 2.0 - 14.0, y + ch / 2.0 + 5.0, format!("{v:.1}")));
                    }
                }
            }
            for (c, label) in chart.labels.iter().enumerate() {
                s.labels.push((LEFT + (c as f64 + 0.35) * cw, H as f64 - BOTTOM + 24.0, label.clone()));
            }
            return s;
        }
        let (lo, hi) = range(chart);
        let y_of = |v: f64| TOP + plot_h * (1.0 - (v - lo) / (hi - lo));
        let n = chart.labels.len().max(1) as f64;
        let slot = plot_w / n;
        let k = chart.series.len().max(1) as f64;
        s.rects.push((LEFT, y_of(0.0), plot_w, 1.0, (90, 90, 90)));
        for (si, (_, values)) in chart.series.iter().enumerate() {
            let color = COLORS[si % COLORS.len()];
            if chart.line {
                let points: Vec<(f64, f64)> = values
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| v.map(|v| (LEFT + slot * (i as f64 + 0.5), y_of(v))))
                    .collect();
                for p in &points {
                    s.rects.push((p.0 - 4.0, p.1 - 4.0, 8.0, 8.0, color));
                }
                s.lines.push((points, color));
            } else {
                for (i, v) in values.iter().enumerate() {
                    let Some(v) = v else { continue };
                    let bw = slot * 0.7 / k;
                    let x = LEFT + slot * i as f64 + slot * 0.15 + bw * si as f64;
                    let (y0, y1) = (y_of(v.max(0.0)), y_of(v.min(0.0)));
                    s.rects.push((x, y0, bw, (y1 - y0).max(1.0), color));
                    s.labels.push((x, y0 - 4.0, format!("{v:.1}")));
                }
            }
        }
        if let Some(r) = chart.reference {
            s.lines.push((vec![(LEFT, y_of(r)), (LEFT + plot_w, y_of(r))], (120, 120, 120)));
        }
        for (i, label) in chart.labels.iter().enumerate() {
            s.labels.push((LEFT + slot * i as f64 + 2.0, H as f64 - BOTTOM + 18.0, label.clone()));
        }
        s.labels.push((4.0, TOP - 8.0, chart.y_label.clone()));
        s.labels.push((4.0, y_of(hi / 1.1) + 4.0, format!("{:.0}", hi / 1.1)));
        s
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
    }

    pub(super) fn svg(chart: &ChartData) -> String {
        let shapes = layout(chart);
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
             font-family=\"'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif\">\
             <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
             <text x=\"{}\" y=\"30\" font-size=\"20\" text-anchor=\"middle\">{}</text>",
            W / 2,
            escape(&chart.title)
        );
        for (x, y, w, h, (r, g, b)) in &shapes.rects {
            out.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"rgb({r},{g},{b})\"/>"
            ));
        }
        for (points, (r, g, b)) in &shapes.lines {
            let p: Vec<String> = points.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
            out.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"rgb({r},{g},{b})\" stroke-width=\"3\"/>",
                p.join(" ")
            ));
        }
        for (x, y, text) in &shapes.labels {
            out.push_str(&format!("<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"12\">{}</text>", escape(text)));
        }
        for (i, (name, _)) in chart.series.iter().enumerate().filter(|_| chart.series.len() > 1) {
            let (r, g, b) = COLORS[i % COLORS.len()];
            let x = W as f64 - 200.0 + 100.0 * i as f64;
            out.push_str(&format!(
                "<rect x=\"{x}\" y=\"40\" width=\"12\" height=\"12\" fill=\"rgb({r},{g},{b})\"/>\
                 <text x=\"{}\" y=\"51\" font-size=\"13\">{}</text>",
                x + 16.0,
                escape(name)
            ));
        }
        out.push_str("</svg>");
        out
    }

    pub(super) fn png(chart: &ChartData) -> Result<Vec<u8>, String> {
        let shapes = layout(chart);
        let mut pixels = vec![255u8; W * H * 3];
        let mut fill = |x: f64, y: f64, w: f64, h: f64, (r, g, b): (u8, u8, u8)| {
            let x0 = x.max(0.0) as usize;
            let y0 = y.max(0.0) as usize;
            let x1 = ((x + w).max(0.0) as usize).min(W);
            let y1 = ((y + h).max(0.0) as usize).min(H);
            for yy in y0..y1 {
                for xx in x0..x1 {
                    let i = (yy * W + xx) * 3;
                    pixels[i..i + 3].copy_from_slice(&[r, g, b]);
                }
            }
        };
        for (x, y, w, h, color) in &shapes.rects {
            fill(*x, *y, *w, *h, *color);
        }
        for (points, color) in &shapes.lines {
            for pair in points.windows(2) {
                let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
                let steps = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
                for s in 0..=steps {
                    let t = s as f64 / steps as f64;
                    fill(x0 + (x1 - x0) * t - 1.0, y0 + (y1 - y0) * t - 1.0, 3.0, 3.0, *color);
                }
            }
        }
        // The title's place, as a bar, so the image is recognisably a chart.
        fill(W as f64 / 2.0 - 120.0, 18.0, 240.0, 6.0, (60, 60, 60));
        Ok(encode_png(W, H, &pixels))
    }

    /// A truecolour PNG with stored (uncompressed) deflate blocks: valid, dependency-free.
    fn encode_png(w: usize, h: usize, rgb: &[u8]) -> Vec<u8> {
        let mut raw = Vec::with_capacity((w * 3 + 1) * h);
        for row in rgb.chunks(w * 3) {
            raw.push(0);
            raw.extend_from_slice(row);
        }
        let mut z = vec![0x78, 0x01];
        let mut chunks = raw.chunks(65_535).peekable();
        while let Some(block) = chunks.next() {
            z.push(u8::from(chunks.peek().is_none()));
            let len = block.len() as u16;
            z.extend_from_slice(&len.to_le_bytes());
            z.extend_from_slice(&(!len).to_le_bytes());
            z.extend_from_slice(block);
        }
        z.extend_from_slice(&adler32(&raw).to_be_bytes());
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(h as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &ihdr);
        chunk(&mut out, b"IDAT", &z);
        chunk(&mut out, b"IEND", &[]);
        out
    }

    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], body: &[u8]) {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        (b << 16) | a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stand_in_images() {
        let chart = ChartData {
            title: "测试".into(),
            labels: vec!["甲".into(), "乙".into()],
            series: vec![("得分".into(), vec![Some(80.0), None])],
            ..ChartData::default()
        };
        let png = stand_in::png(&chart).expect("png");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(stand_in::svg(&chart).contains("测试"));
    }
}
