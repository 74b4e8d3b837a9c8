//! Charts, workbooks and the report pack, end to end: real warehouses (the generator's
//! synthetic county, and small hand-built ledgers for the edge cases) → reports → charts.
//!
//! Every check compares with the reports' own rows or with the embedded font's outlines,
//! never with numbers copied from a rendering, so a wrong chart or workbook fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};
use calamine::{Data, Reader, Xlsx, open_workbook};
use dashboards::charts::{self, ChartData, ChartError, ChartFormat, ChartName, ChartOptions, ChartRequest};
use dashboards::encoding::json::report_rows;
use dashboards::fonts;
use ingest::{Scope, Table};
use serde_json::Value;
use warehouse::analyses::{Report, ReportKind};
use warehouse::scheme::Scheme;
use warehouse::{IngestOptions, IngestOutcome, Snapshot, Warehouse};

use crate::support::{export_pack_2025_q3, runtime, yishi};

const COUNTY: &str = "141026";
const COUNTY_NAME: &str = "安泽县";

// ---------------------------------------------------------------------------------------
// Warehouses

async fn ingest_all(root: &Path, files: &BTreeMap<Table, PathBuf>) -> Warehouse {
    let wh = Warehouse::init(root.to_str().expect("utf-8 temp path")).await.expect("init");
    for table in Table::ALL {
        let Some(file) = files.get(&table) else { continue };
        let options = IngestOptions {
            scope: &Scope::Platform,
            user: "charts-test",
            partial: false,
            sheet: None,
            header_row: None,
            max_file_bytes: 64 << 20,
            progress: None,
        };
        let report = wh.ingest_file(table, file, &options).await.expect("ingest");
        assert_eq!(report.outcome, IngestOutcome::Committed, "{table}: {:?}", report.file.map(|f| f.rejected));
    }
    wh
}

/// The generator's first county with 6 communities over 2024–2025 (like `yishi demo`),
/// built once and shared by the tests that only read it; and its county code.
fn demo_root() -> &'static Path {
    &demo_ledger().0
}

fn demo_county() -> Scope {
    Scope::county(&demo_ledger().1).expect("county code")
}

/// A community of the demo county.
fn demo_community() -> Scope {
    Scope::community(&demo_ledger().2).expect("community code")
}

fn demo_ledger() -> &'static (PathBuf, String, String, tempfile::TempDir) {
    static ROOT: OnceLock<(PathBuf, String, String, tempfile::TempDir)> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ingest::generator::GeneratorConfig {
            counties: 1,
            communities_per_county: 6,
            years: 2,
            ..Default::default()
        };
        let ledger = dir.path().join("ledger");
        let summary = ingest::generator::generate(&config, &ledger).expect("generate");
        let files = Table::ALL.iter().copied().zip(summary.files).collect();
        // A thread of its own: the first caller may already be inside a runtime.
        let root = dir.path().join("wh");
        std::thread::spawn(move || drop(runtime().block_on(ingest_all(&root, &files)))).join().expect("demo ingest");
        (dir.path().to_path_buf(), summary.county_codes[0].clone(), summary.community_codes[0].clone(), dir)
    })
}

async fn demo() -> Warehouse {
    Warehouse::open(demo_root().join("wh").to_str().expect("utf-8")).await.expect("open demo warehouse")
}

