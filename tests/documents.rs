//! The written quarterly report (`yishi export report`, `dashboards::documents`): its
//! sentences against figures worked out BY HAND from the ledger in
//! `tests/fixtures/analyses/` (county 甲县 141026: 东岭社区 …001, 西岭社区 …002, 南岭社区
//! …003 with no records at all), and the DOCX opened by LibreOffice headless.
//!
//! The hand work, quarter by quarter (甲县 only; "idx" is the evaluation's
//! 100 × (mean of its four scores − 1) ÷ 4):
//!
//! - 2024 Q4: sessions S1 (东岭 12-15) = 1; topics T01, T02 = 2, closed T01 = 1 (50.0%);
//!   evaluation E00 (4,3,5,4 → mean 4 → idx 75, 满意) = 1: 满意率 100.0%, 指数 75.0.
//! - 2025 Q1: sessions 东岭 S2, S3, S4 + 西岭 S1 = 4; topics 东岭 T03–T07 (5) + 西岭 U01,
//!   U02, U04, U05, U06 (5) = 10; closed all but U06 (待议) = 9 → 90.0%; evaluations 东岭
//!   E01–E05 (idx 100, 100, 75, 75, 50; 满意, 满意, 基本满意, 不满意, 不满意) + 西岭 F01, F02
//!   (idx 75, 75; 满意) = 7; 满意 or 基本满意 = 3 + 2 = 5 → 5/7 = 71.43% → 71.4%; 指数
//!   (400 + 150) ÷ 7 = 78.571 → 78.6. Per community: 东岭 80.0 over 5, 西岭 75.0 over 2.
//! - 2025 Q2: sessions 东岭 S5 = 1; topics 东岭 T08–T11 (4) + 西岭 U03, U07, U08 (3) = 7, all
//!   closed → 100.0%; evaluations E06 (idx 100, 满意), E07 (idx 50, 基本满意) = 2 → 100.0%,
//!   指数 75.0, fewer than 5 → "样本较少". Only 东岭 has an index.
//! - 2025 Q3 and 2024 Q1–Q3: nothing at all.
//!
//! Changes are differences of the values as shown: Q2 − Q1: sessions 1 − 4 = −3, topics
//! 7 − 10 = −3, closed 7 − 9 = −2, 办结率 100.0 − 90.0 = +10.0 pp, evaluations 2 − 7 = −5,
//! 满意率 100.0 − 71.4 = +28.6 pp, 指数 75.0 − 78.6 = −3.6. Q1 − 2024 Q4: +3, +8, +8,
//! 90.0 − 50.0 = +40.0 pp, +6, 71.4 − 100.0 = −28.6 pp, 78.6 − 75.0 = +3.6.
//!
//! Red and black lists (2025): 东岭 raised 9 topics and 西岭 8, both ≥ 3, so 2 ranked
//! communities; N = min(5, ⌊2 ÷ 3⌋) = 0, so no list; 南岭 raised none: not ranked.
//!
//! Overdue as of 2025-06-30 (end of Q2): T02 (东岭 垃圾清运, due 2024-12-20, 办理中):
//! 11 + 31 + 28 + 31 + 30 + 31 + 30 = 192 days; U06 (西岭 电梯故障, due 2025-03-31, 待议):
//! 30 + 31 + 30 = 91 days; rectification R02 (due 2025-04-10, not done): 20 + 31 + 30 = 81
//! days. Nothing closed late within Q2 (T08–T11, U03, U07, U08 all by their deadline).

use std::path::Path;
use std::process::{Command, Stdio};

use ab_glyph::{Font, FontRef, GlyphId, PxScale, point};
use dashboards::charts::ChartOptions;
use dashboards::documents::narrative::{self, Totals};
use dashboards::documents::{self, Block, Document};
use dashboards::sources::WarehouseReports;
use ingest::Scope;
use serde_json::{Map, Value, json};
use warehouse::Snapshot;
use warehouse::scheme::CountySchemes;

use crate::support::{convert_to_pdf, demo_warehouse, fixture_warehouse, run_text, runtime, yishi};

fn county() -> Scope {
    Scope::county("141026").expect("county code")
}

/// The quarterly document of 甲县 for 2025 and `quarter` from the fixture ledger.
fn fixture_document(quarter: u32) -> Document {
    fixture_document_of(&county(), quarter)
}

fn fixture_document_of(scope: &Scope, quarter: u32) -> Document {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("wh");
    runtime().block_on(async {
        let wh = fixture_warehouse(root.to_str().expect("utf-8")).await;
        let schemes = CountySchemes::default();
        let source = WarehouseReports::new(&wh, &schemes, &Snapshot::Latest);
        documents::quarterly(&source, scope, 2025, quarter, &ChartOptions::default()).await.expect("document")
    })
}

fn paragraphs(document: &Document) -> Vec<&str> {
    document
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::Paragraph(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn table<'a>(document: &'a Document, caption_part: &str) -> &'a documents::Table {
    document
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) if t.caption.contains(caption_part) => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no table {caption_part}"))
}