/// A small ledger of `names.len()` communities in county 141026, activity in 2025 Q1–Q2
/// only (so Q3 is a quarter without evaluations). Community i has one cadre leading four
/// topics, ratings that differ by community, one regular session per active quarter.
fn small_ledger(dir: &Path, names: &[String]) -> BTreeMap<Table, PathBuf> {
    let mut t: BTreeMap<Table, String> = BTreeMap::new();
    let mut put = |table: Table, line: String| {
        let text = t.entry(table).or_default();
        text.push_str(&line);
        text.push('\n');
    };
    put(
        Table::Communities,
        "community_code,community_name,county_code,county_name,town_name,households,residents,party_members".into(),
    );
    put(Table::Cadres, "community_code,cadre_id,cadre_name,role,party_member".into());
    put(Table::Sessions, "community_code,session_id,held_on,kind,form,attendees,resident_reps,party_reps,units".into());
    put(
        Table::Topics,
        "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,units,deadline,status,closed_on,publicized_on,publicity_channel".into(),
    );
    put(Table::Evaluations, "community_code,evaluation_id,topic_id,evaluated_on,respondent,attitude,efficiency,result,effect,verdict,comment".into());
    put(Table::Rectifications, "community_code,rectification_id,topic_id,opened_on,deadline,closed_on,outcome".into());
    let categories = ["infrastructure", "sanitation", "property", "safety", "care"];
    let channels = ["home_visit", "wechat", "hotline", "grid"];
    for (i, name) in names.iter().enumerate() {
        let code = format!("{COUNTY}{:03}{:03}", 100 + i / 900, 1 + i % 900);
        put(Table::Communities, format!("{code},{name},{COUNTY},{COUNTY_NAME},府城镇,500,1200,30"));
        put(Table::Cadres, format!("{code},K1,干部{i}号,secretary,true"));
        put(Table::Sessions, format!("{code},S1,2025-01-15,regular,hall,12,6,3,"));
        put(Table::Sessions, format!("{code},S2,2025-04-15,regular,hall,12,6,3,"));
        for k in 0..4usize {
            let (session, month) = if k < 2 { ("S1", 1 + k) } else { ("S2", 2 + k) };
            let status = ["resolved", "explained", "resolved", "in_progress"][(i + k) % 4];
            let closed = if status == "in_progress" {
                String::new()
            } else {
                format!("2025-{month:02}-{:02}", 12 + (i + k) % 15)
            };
            let publicized = if k % 2 == 0 && !closed.is_empty() { closed.clone() } else { String::new() };
            put(
                Table::Topics,
                format!(
                    "{code},T{k},{session},议题{k},{},{},2025-{month:02}-10,K1,self,,2025-{month:02}-20,{status},{closed},{publicized},{}",
                    categories[(i + k) % categories.len()],
                    channels[(i * 3 + k) % channels.len()],
                    if publicized.is_empty() { "" } else { "board" },
                ),
            );
            if !closed.is_empty() {
                let a = 1 + (i + k) % 5;
                let b = 1 + (i * 7 + k) % 5;
                let verdict = if a + b >= 6 { "satisfied" } else { "dissatisfied" };
                put(
                    Table::Evaluations,
                    format!("{code},E{k},T{k},2025-{month:02}-28,居民{k},{a},{b},{a},{b},{verdict},"),
                );
            }
        }
        if i % 3 == 0 {
            put(Table::Rectifications, format!("{code},R1,T0,2025-02-01,2025-02-20,2025-02-15,已整改"));
        }
    }
    t.into_iter()
        .map(|(table, text)| {
            let path = dir.join(format!("{}.csv", table.name()));
            std::fs::write(&path, text).expect("write ledger");
            (table, path)
        })
        .collect()
}

async fn small(dir: &Path, names: &[String]) -> Warehouse {
    let files = small_ledger(dir, names);
    ingest_all(&dir.join("wh"), &files).await
}

fn county() -> Scope {
    Scope::county(COUNTY).expect("county code")
}

async fn data(wh: &Warehouse, scope: &Scope, year: i32, quarter: Option<u32>) -> ChartData {
    let request = ChartRequest { year, quarter };
    ChartData::fetch(wh, &ChartName::ALL, scope, request, &Scheme::default(), &Snapshot::Latest)
        .await
        .expect("chart data")
}

// ---------------------------------------------------------------------------------------
// What a rendered chart must be

/// The PNG's size, DPI and RGB pixels.
struct Picture {
    width: u32,
    height: u32,
    dpi: f64,
    pixels: Vec<u8>,
}

fn decode_png(bytes: &[u8]) -> Picture {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let dpi = reader.info().pixel_dims.map_or(0.0, |d| f64::from(d.xppu) * 0.0254);
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).expect("PNG frame");
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    pixels.truncate(frame.buffer_size());
    Picture { width: frame.width, height: frame.height, dpi, pixels }
}