#[test]
fn second_quarter_sentences_state_the_hand_worked_figures() {
    let document = fixture_document(2);
    assert_eq!(document.title, "甲县2025年第二季度说事议事工作满意度分析报告");
    assert!(document.cover[0].contains("甲县（141026）") && document.cover[0].contains("2025年4月1日—6月30日"));
    let text = paragraphs(&document);
    let expected = [
        // 3 communities in the reference table; evaluations 2 < 5: the qualifier.
        "2025年第二季度，全县3个社区共开展说事议事1次，收集议题7件，办结7件，办结率100.0%；\
         收到评价2条，满意率100.0%，满意度指数75.0分（仅2条评价，样本较少，仅供参考）。",
        // 2024 Q2 had no records but is in the years with data: counts compare, rates do not.
        "与上季度相比，会议次数减少3次，议题数减少3件，办结数减少2件，办结率上升10.0个百分点，评价数减少5条，\
         满意率上升28.6个百分点，满意度指数下降3.6分；与上年同期相比，会议次数增加1次，议题数增加7件，\
         办结数增加7件，办结率无可比数据，评价数增加2条，满意率无可比数据，满意度指数无可比数据。",
        "本季度有评价的社区不足2个，不列满意度指数靠前和靠后的社区。另有2个社区本季度无评价，未参与排名。",
        "2025年度社区考核（按生成本报告时的数据）暂无社区列入红黑榜。1个社区年度议题不足，不参与排名：南岭社区。",
        "截至2025年6月30日，逾期未办结议题2件，本季度逾期办结议题0件；逾期未完成整改1件，本季度逾期完成整改0件。\
         逾期未办结最久的议题：东岭社区“垃圾清运”（逾期192天）、西岭社区“电梯故障”（逾期91天）。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
}

#[test]
fn every_figure_of_the_overview_is_in_a_table() {
    let document = fixture_document(2);
    let comparison = table(&document, "主要指标与上季度");
    let row = |label: &str| comparison.rows.iter().find(|r| r[0] == label).unwrap_or_else(|| panic!("{label}"));
    assert_eq!(row("办结率（%）")[1..4], ["100.0%", "90.0%", "+10.0个百分点"]);
    assert_eq!(row("满意率（%）")[1..4], ["100.0%", "71.4%", "+28.6个百分点"]);
    assert_eq!(row("满意度指数（分）")[1..6], ["75.0", "78.6", "-3.6分", "—", "—"]);
    assert_eq!(row("议题数（件）")[1..6], ["7", "10", "-3件", "0", "+7件"]);
    let communities = table(&document, "各社区主要指标");
    let total = communities.rows.last().expect("the total row");
    assert_eq!(total[..8], ["合计", "1", "7", "7", "100.0%", "2", "100.0%", "75.0"]);
    let overdue = table(&document, "逾期事项");
    assert!(overdue.caption.contains("共3项"), "{}", overdue.caption);
    assert_eq!(overdue.rows[0][2..], ["垃圾清运", "张二", "2024-12-20", "逾期未办结", "192"]);
}

#[test]
fn first_quarter_names_the_leader_and_the_laggard_and_the_changes() {
    let document = fixture_document(1);
    let text = paragraphs(&document);
    let expected = [
        "2025年第一季度，全县3个社区共开展说事议事4次，收集议题10件，办结9件，办结率90.0%；\
         收到评价7条，满意率71.4%，满意度指数78.6分。",
        // Two communities with evaluations: k = min(5, ⌊2 ÷ 2⌋) = 1 each way.
        "按满意度指数，本季度排名靠前的社区：东岭社区（80.0分）；排名靠后的社区：西岭社区（75.0分，仅2条评价）。\
         另有1个社区本季度无评价，未参与排名。",
        "与上季度相比，会议次数增加3次，议题数增加8件，办结数增加8件，办结率上升40.0个百分点，评价数增加6条，\
         满意率下降28.6个百分点，满意度指数上升3.6分；与上年同期相比，会议次数增加4次，议题数增加10件，\
         办结数增加9件，办结率无可比数据，评价数增加7条，满意率无可比数据，满意度指数无可比数据。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
}

#[test]
fn a_quarter_without_evaluations_says_so_and_shows_no_rate() {
    let document = fixture_document(3);
    let text = paragraphs(&document);
    let overview = "2025年第三季度，全县3个社区共开展说事议事0次，本季度未收集议题；本季度无评价。";
    assert!(text.contains(&overview), "{}", text.join("\n"));
    // 2024 Q3 was empty too: every count 持平, every rate without a value.
    let year_ago = "与上年同期相比，会议次数持平，议题数持平，办结数持平，办结率无可比数据，评价数持平，\
                    满意率无可比数据，满意度指数无可比数据。";
    assert!(text.iter().any(|p| p.ends_with(year_ago)), "{}", text.join("\n"));
    let narrative = text.iter().take(2).copied().collect::<String>();
    assert!(!narrative.contains("满意率0") && !narrative.contains("0.0%"), "{narrative}");
    let comparison = table(&document, "主要指标与上季度");
    let satisfaction = comparison.rows.iter().find(|r| r[0] == "满意率（%）").expect("row");
    assert_eq!(satisfaction[1], "—");
}

/// 东岭社区's own document of 2025 Q2. Q1 had 3 sessions, 5 topics all closed (100.0%), 5
/// evaluations of which 3 满意 or 基本满意 (60.0%), index 80.0; Q2 has 1, 4, 4 (100.0%), 2
/// (100.0%), 75.0. Its 2025 assessment: completion 9/9, on time 8/9 (T07 late), publicised
/// 5/9, index 550/7 = 78.571, rectifications 1/2 on time, regular sessions 3/24 →
/// 25 + 15·8/9 + 35·0.785714 + 10·0.5 + 10·5/9 + 5·0.125 = 77.0139 → 77.01; 西岭 scores
/// 72.62 and 南岭 10 (only its rectification rate of 1), so 东岭 is first; with two ranked
/// communities N = 0: on no list.
#[test]
fn a_community_document_speaks_of_the_community() {
    let scope = Scope::community("141026100001").expect("community code");
    let document = fixture_document_of(&scope, 2);
    assert_eq!(document.title, "东岭社区2025年第二季度说事议事工作满意度分析报告");
    let text = paragraphs(&document);
    let expected = [
        "2025年第二季度，东岭社区共开展说事议事1次，收集议题4件，办结4件，办结率100.0%（仅4件议题，样本较少，仅供参考）；\
         收到评价2条，满意率100.0%，满意度指数75.0分（仅2条评价，样本较少，仅供参考）。",
        "与上季度相比，会议次数减少2次，议题数减少1件，办结数减少1件，办结率持平，评价数减少3条，满意率上升40.0个百分点，\
         满意度指数下降5.0分；与上年同期相比，会议次数增加1次，议题数增加4件，办结数增加4件，办结率无可比数据，\
         评价数增加2条，满意率无可比数据，满意度指数无可比数据。",
        "东岭社区2025年度社区考核（按生成本报告时的数据）得分77.01分，县内排名第1名，未列入红黑榜。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
    assert!(!text.iter().any(|p| p.contains("本季度排名靠前")), "no ranking in a community's own document");
}

fn row(name: &str, index: f64, evaluations: i64) -> Map<String, Value> {
    let value = json!({"community_name": name, "satisfaction_index": index, "evaluations": evaluations});
    value.as_object().cloned().expect("object")
}

/// Twelve communities: k = min(5, ⌊12 ÷ 2⌋) = 5. Indices 95 90 88 85 80 80 70 65 60 55 50
/// 45: the two at 80.0 both have 4 communities strictly above them, so the top holds six
/// (ties at the cut-off all in); the bottom is 45 50 55 60 65 (70 has 5 below it).
#[test]
fn top_and_bottom_five_with_a_tie_at_the_cut_off() {
    let indices = [95.0, 90.0, 88.0, 85.0, 80.0, 80.0, 70.0, 65.0, 60.0, 55.0, 50.0, 45.0];
    let rows: Vec<_> = indices.iter().enumerate().map(|(i, x)| row(&format!("社区{:02}", i + 1), *x, 10)).collect();
    let (top, bottom) = narrative::leaders(&rows);
    let names = |list: &[narrative::Placed]| list.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&top), ["社区01", "社区02", "社区03", "社区04", "社区05", "社区06"]);
    assert_eq!(names(&bottom), ["社区12", "社区11", "社区10", "社区09", "社区08"]);
}

#[test]
fn direction_words_follow_the_values_as_shown() {
    let totals = |topics: i64, closed: i64| {
        Totals::of(&[json!({"topics_raised": topics, "topics_closed": closed}).as_object().cloned().expect("object")])
    };
    use narrative::Compared::CompletionRate;
    // 2/3 = 66.7% and 667/1000 = 66.7%: the same as shown, so 持平.
    assert_eq!(CompletionRate.change_words(&totals(3, 2), &totals(1000, 667)), "办结率持平");
    assert_eq!(CompletionRate.change_words(&totals(4, 3), &totals(4, 2)), "办结率上升25.0个百分点");
    assert_eq!(CompletionRate.change_words(&totals(4, 1), &totals(4, 2)), "办结率下降25.0个百分点");
    assert_eq!(CompletionRate.change_words(&totals(4, 1), &totals(0, 0)), "办结率无可比数据");
}

// ---------------------------------------------------------------------------------------
// The DOCX in a real client.

/// The page count of the demo county's document, reasoned from the page. A4 with the 公文
/// margins leaves 156 × 225 mm: 22 body lines of 28.95 pt (10.2 mm). In body lines:
/// - title, cover and headings: about 10;
/// - eight paragraphs of 2–5 lines: about 25;
/// - four charts 156 mm wide and at least 400 px (106 mm) tall, with captions: about 45;
/// - four tables of 10.5 pt rows (about 6 mm, 0.6 line): 7 + 9 + 8 rows and up to 30
///   overdue items (some two lines): about 35 with the captions.
///
/// That is about 115 lines, 5.2 pages before the appendix, which starts a page of its own
/// and holds 16 paragraphs of definitions (about 45 lines, 2 pages): at least 7 pages with
/// no room lost, so 6 allows for a denser layout than reckoned. A chart kept whole with its
/// caption can push half a page of blank ahead of it (four charts: 2 pages) and a table's
/// caption kept with it a few lines more: about 10 pages at most as reckoned; 16 leaves
/// room for longer names and more wrapped lines, and more means the layout has gone wrong
/// (9 when this was written).
const PAGES: std::ops::RangeInclusive<usize> = 6..=16;

/// soffice with its Writer component (a Calc-only install cannot load a DOCX), pdfinfo
/// and pdftotext.
fn tools_present() -> bool {
    let runs = |tool: &str, arg: &str| {
        Command::new(tool).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    };
    runs("soffice", "--version") && runs("pdfinfo", "-v") && runs("pdftotext", "-v") && writer_installed()
}

fn writer_installed() -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("soffice"))
        .find(|p| p.exists())
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| p.parent().map(|dir| dir.join("libswlo.so").exists()))
        .unwrap_or(false)
}

fn pages(pdf: &str) -> usize {
    let info = run_text("pdfinfo", &[pdf]);
    let line = info.lines().find(|l| l.starts_with("Pages:")).expect("a page count");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
}

#[test]
fn demo_county_document_opens_in_libreoffice_with_title_and_narrative() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (root, county) = demo_warehouse(dir.path(), 8);
    let docx = dir.path().join("report.docx");
    let args = ["--warehouse", &root, "--county", &county, "export", "report", "--year", "2025", "--quarter", "3"];
    let out = yishi(&[&args[..], &["--out", docx.to_str().expect("utf-8")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let title = stderr.split('《').nth(1).and_then(|t| t.split('》').next()).expect("the title on stderr").to_string();
    assert!(title.ends_with("2025年第三季度说事议事工作满意度分析报告"), "{title}");
    check_layout(&docx);
    if !tools_present() {
        assert!(
            std::env::var_os("YISHI_REQUIRE_LIBREOFFICE").is_none_or(|v| v != "1"),
            "YISHI_REQUIRE_LIBREOFFICE=1 but soffice (with Writer), pdfinfo or pdftotext is not installed"
        );
        eprintln!("SKIPPED: LibreOffice Writer, pdfinfo or pdftotext not installed");
        return;
    }
    let pdf = convert_to_pdf(&docx, dir.path());
    let pdf = pdf.to_str().expect("utf-8");
    let count = pages(pdf);
    assert!(PAGES.contains(&count), "{count} pages, expected {PAGES:?}");
    // LibreOffice spaces digits apart from Hanzi and wraps lines: compare without blanks.
    let text: String = run_text("pdftotext", &[pdf, "-"]).split_whitespace().collect();
    assert!(text.contains(&title), "no title in the PDF's text");
    assert!(text.contains("全县8个社区共开展说事议事"), "no overview sentence in the PDF's text");
    assert!(text.contains("表1主要指标与上季度、上年同期比较") && text.contains("图4社区排名"), "captions");
    assert!(text.contains("附录：口径") && text.contains("—1—"), "appendix and page numbers");
}

/// The DOCX's own markup: A4 with the 公文 margins, a PAGE field in the footer, every run
/// with text naming an East-Asian face (else 汉字 fall back to the Latin face) and four
/// pictures.
fn check_layout(docx: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(docx).expect("open")).expect("a zip");
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).expect(name), &mut text).expect("utf-8");
        text
    };
    let (document, footer) = (part("word/document.xml"), part("word/footer1.xml"));
    let xml = roxmltree::Document::parse(&document).expect("document.xml");
    let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    let attr = |node: roxmltree::Node, name: &str| node.attribute((w, name)).map(str::to_string);
    let size = xml.descendants().find(|n| n.has_tag_name((w, "pgSz"))).expect("page size");
    assert_eq!((attr(size, "w").as_deref(), attr(size, "h").as_deref()), (Some("11906"), Some("16838")), "A4");
    let margins = xml.descendants().find(|n| n.has_tag_name((w, "pgMar"))).expect("margins");
    // 37, 35, 28, 26 mm at 56.693 twips a millimetre.
    let got: Vec<Option<String>> = ["top", "bottom", "left", "right"].iter().map(|m| attr(margins, m)).collect();
    let want: Vec<Option<String>> = ["2098", "1984", "1587", "1474"].iter().map(|m| Some(m.to_string())).collect();
    assert_eq!(got, want);
    let runs: Vec<_> = xml
        .descendants()
        .filter(|n| n.has_tag_name((w, "r")) && n.children().any(|c| c.has_tag_name((w, "t"))))
        .collect();
    assert!(runs.len() > 50, "{} runs", runs.len());
    for run in runs {
        let fonts = run.descendants().find(|n| n.has_tag_name((w, "rFonts")));
        let east_asia = fonts.and_then(|f| attr(f, "eastAsia"));
        assert!(east_asia.is_some_and(|f| ["仿宋", "黑体", "宋体"].contains(&f.as_str())), "a run without a CJK face");
    }
    assert!(footer.contains("PAGE"), "no page number field in the footer");
    let pictures = (1..).take_while(|i| archive.by_name(&format!("word/media/rIdImage{i}.png")).is_ok()).count();
    assert!(pictures >= 4, "{pictures} pictures");
}