/// One `<text>` of an SVG with the box it occupies (in SVG pixels).
#[derive(Debug)]
struct SvgText {
    text: String,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

/// Parses the SVG (must be well-formed) and returns its texts with their boxes, measured
/// with the embedded font's advances (the widths the layout was computed with).
fn svg_texts(svg: &[u8]) -> (f64, f64, Vec<SvgText>) {
    let text = std::str::from_utf8(svg).expect("SVG is UTF-8");
    let doc = roxmltree::Document::parse(text).expect("SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    let number = |v: Option<&str>| v.and_then(|s| s.trim_end_matches("px").parse::<f64>().ok()).unwrap_or(0.0);
    let (width, height) = (number(root.attribute("width")), number(root.attribute("height")));
    let mut texts = Vec::new();
    for node in doc.descendants().filter(|n| n.has_tag_name("text")) {
        let content = node.text().unwrap_or("").trim().to_string();
        let family = node.attribute("font-family").unwrap_or("");
        assert!(family.contains("Noto Sans CJK SC") && family.contains("Microsoft YaHei"), "font stack: {family}");
        let size = number(node.attribute("font-size"));
        let (x, y) = (number(node.attribute("x")), number(node.attribute("y")));
        assert_eq!(node.attribute("dy"), Some("0.76em"), "texts are top-anchored");
        let w = fonts::text_width(&content, size / fonts::em_per_size());
        let left = match node.attribute("text-anchor") {
            Some("end") => x - w,
            Some("middle") => x - w / 2.0,
            _ => x,
        };
        let baseline = y + 0.76 * size;
        texts.push(SvgText {
            text: content,
            left,
            right: left + w,
            top: baseline - 0.88 * size,
            bottom: baseline + 0.12 * size,
        });
    }
    (width, height, texts)
}

/// No two texts overlap (beyond anti-aliasing slack) and every text lies on the page.
fn assert_no_overlap(name: &str, width: f64, height: f64, texts: &[SvgText]) {
    for t in texts {
        assert!(
            t.left >= -0.5 && t.right <= width + 0.5,
            "{name}: “{}” leaves the page ({:.1}–{:.1} of {width})",
            t.text,
            t.left,
            t.right
        );
        assert!(t.top >= -0.5 && t.bottom <= height + 0.5, "{name}: “{}” leaves the page vertically", t.text);
    }
    for (i, a) in texts.iter().enumerate() {
        for b in &texts[i + 1..] {
            let dx = a.right.min(b.right) - a.left.max(b.left);
            let dy = a.bottom.min(b.bottom) - a.top.max(b.top);
            assert!(dx <= 0.75 || dy <= 0.75, "{name}: “{}” overlaps “{}” ({dx:.1} × {dy:.1} px)", a.text, b.text);
        }
    }
}

/// Renders `chart` both ways and checks what every chart must have: a PNG at the
/// requested DPI, a well-formed SVG in the CJK font stack whose texts the embedded font
/// covers, do not overlap and include the title, the 口径 line and the provenance.
fn check_chart(chart: ChartName, data: &ChartData, options: &ChartOptions) -> (Picture, Vec<SvgText>) {
    let png = charts::render(chart, data, ChartFormat::Png, options).unwrap_or_else(|e| panic!("{chart} PNG: {e}"));
    keep_for_review(chart, &png);
    let picture = decode_png(&png);
    assert_eq!(picture.width, (f64::from(options.width_px) * options.scale).round() as u32, "{chart}");
    assert!((picture.dpi - 96.0 * options.scale).abs() < 0.5, "{chart}: DPI {}", picture.dpi);
    let inked = picture.pixels.chunks(3).filter(|p| p.iter().any(|c| *c < 128)).count();
    assert!(inked > 2000, "{chart}: the PNG is nearly blank");
    let svg = charts::render(chart, data, ChartFormat::Svg, options).unwrap_or_else(|e| panic!("{chart} SVG: {e}"));
    let (width, height, texts) = svg_texts(&svg);
    assert_eq!(width, f64::from(options.width_px));
    assert!((f64::from(picture.height) / options.scale - height).abs() < 1.0, "{chart}: PNG and SVG heights differ");
    let all: String = texts.iter().map(|t| t.text.as_str()).collect();
    assert!(
        fonts::missing_glyphs(&all).is_empty(),
        "{chart}: the embedded font lacks {:?}",
        fonts::missing_glyphs(&all)
    );
    assert!(texts.iter().any(|t| t.text.starts_with("口径：")), "{chart}: no 口径 line in {texts:?}");
    assert!(all.contains("评分方案：") && all.contains("数据版本："), "{chart}: no provenance footnote");
    assert!(all.contains(&data.request.year.to_string()), "{chart}: the period is not shown");
    assert_no_overlap(chart.name(), width, height, &texts);
    (picture, texts)
}

/// With `YISHI_CHARTS_OUT=DIR`, every PNG a test renders is kept there to look at.
fn keep_for_review(chart: ChartName, png: &[u8]) {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if let Some(dir) = std::env::var_os("YISHI_CHARTS_OUT") {
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let thread = std::thread::current().name().unwrap_or("test").replace("::", "-");
        let _ = std::fs::write(Path::new(&dir).join(format!("{thread}-{n:03}-{chart}.png")), png);
    }
}

fn check_all(data: &ChartData) {
    for chart in ChartName::ALL {
        check_chart(chart, data, &ChartOptions::default());
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn every_chart_renders_for_the_demo_county_and_one_of_its_communities() {
    runtime().block_on(async {
        let wh = demo().await;
        let county_data = data(&wh, &demo_county(), 2025, Some(3)).await;
        check_all(&county_data);
        let community_data = data(&wh, &demo_community(), 2025, Some(3)).await;
        check_all(&community_data);
        // A whole year, and a screen-sized picture at 1×.
        let year = data(&wh, &demo_county(), 2025, None).await;
        let screen = ChartOptions { width_px: 800, height_px: Some(500), scale: 1.0 };
        for chart in ChartName::ALL {
            let (picture, _) = check_chart(chart, &year, &screen);
            assert_eq!((picture.width, picture.height), (800, 500));
        }
    });
}

#[test]
fn the_trend_shows_every_community_and_the_evaluation_weighted_county_average() {
    runtime().block_on(async {
        let wh = demo().await;
        let data = data(&wh, &demo_county(), 2025, Some(3)).await;
        let (_, texts) = check_chart(ChartName::SatisfactionTrend, &data, &ChartOptions::default());
        let rows = report_rows(
            &wh.report(ReportKind::Quarterly, &demo_county(), 2025, None, &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        );
        let q3: Vec<_> = rows.iter().filter(|r| r["quarter"] == 3).collect();
        let (mut sum, mut weight) = (0.0, 0.0);
        for r in &q3 {
            if let (Some(i), Some(n)) = (r["satisfaction_index"].as_f64(), r["evaluations"].as_f64()) {
                sum += i * n;
                weight += n;
            }
        }
        let label = format!("{:.1}", sum / weight);
        assert!(texts.iter().any(|t| t.text == label), "the county average {label} is labelled on the trend");
        for r in &q3 {
            let name = r["community_name"].as_str().expect("name");
            assert!(texts.iter().any(|t| t.text == name), "{name} is in the legend");
        }
    });
}

#[test]
fn ranking_and_rates_follow_the_report_rows() {
    runtime().block_on(async {
        let wh = demo().await;
        let data = data(&wh, &demo_county(), 2025, Some(3)).await;
        let (_, texts) = check_chart(ChartName::CommunityRanking, &data, &ChartOptions::default());
        let mut rows = report_rows(
            &wh.report(ReportKind::Communities, &demo_county(), 2025, None, &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        );
        rows.sort_by_key(|r| r["rank_in_county"].as_i64());
        // Names top to bottom in rank order, each with its score, red list first.
        let names: Vec<&str> = rows.iter().map(|r| r["community_name"].as_str().expect("name")).collect();
        let mut shown: Vec<&SvgText> = texts.iter().filter(|t| names.contains(&t.text.as_str())).collect();
        shown.sort_by(|a, b| a.top.total_cmp(&b.top));
        assert_eq!(shown.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), names);
        let top = &rows[0];
        let tag = format!("{:.1} 红榜", top["score"].as_f64().expect("score"));
        assert!(texts.iter().any(|t| t.text == tag), "the leader is on the red list: {tag}");
        let avg = format!("县平均 {:.1}", top["county_avg_score"].as_f64().expect("avg"));
        assert!(texts.iter().any(|t| t.text == avg), "{avg}");

        let (_, texts) = check_chart(ChartName::RatesByCommunity, &data, &ChartOptions::default());
        let quarterly = report_rows(
            &wh.report(ReportKind::Quarterly, &demo_county(), 2025, Some(3), &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        );
        for r in &quarterly {
            for key in ["completion_rate", "on_time_rate", "publicity_rate"] {
                let shown = r[key].as_f64().map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
                assert!(texts.iter().any(|t| t.text == shown), "{key} {shown} of {}", r["community_name"]);
            }
        }
    });
}

#[test]
fn charts_render_for_a_single_community() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = small(dir.path(), &["东岭社区".to_string()]).await;
        check_all(&data(&wh, &county(), 2025, Some(2)).await);
        let community = Scope::community(&format!("{COUNTY}100001")).expect("code");
        check_all(&data(&wh, &community, 2025, Some(2)).await);
    });
}

#[test]
fn a_quarter_without_evaluations_draws_gaps_not_zeros() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let names: Vec<String> = (1..=4).map(|i| format!("第{i}社区")).collect();
        let wh = small(dir.path(), &names).await;
        let data = data(&wh, &county(), 2025, Some(3)).await;
        check_all(&data);
        // The heatmap marks exactly the null quarters with "—" (Q3 for every community).
        let rows = report_rows(
            &wh.report(ReportKind::Quarterly, &county(), 2025, None, &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        );
        let nulls =
            rows.iter().filter(|r| r["quarter"].as_i64() <= Some(3) && r["satisfaction_index"].is_null()).count();
        assert!(nulls >= names.len(), "Q3 has no evaluations");
        let (_, texts) = check_chart(ChartName::SatisfactionHeatmap, &data, &ChartOptions::default());
        assert_eq!(texts.iter().filter(|t| t.text == "—").count(), nulls);
        let (_, texts) = check_chart(ChartName::Dimensions, &data, &ChartOptions::default());
        assert!(texts.iter().any(|t| t.text.contains("没有评价")), "the dimensions say there were no evaluations");
        assert!(!texts.iter().any(|t| t.text == "0.00"), "no zero bars for missing means");
        let (_, texts) = check_chart(ChartName::TopicsByChannel, &data, &ChartOptions::default());
        assert!(texts.iter().any(|t| t.text.contains("没有议题")));
    });
}

#[test]
fn forty_character_community_names_are_shortened_without_overlap() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let long = "安泽县府城镇东关村民委员会第一居民小组暨和川镇沁河湾新农村建设示范社区服务中心";
        let long: String = long.chars().take(38).collect();
        let names =
            vec![format!("{long}东区"), format!("{long}西区"), "南关社区".into(), "北关社区".into(), "和川村".into()];
        assert_eq!(names[0].chars().count(), 40);
        let wh = small(dir.path(), &names).await;
        let data = data(&wh, &county(), 2025, Some(2)).await;
        check_all(&data);
        for chart in [ChartName::RatesByCommunity, ChartName::CommunityRanking, ChartName::SatisfactionHeatmap] {
            let (_, texts) = check_chart(chart, &data, &ChartOptions::default());
            let labels: Vec<&str> = texts.iter().map(|t| t.text.as_str()).filter(|t| t.contains('…')).collect();
            assert_eq!(labels.len(), 2, "{chart}: both long names are shortened: {labels:?}");
            assert_ne!(labels[0], labels[1], "{chart}: shortened names stay distinct");
            assert!(!texts.iter().any(|t| names[..2].contains(&t.text)), "{chart}: a 40-character label would not fit");
        }
        let community = Scope::community(&format!("{COUNTY}100001")).expect("code");
        check_all(&self::data(&wh, &community, 2025, Some(2)).await);
    });
}