/// The text of a DOCX's body (every `w:t`, in order, without breaks).
pub(crate) fn docx_text(docx: &Path) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(docx).expect("open")).expect("a zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("word/document.xml").expect("document.xml"), &mut xml)
        .expect("utf-8");
    let document = roxmltree::Document::parse(&xml).expect("document.xml");
    let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
    document.descendants().filter(|n| n.has_tag_name((w, "t"))).filter_map(|n| n.text()).collect()
}

/// A year outside the ledger's years has no rows: a message, no document.
#[test]
fn a_quarter_without_any_data_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("wh");
    let error = runtime().block_on(async {
        let wh = fixture_warehouse(root.to_str().expect("utf-8")).await;
        let schemes = CountySchemes::default();
        let source = WarehouseReports::new(&wh, &schemes, &Snapshot::Latest);
        documents::quarterly(&source, &county(), 2019, 3, &ChartOptions::default()).await.expect_err("no data")
    });
    assert!(error.to_string().starts_with("2019年第三季度在所选范围内没有数据"), "{error}");
}

/// The PDF written without LibreOffice: A4, its only font the embedded Noto Sans CJK, the
/// text readable (ToUnicode), and the title drawn with no system font at all (fontconfig
/// given an empty configuration, so nothing could stand in for a missing embedded font).
#[test]
fn pdf_is_a4_with_the_embedded_font_and_shows_the_narrative() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (root, county) = demo_warehouse(dir.path(), 8);
    let pdf = dir.path().join("report.pdf");
    let args = ["--warehouse", &root, "--county", &county, "export", "report", "--year", "2025", "--quarter", "3"];
    let out = yishi(&[&args[..], &["--format", "pdf", "--out", pdf.to_str().expect("utf-8")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&pdf).expect("pdf").starts_with(b"%PDF-"));
    if !poppler_present() {
        assert!(
            std::env::var_os("YISHI_REQUIRE_LIBREOFFICE").is_none_or(|v| v != "1"),
            "YISHI_REQUIRE_LIBREOFFICE=1 but pdfinfo, pdffonts, pdftotext or pdftoppm is not installed"
        );
        eprintln!("SKIPPED: poppler's tools not installed");
        return;
    }
    let path = pdf.to_str().expect("utf-8");
    let count = pages(path);
    assert!(PAGES.contains(&count), "{count} pages, expected {PAGES:?} (the same page as the DOCX)");
    assert!(run_text("pdfinfo", &[path]).contains("595.28 x 841.89 pts (A4)"));
    let fonts = run_text("pdffonts", &[path]);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "one font: {fonts}");
    assert!(rows[0].starts_with("NotoSansCJKsc-Regular") && rows[0].contains(" yes "), "embedded: {fonts}");
    let text: String = run_text("pdftotext", &[path, "-"]).split_whitespace().collect();
    for expected in [
        "2025年第三季度说事议事工作满意度分析报告",
        "全县8个社区共开展说事议事",
        "表1主要指标与上季度、上年同期比较",
        "图4社区排名",
        "附录：口径",
        "—1—",
    ] {
        assert!(text.contains(expected), "no {expected} in the PDF's text");
    }
    let (width, pixels) = render_without_fonts(path, dir.path(), 72.0);
    assert!(title_ink(width, &pixels) > 0.02, "the title is not drawn without system fonts");
    glyphs_match_the_font(path, dir.path());
}

fn poppler_present() -> bool {
    ["pdfinfo", "pdffonts", "pdftotext", "pdftoppm"].iter().all(|tool| {
        Command::new(tool).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// Page 1 rendered by poppler in grey at `dpi` with fontconfig knowing no font (so nothing
/// can stand in for a missing embedded font): its width and pixels.
fn render_without_fonts(pdf: &str, dir: &Path, dpi: f64) -> (usize, Vec<u8>) {
    let conf = dir.join("no-fonts.conf");
    std::fs::write(&conf, "<?xml version=\"1.0\"?>\n<fontconfig></fontconfig>\n").expect("fonts.conf");
    let stem = dir.join(format!("page-{dpi}"));
    let out = Command::new("pdftoppm")
        .env("FONTCONFIG_FILE", &conf)
        .args(["-r", &dpi.to_string(), "-gray", "-f", "1", "-l", "1", "-singlefile", pdf])
        .arg(&stem)
        .output()
        .expect("pdftoppm");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pgm = std::fs::read(stem.with_extension("pgm")).expect("pgm");
    let (width, pixels) = parse_pgm(&pgm);
    (width, pixels.to_vec())
}

/// The share of dark pixels in the title's band of page 1 at 72 DPI (from the top margin,
/// 37 mm, down two 22 pt lines).
fn title_ink(width: usize, pixels: &[u8]) -> f64 {
    let top = (37.0 * 72.0 / 25.4) as usize;
    let band = &pixels[top * width..(top + 66) * width];
    band.iter().filter(|p| **p < 128).count() as f64 / band.len() as f64
}

/// Every character of the all-Hanzi words on page 1 (title, table headers), as poppler draws
/// it with no system font, looks most like its own glyph in the embedded font: more than
/// like any other character of the word or the font's empty box (.notdef, the "tofu").
/// Wrong CIDs (another character's glyph) or a missing font fail this.
fn glyphs_match_the_font(pdf: &str, dir: &Path) {
    let dpi = 144.0;
    let (width, pixels) = render_without_fonts(pdf, dir, dpi);
    let font = FontRef::try_from_slice(dashboards::fonts::CJK_FONT).expect("the embedded font");
    let em = font.units_per_em().expect("units per em");
    let (ascent, line) = (font.ascent_unscaled() / em, (font.ascent_unscaled() - font.descent_unscaled()) / em);
    let words = hanzi_words(pdf);
    assert!(words.len() >= 3, "Hanzi words on page 1: {words:?}");
    let mut checked = 0;
    for (text, x_min, y_min, y_max) in &words {
        let to_px = |pt: f64| pt * dpi / 72.0;
        let size = to_px((y_max - y_min) / f64::from(line));
        let (cell_w, cell_h) = (size.round() as usize, to_px(y_max - y_min).round() as usize);
        let chars: Vec<char> = text.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            let (x0, y0) = ((to_px(*x_min) + i as f64 * size).round() as usize, to_px(*y_min).round() as usize);
            let drawn: Vec<f32> = (0..cell_h)
                .flat_map(|y| (0..cell_w).map(move |x| (x, y)))
                .map(|(x, y)| 1.0 - f32::from(pixels[(y0 + y) * width + x0 + x]) / 255.0)
                .collect();
            let like = |glyph: GlyphId| {
                similarity(&drawn, &raster(&font, glyph, size as f32, size as f32 * ascent, (cell_w, cell_h)))
            };
            let own = like(font.glyph_id(*c));
            assert!(own > 0.5, "{c} in {text}: not like its glyph ({own:.2})");
            let rivals = chars.iter().filter(|o| *o != c).map(|o| font.glyph_id(*o)).chain([GlyphId(0)]);
            for rival in rivals {
                assert!(own > like(rival), "{c} in {text} looks like another glyph ({rival:?})");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} characters checked");
}

/// The words of page 1 made only of CJK ideographs (at least two), with their boxes in points.
fn hanzi_words(pdf: &str) -> Vec<(String, f64, f64, f64)> {
    let html = run_text("pdftotext", &["-f", "1", "-l", "1", "-bbox", pdf, "-"]);
    let attribute = |line: &str, name: &str| -> Option<f64> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[start..].split('"').next()?.parse().ok()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .filter_map(|l| {
            let text = l.split('>').nth(1)?.split('<').next()?.to_string();
            let hanzi = text.chars().count() >= 2 && text.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            hanzi.then(|| Some((text, attribute(l, "xMin")?, attribute(l, "yMin")?, attribute(l, "yMax")?)))?
        })
        .collect()
}

/// The embedded font's rasterisation of one glyph in a cell of `size` px per em, its
/// baseline `ascent` px below the cell's top.
fn raster(font: &FontRef<'_>, glyph: GlyphId, size: f32, ascent: f32, (w, h): (usize, usize)) -> Vec<f32> {
    let scale = PxScale::from(size / dashboards::fonts::em_per_size() as f32);
    let mut ink = vec![0f32; w * h];
    if let Some(outline) = font.outline_glyph(glyph.with_scale_and_position(scale, point(0.0, ascent))) {
        let b = outline.px_bounds();
        outline.draw(|x, y, c| {
            let (px, py) = (b.min.x as i64 + i64::from(x), b.min.y as i64 + i64::from(y));
            if (0..w as i64).contains(&px) && (0..h as i64).contains(&py) {
                ink[py as usize * w + px as usize] = c.min(1.0);
            }
        });
    }
    ink
}

/// The cosine of two ink images after subtracting their means (1 = the same shape).
fn similarity(a: &[f32], b: &[f32]) -> f32 {
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
    let (ma, mb) = (mean(a), mean(b));
    let (mut dot, mut na, mut nb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (x - ma, y - mb);
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    dot / (na * nb).sqrt().max(1e-6)
}

/// A binary PGM's width and pixels.
fn parse_pgm(pgm: &[u8]) -> (usize, &[u8]) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !pgm[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&pgm[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P5", "a binary PGM");
    (fields[1].parse().expect("width"), &pgm[at + 1..])
}

// ---------------------------------------------------------------------------------------
// The year-end document (`yishi export report` without `--quarter`), from the same fixture
// ledger. Hand work for 甲县's 2025 (quarters as above; Q3 and Q4 have no records):
//
// - the year: sessions 4 + 1 = 5; topics 10 + 7 = 17, closed 9 + 7 = 16 → 16/17 = 94.12%
//   → 94.1%; evaluations 7 + 2 = 9, 满意 or 基本满意 5 + 2 = 7 → 77.78% → 77.8%; index
//   (550 + 150) ÷ 9 = 77.78 → 77.8. 2024 (only Q4): 1, 2, 1 (50.0%), 1 (100.0%), 75.0.
//   Changes: +4, +15, +15, 94.1 − 50.0 = +44.1 pp, +8, 77.8 − 100.0 = −22.2 pp,
//   77.8 − 75.0 = +2.8.
// - cadres 2025 (see analyses::cadre_grades_follow_quota_ties_and_minimum_topics): K1 优秀,
//   K2 K4 称职, K3 基本称职, K5 不称职, K6 未评定 (2 topics); 2024: K1 and K2 led one topic
//   each (T01, T02), the others none: all six 未评定 (< 3 topics). So five changed, K6 not.
// - overdue as of 2025-12-31: T02 open since its deadline 2024-12-20: 11 + 365 = 376 days;
//   U06 (due 03-31): 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30 + 31 = 275; R02 (due 04-10):
//   20 + 245 = 265; closed late within 2025: T07 (due 03-10, closed 03-20) and U05 (due
//   02-22, closed 03-01); R01 closed 03-01 before its 03-05 deadline.

fn fixture_year_document(scope: &Scope, year: i32) -> Document {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("wh");
    runtime().block_on(async {
        let wh = fixture_warehouse(root.to_str().expect("utf-8")).await;
        let schemes = CountySchemes::default();
        let source = WarehouseReports::new(&wh, &schemes, &Snapshot::Latest);
        documents::yearly(&source, scope, year, &ChartOptions::default()).await.expect("document")
    })
}

#[test]
fn year_document_states_the_hand_worked_year() {
    let document = fixture_year_document(&county(), 2025);
    assert_eq!(document.title, "甲县2025年度说事议事工作满意度分析报告");
    assert_eq!(document.file_stem, "2025年度_满意度分析报告_甲县");
    assert!(document.cover[0].contains("期间：2025年（2025年1月1日—12月31日）"), "{}", document.cover[0]);
    let text = paragraphs(&document);
    let expected = [
        "2025年，全县3个社区共开展说事议事5次，收集议题17件，办结16件，办结率94.1%；\
         收到评价9条，满意率77.8%，满意度指数77.8分。",
        "与上年相比，会议次数增加4次，议题数增加15件，办结数增加15件，办结率上升44.1个百分点，评价数增加8条，\
         满意率下降22.2个百分点，满意度指数上升2.8分。",
        "分季度看：第一季度开展说事议事4次，收集议题10件，办结率90.0%，收到评价7条，满意率71.4%；\
         第二季度开展说事议事1次，收集议题7件，办结率100.0%，收到评价2条，满意率100.0%（样本较少）；\
         第三季度无说事议事、议题和评价记录；第四季度无说事议事、议题和评价记录。",
        "2025年度社区考核（按生成本报告时的数据）暂无社区列入红黑榜。1个社区年度议题不足，不参与排名：南岭社区。",
        "2025年度社区干部考核（按生成本报告时的数据）共6名干部，评定优秀1名、称职2名、基本称职1名、不称职1名；\
         1名干部年度牵头议题不足，未评定。",
        "与2024年度相比，考核等级发生变化的干部5名：张一（东岭社区）由未评定变为优秀、张二（东岭社区）由未评定变为称职、\
         张三（东岭社区）由未评定变为基本称职、李四（西岭社区）由未评定变为称职、李五（西岭社区）由未评定变为不称职。",
        "截至2025年12月31日，逾期未办结议题2件，本年度逾期办结议题2件；逾期未完成整改1件，本年度逾期完成整改0件。\
         逾期未办结最久的议题：东岭社区“垃圾清运”（逾期376天）、西岭社区“电梯故障”（逾期275天）。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
}

#[test]
fn every_figure_of_the_year_sentences_is_in_a_table() {
    let document = fixture_year_document(&county(), 2025);
    let comparison = table(&document, "全年主要指标与上年比较");
    let row = |label: &str| comparison.rows.iter().find(|r| r[0] == label).unwrap_or_else(|| panic!("{label}"));
    assert_eq!(row("办结率（%）")[1..], ["94.1%", "50.0%", "+44.1个百分点"]);
    assert_eq!(row("满意率（%）")[1..], ["77.8%", "100.0%", "-22.2个百分点"]);
    assert_eq!(row("满意度指数（分）")[1..], ["77.8", "75.0", "+2.8分"]);
    let quarters = table(&document, "分季度主要指标");
    assert_eq!(quarters.rows[0], ["第一季度", "4", "10", "9", "90.0%", "7", "71.4%", "78.6"]);
    assert_eq!(quarters.rows[1], ["第二季度", "1", "7", "7", "100.0%", "2", "100.0%", "75.0"]);
    assert_eq!(quarters.rows[2][1..4], ["0", "0", "0"]);
    assert_eq!(quarters.rows[4], ["全年", "5", "17", "16", "94.1%", "9", "77.8%", "77.8"]);
    let grades = table(&document, "社区干部考核等级");
    let counts: Vec<(&str, &str)> = grades.rows.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(
        counts,
        [("优秀", "1"), ("称职", "2"), ("基本称职", "1"), ("不称职", "1"), ("未评定", "1"), ("合计", "6")]
    );
    let changes = table(&document, "考核等级较2024年度变化的干部");
    assert!(changes.caption.contains("共5名"), "{}", changes.caption);
    // K1: 100 points, first in the county (analyses' hand work).
    assert_eq!(changes.rows[0], ["张一", "东岭社区", "未评定", "优秀", "100.00", "1"]);
    let overdue = table(&document, "逾期事项");
    assert!(overdue.caption.contains("共5项"), "{}", overdue.caption);
    assert_eq!(overdue.rows[0][2..], ["垃圾清运", "张二", "2024-12-20", "逾期未办结", "376"]);
}

/// 2024: only Q4 has records, 2023 is before the first year with data, so nothing to compare
/// with; every cadre 未评定 (T01, T02: one topic each).
#[test]
fn first_year_document_compares_with_nothing() {
    let document = fixture_year_document(&county(), 2024);
    let text = paragraphs(&document);
    let expected = [
        "2024年，全县3个社区共开展说事议事1次，收集议题2件，办结1件，办结率50.0%（仅2件议题，样本较少，仅供参考）；\
         收到评价1条，满意率100.0%，满意度指数75.0分（仅1条评价，样本较少，仅供参考）。",
        "上年无数据，不作比较。",
        "2024年度社区干部考核（按生成本报告时的数据）共6名干部，评定优秀0名、称职0名、基本称职0名、不称职0名；\
         6名干部年度牵头议题不足，未评定。",
        "2023年度无干部考核数据，不作等级比较。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
}

/// 东岭社区's own year-end document. 2025: Q1 3 sessions, 5 topics all closed, 5 evaluations
/// (3 满意 or 基本满意, index 80.0 → 400); Q2 1, 4, 4, 2 (both, 75.0 → 150): the year 4
/// sessions, 9 topics, 9 closed (100.0%), 7 evaluations, 5/7 = 71.4%, 550 ÷ 7 = 78.571 →
/// 78.6. 2024 (Q4 only): 1, 2, 1 (50.0%), 1 (100.0%), 75.0: +3, +7, +8, +50.0 pp, +6,
/// 71.4 − 100.0 = −28.6 pp, +3.6. Its cadres K1 优秀, K2 称职, K3 基本称职 (graded in the
/// county), all 未评定 in 2024. Its assessment as in the quarterly community test.
#[test]
fn a_community_year_document_speaks_of_the_community() {
    let scope = Scope::community("141026100001").expect("community code");
    let document = fixture_year_document(&scope, 2025);
    assert_eq!(document.title, "东岭社区2025年度说事议事工作满意度分析报告");
    let text = paragraphs(&document);
    let expected = [
        "2025年，东岭社区共开展说事议事4次，收集议题9件，办结9件，办结率100.0%；收到评价7条，满意率71.4%，满意度指数78.6分。",
        "与上年相比，会议次数增加3次，议题数增加7件，办结数增加8件，办结率上升50.0个百分点，评价数增加6条，\
         满意率下降28.6个百分点，满意度指数上升3.6分。",
        "东岭社区2025年度社区考核（按生成本报告时的数据）得分77.01分，县内排名第1名，未列入红黑榜。",
        "2025年度社区干部考核（按生成本报告时的数据）共3名干部，评定优秀1名、称职1名、基本称职1名、不称职0名。",
        "与2024年度相比，考核等级发生变化的干部3名：张一（东岭社区）由未评定变为优秀、张二（东岭社区）由未评定变为称职、\
         张三（东岭社区）由未评定变为基本称职。",
    ];
    for sentence in expected {
        assert!(text.contains(&sentence), "missing:\n{sentence}\nin:\n{}", text.join("\n"));
    }
}

/// The demo county's year-end document through the CLI, as DOCX opened by LibreOffice and
/// as our own PDF. Pages reckoned as for the quarterly document: title, cover, headings and
/// about ten paragraphs (about 35 lines), three charts (about 35 lines), tables of 8, 6, 9
/// and 7 rows, the grade changes (up to one row per cadre, 24 in the demo county) and up to
/// 30 overdue items (about 40 lines): about 5 pages, then the appendix (two pages): at least
/// 5 if denser than reckoned, and 16 allows for wrapped rows and charts pushed to a new page.
const YEAR_PAGES: std::ops::RangeInclusive<usize> = 5..=16;

#[test]
fn demo_year_document_opens_in_libreoffice_with_its_title() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (root, county) = demo_warehouse(dir.path(), 8);
    let (docx, pdf) = (dir.path().join("year.docx"), dir.path().join("year.pdf"));
    let args = ["--warehouse", &root, "--county", &county, "export", "report", "--year", "2025"];
    let out = yishi(&[&args[..], &["--out", docx.to_str().expect("utf-8")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let title = stderr.split('《').nth(1).and_then(|t| t.split('》').next()).expect("the title on stderr").to_string();
    assert!(title.ends_with("2025年度说事议事工作满意度分析报告"), "{title}");
    let out = yishi(&[&args[..], &["--format", "pdf", "--out", pdf.to_str().expect("utf-8")]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read(&pdf).expect("pdf").starts_with(b"%PDF-"));
    let body = docx_text(&docx);
    assert!(body.contains("三、社区干部考核") && body.contains("表4 2025年度社区干部考核等级"), "sections");
    if !tools_present() {
        assert!(
            std::env::var_os("YISHI_REQUIRE_LIBREOFFICE").is_none_or(|v| v != "1"),
            "YISHI_REQUIRE_LIBREOFFICE=1 but soffice (with Writer), pdfinfo or pdftotext is not installed"
        );
        eprintln!("SKIPPED: LibreOffice Writer, pdfinfo or pdftotext not installed");
        return;
    }
    let converted = convert_to_pdf(&docx, dir.path());
    for pdf in [converted.to_str().expect("utf-8"), pdf.to_str().expect("utf-8")] {
        let count = pages(pdf);
        assert!(YEAR_PAGES.contains(&count), "{pdf}: {count} pages, expected {YEAR_PAGES:?}");
        let text: String = run_text("pdftotext", &[pdf, "-"]).split_whitespace().collect();
        assert!(text.contains(&title), "no title in {pdf}'s text");
        assert!(text.contains("全县8个社区共开展说事议事") && text.contains("分季度看："), "narrative in {pdf}");
    }
}