#[test]
fn two_hundred_communities_grow_the_heatmap_and_rankings_show_top_and_bottom_twenty() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let names: Vec<String> = (1..=200).map(|i| format!("沁河{i}号社区")).collect();
        let wh = small(dir.path(), &names).await;
        let data = data(&wh, &county(), 2025, Some(2)).await;
        // The heatmap is a table of every community: it grows beyond an A4 page.
        let (picture, texts) = check_chart(ChartName::SatisfactionHeatmap, &data, &ChartOptions::default());
        assert_eq!(names.iter().filter(|n| texts.iter().any(|t| &t.text == *n)).count(), 200);
        assert!(picture.height > 1700, "200 rows need more than an A4 page ({}px)", picture.height);
        // The rankings keep the top and bottom 20 of the report's order, a marker between,
        // a note saying so, and fit an A4 page (850 logical px at 2×).
        let mut ranked = report_rows(
            &wh.report(ReportKind::Communities, &county(), 2025, None, &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        );
        ranked.sort_by_key(|r| (r["rank_in_county"].as_i64(), r["community_code"].as_str().map(String::from)));
        let ranked: Vec<&str> = ranked.iter().map(|r| r["community_name"].as_str().expect("name")).collect();
        let ends: Vec<&str> = ranked[..20].iter().chain(&ranked[180..]).copied().collect();
        for (chart, unit) in [
            (ChartName::CommunityRanking, "个社区"),
            (ChartName::RatesByCommunity, "个社区"),
            (ChartName::CadreScores, "人"),
        ] {
            let (picture, texts) = check_chart(chart, &data, &ChartOptions::default());
            let mut labels: Vec<&SvgText> = texts
                .iter()
                .filter(|t| names.contains(&t.text) || t.text.starts_with("干部") || t.text.contains("未列出"))
                .collect();
            labels.sort_by(|a, b| a.top.total_cmp(&b.top));
            let labels: Vec<&str> = labels.iter().map(|t| t.text.as_str()).collect();
            assert_eq!(labels.len(), 41, "{chart}: 20 + the marker + 20: {labels:?}");
            assert_eq!(labels[20], format!("……中间160{unit}未列出……"), "{chart}");
            if chart == ChartName::CommunityRanking {
                let shown: Vec<&str> = labels[..20].iter().chain(&labels[21..]).copied().collect();
                assert_eq!(shown, ends, "the ranking's first and last 20 by rank");
            }
            let note = format!("前20名与后20名，共200{unit}，完整名单见数据表");
            assert!(texts.iter().any(|t| t.text.contains(&note)), "{chart}: {note}");
            assert!(picture.height <= 1700, "{chart}: 41 rows fit an A4 page ({}px)", picture.height);
        }
    });
}

#[test]
fn annual_charts_say_the_year_and_quarterly_charts_the_quarter() {
    runtime().block_on(async {
        let wh = demo().await;
        let data = data(&wh, &demo_county(), 2025, Some(3)).await;
        let county_name = data.scope_text();
        for (chart, period) in [
            (ChartName::CadreScores, "2025年全年"),
            (ChartName::CommunityRanking, "2025年全年"),
            (ChartName::RatesByCommunity, "2025年第3季度"),
            (ChartName::TopicsByChannel, "2025年第3季度"),
            (ChartName::TopicsByCategory, "2025年第1—3季度"),
        ] {
            let (_, texts) = check_chart(chart, &data, &ChartOptions::default());
            let subtitle = format!("{period}｜{county_name}");
            assert!(texts.iter().any(|t| t.text.starts_with(&subtitle)), "{chart}: a subtitle starting {subtitle}");
            assert_eq!(charts::period_text(chart, &data).expect("period"), period, "{chart}");
        }
    });
}

/// The embedded font's rasterisation of `text` (the reference the PNG must match),
/// placed as `charts::specimen` places it.
fn reference(font: &FontRef<'_>, glyphs: &[GlyphId], em: f64, scale: f64, (w, h): (u32, u32)) -> Vec<f32> {
    let size = (em * scale / fonts::em_per_size()) as f32;
    let scaled = font.as_scaled(PxScale::from(size));
    let mut ink = vec![0f32; (w * h) as usize];
    let mut pen = (em / 2.0 * scale) as f32;
    let baseline = ((em + 0.38 * em) * scale) as f32;
    for id in glyphs {
        let glyph = id.with_scale_and_position(size, point(pen, baseline));
        if let Some(outline) = font.outline_glyph(glyph) {
            let b = outline.px_bounds();
            outline.draw(|x, y, c| {
                let (px, py) = (b.min.x as i64 + i64::from(x), b.min.y as i64 + i64::from(y));
                if (0..i64::from(w)).contains(&px) && (0..i64::from(h)).contains(&py) {
                    let cell = &mut ink[(py as u32 * w + px as u32) as usize];
                    *cell = (*cell + c).min(1.0);
                }
            });
        }
        pen += scaled.h_advance(*id);
    }
    ink
}

/// Ink (0 = white, 1 = black) of a decoded specimen.
fn ink(picture: &Picture) -> Vec<f32> {
    picture.pixels.chunks(3).map(|p| 1.0 - f32::from(p[0]) / 255.0).collect()
}

fn difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f32>() / a.iter().chain(b).sum::<f32>().max(1e-6)
}

#[test]
fn png_text_is_drawn_from_the_embedded_font_not_as_empty_boxes() {
    // No system font is consulted: plotters is built without font-kit, and the text is
    // rasterised from the bytes in the binary. The picture must equal the font's own
    // outlines and differ from its empty box (.notdef), character by character.
    let font = FontRef::try_from_slice(fonts::CJK_FONT).expect("embedded font parses");
    let (em, scale) = (24.0, 2.0);
    for text in ["满意度指数", "办结率按时公示", "0123456789", "安泽县（141026）"] {
        assert!(fonts::missing_glyphs(text).is_empty(), "{text}");
        let picture = decode_png(&charts::specimen(text, em, scale).expect("specimen"));
        let drawn = ink(&picture);
        let ids: Vec<GlyphId> = text.chars().map(|c| font.glyph_id(c)).collect();
        assert!(ids.iter().all(|id| id.0 != 0), "{text}: every character has a glyph");
        let want = reference(&font, &ids, em, scale, (picture.width, picture.height));
        assert!(difference(&drawn, &want) < 0.05, "{text}: the PNG does not match the font's outlines");
        let boxes = reference(&font, &vec![GlyphId(0); ids.len()], em, scale, (picture.width, picture.height));
        assert!(difference(&drawn, &boxes) > 0.5, "{text}: the PNG looks like empty boxes");
        // Each character has ink of its own shape: boxes would all be alike.
        let chars: Vec<char> = text.chars().collect();
        let cells: Vec<Vec<f32>> =
            ids.iter().map(|id| reference(&font, &[*id], em, scale, (picture.width, picture.height))).collect();
        for (i, a) in cells.iter().enumerate() {
            assert!(a.iter().sum::<f32>() > 20.0, "{text}: “{}” has no ink", chars[i]);
            for (j, b) in cells.iter().enumerate().skip(i + 1) {
                if chars[i] != chars[j] {
                    assert!(difference(a, b) > 0.2, "{text}: “{}” and “{}” look alike", chars[i], chars[j]);
                }
            }
        }
    }
    // And a character outside the font would be a box: the check above can tell.
    assert!(!fonts::missing_glyphs("\u{E000}").is_empty());
}

#[test]
fn xlsx_reads_back_with_the_numbers_of_the_json_report() {
    runtime().block_on(async {
        let wh = demo().await;
        let scheme = Scheme::default();
        let mut reports: Vec<Report> = Vec::new();
        for kind in ReportKind::ALL {
            let quarter = kind.is_quarterly().then_some(3);
            reports.push(
                wh.report(kind, &demo_county(), 2025, quarter, &scheme, &Snapshot::Latest).await.expect("report"),
            );
        }
        let refs: Vec<&Report> = reports.iter().collect();
        let bytes = dashboards::xlsx::workbook(&refs, &demo_county(), Some(&scheme)).expect("workbook");
        assert!(contains(&bytes, b"xl/charts/chart1.xml"), "native Excel charts");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pack.xlsx");
        std::fs::write(&path, &bytes).expect("write");
        let mut book: Xlsx<_> = open_workbook(&path).expect("calamine opens the workbook");
        for report in &reports {
            let sheet = dashboards::xlsx::sheet_name(report.kind);
            let range = book.worksheet_range(&sheet).unwrap_or_else(|e| panic!("sheet {sheet}: {e}"));
            compare_sheet(report, &range);
        }
        let about = book.worksheet_range(dashboards::xlsx::ABOUT_SHEET).expect("口径 sheet");
        let cells: Vec<String> = about.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
        assert!(cells.contains(&scheme.name), "the scheme is named");
        assert!(cells.contains(&scheme.hash()), "the scheme hash is given");
        for report in &reports {
            for column in people_columns(report) {
                let i = cells.iter().position(|c| c == column.key).unwrap_or_else(|| panic!("口径 of {}", column.key));
                assert!(cells.get(i + 1).is_some_and(|d| d.chars().count() > 1), "{} has a definition", column.key);
            }
        }
        assert!(book.sheet_names().contains(&dashboards::xlsx::CHART_SHEET.to_string()));
        // The single-report workbook of `yishi report --format xlsx` reads back the same.
        let single = dashboards::xlsx::report_workbook(&reports[0], &demo_county()).expect("workbook");
        std::fs::write(&path, &single).expect("write");
        let mut book: Xlsx<_> = open_workbook(&path).expect("open");
        compare_sheet(
            &reports[0],
            &book.worksheet_range(&dashboards::xlsx::sheet_name(reports[0].kind)).expect("sheet"),
        );
    });
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The columns people read: the report's, the token columns left out for their labels.
fn people_columns(report: &Report) -> Vec<&warehouse::analyses::ReportColumn> {
    dashboards::encoding::text::for_people_columns(&report.columns).into_iter().map(|i| &report.columns[i]).collect()
}

/// Every cell of the sheet equals the JSON row's value: headers in Chinese, numbers equal,
/// nulls empty, booleans 是/否; the columns people read (labels, no token columns).
fn compare_sheet(report: &Report, range: &calamine::Range<Data>) {
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().expect("header row").iter().map(|c| c.to_string()).collect();
    let chinese: Vec<&str> = people_columns(report).iter().map(|c| c.chinese).collect();
    assert_eq!(header, chinese, "{}", report.kind);
    let json = report_rows(report);
    assert_eq!(range.height() - 1, json.len(), "{}: row count", report.kind);
    let mut checked = 0;
    for (cells, row) in rows.zip(&json) {
        for (i, column) in people_columns(report).into_iter().enumerate() {
            let cell = cells.get(i).unwrap_or(&Data::Empty);
            match (&row[column.key], cell) {
                (Value::Null, Data::Empty) => {}
                (Value::Number(n), Data::Float(f)) => {
                    assert_eq!(n.as_f64(), Some(*f), "{} {}", report.kind, column.key);
                    checked += 1;
                }
                (Value::Number(n), Data::Int(v)) => assert_eq!(n.as_i64(), Some(*v), "{}", column.key),
                (Value::String(s), Data::String(t)) => assert_eq!(s, t, "{}", column.key),
                (Value::String(s), Data::Empty) => assert!(s.is_empty(), "{}: {s} missing", column.key),
                (Value::Bool(b), Data::String(t)) => assert_eq!(t, if *b { "是" } else { "否" }),
                (v, c) => panic!("{} {}: JSON {v:?} but cell {c:?}", report.kind, column.key),
            }
        }
    }
    assert!(checked > 0 || json.is_empty(), "{}: numbers were compared", report.kind);
}

#[test]
fn cli_writes_a_chart_and_the_report_pack_with_office_file_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = demo_root().join("wh");
    let root = root.to_str().expect("utf-8");
    let svg = dir.path().join("trend.svg");
    let out = yishi(&[
        "--warehouse",
        root,
        "--county",
        &demo_ledger().1,
        "chart",
        "satisfaction_trend",
        "--year",
        "2025",
        "--quarter",
        "3",
        "--out",
        svg.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, _, texts) = svg_texts(&std::fs::read(&svg).expect("svg written"));
    assert!(texts.iter().any(|t| t.text.contains("满意度指数趋势")));

    let png = dir.path().join("ranking.png");
    let out = yishi(&[
        "--warehouse",
        root,
        "--county",
        &demo_ledger().1,
        "chart",
        "community_ranking",
        "--year",
        "2025",
        "--format",
        "png",
        "--scale",
        "1",
        "--width",
        "700",
        "--out",
        png.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(decode_png(&std::fs::read(&png).expect("png written")).width, 700);

    let out = yishi(&["--warehouse", root, "chart", "pie_of_everything", "--year", "2025", "--out", "x.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("未知的图表"), "a Chinese error that lists the charts");

    let pack = dir.path().join("pack");
    let files = export_pack_2025_q3(root, &demo_ledger().1, &pack);
    assert_eq!(files.len(), 17, "{files:?}");
    let county_name = county_name(root);
    assert!(files.contains(&format!("2025年第3季度_满意度分析_{county_name}.xlsx")), "{files:?}");
    // Each chart's file names the period its figures cover: the annual assessments the
    // year, the trend and heatmap their span of quarters (2024 and 2025 to Q3).
    let periods = [
        "2024年第1季度—2025年第3季度",
        "2025年第3季度",
        "2025年第3季度",
        "2025年全年",
        "2025年全年",
        "2025年第1—3季度",
        "2025年第3季度",
        "2024年第1季度—2025年第3季度",
    ];
    for (i, (chart, period)) in ChartName::ALL.iter().zip(periods).enumerate() {
        for ext in ["png", "svg"] {
            let name = format!("{period}_图{}_{}_{county_name}.{ext}", i + 1, chart.chinese());
            assert!(files.contains(&name), "{name} in {files:?}");
            assert!(std::fs::metadata(pack.join(&name)).expect("file").len() > 1000);
        }
    }
}

fn county_name(root: &str) -> String {
    let out = yishi(&["--warehouse", root, "sql", "SELECT DISTINCT county_name FROM communities", "--format", "json"]);
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    rows[0]["county_name"].as_str().expect("county name").to_string()
}

#[test]
fn chart_names_options_and_errors() {
    for chart in ChartName::ALL {
        assert_eq!(ChartName::parse(chart.name()).expect("name"), chart);
        assert_eq!(ChartName::parse(chart.chinese()).expect("chinese"), chart);
    }
    assert_eq!(ChartName::parse("Satisfaction-Trend").expect("dash and case"), ChartName::SatisfactionTrend);
    let err = ChartName::parse("pie").expect_err("unknown");
    assert!(err.to_string().contains("satisfaction_heatmap"), "{err}");
    runtime().block_on(async {
        let wh = demo().await;
        let data = data(&wh, &demo_county(), 2025, Some(3)).await;
        let bad = ChartOptions { scale: 20.0, ..ChartOptions::default() };
        let err = charts::render(ChartName::Dimensions, &data, ChartFormat::Png, &bad).expect_err("scale 20");
        assert!(matches!(err, ChartError::InvalidOptions(_)), "{err}");
        // Charts and reports must share a scheme, or the cut-off lines would lie.
        let other = Scheme { name: "别的方案".into(), ..Scheme::default() };
        let reports = vec![
            wh.report(ReportKind::Cadres, &demo_county(), 2025, None, &Scheme::default(), &Snapshot::Latest)
                .await
                .expect("report"),
        ];
        let err = ChartData::new(ChartRequest { year: 2025, quarter: None }, demo_county(), other, reports)
            .expect_err("scheme mismatch");
        assert!(matches!(err, ChartError::SchemeMismatch { .. }), "{err}");
        // A chart whose report is missing says which.
        let empty =
            ChartData::new(ChartRequest { year: 2025, quarter: None }, demo_county(), Scheme::default(), Vec::new())
                .expect("data");
        let err = charts::render(ChartName::CadreScores, &empty, ChartFormat::Svg, &ChartOptions::default())
            .expect_err("missing");
        assert!(err.to_string().contains("cadres"), "{err}");
    });
}
