//! The quarterly pack's workbook printed by a real client no one here wrote: LibreOffice
//! headless converts it to PDF (`soffice --convert-to pdf`), and poppler's `pdfinfo` and
//! `pdftotext` read the pages back. Without LibreOffice the test says SKIPPED, or fails
//! when `YISHI_REQUIRE_LIBREOFFICE=1` (CI sets it once it has installed LibreOffice).
//!
//! The bounds are reasoned from the page, not taken from a run:
//! - A4 landscape is 842 × 595 pt. With the workbook's margins (top and bottom 0.75 in)
//!   the printable height is 8.27 − 1.5 = 6.77 in = 487 pt. The header row (30 px =
//!   22.5 pt) repeats on every page and a data row is 15 pt, so 30 rows fit at 100%.
//!   Fitting the sheet to one page wide only ever shrinks it, so at least 30 rows
//!   print a page. The test allows 25 for LibreOffice's header area and rounding:
//!   a data sheet of n rows takes at most ⌈n / 25⌉ pages per band of columns.
//! - A sheet too wide for one page at 80% prints in bands of columns, each repeating the
//!   row's name (`xlsx::print_in_bands`): the 49 columns of the quarterly analysis in 5.
//!   Every band after the first holds at least 8 columns of its own, so a sheet of c
//!   columns prints in at most ⌈c / 8⌉ bands. At 80% 11 pt text prints at about 9 pt:
//!   no word on a data page is under 7 pt tall (fitted to one page wide, the quarterly
//!   analysis printed at about 3 pt).
//! - The 图表 sheet prints one chart a page. A 1000 × 580 px chart sits inside the
//!   printable 10.89 × 6.77 in (1045 × 650 px). There are 7 charts (`xlsx::tables`):
//!   - the quarterly report's satisfaction index and its rates,
//!   - one each for the two breakdowns,
//!   - cadres, communities and counties.
//!
//!   So the sheet is exactly 7 pages, each with one chart title.
//! - The demo county has 8 communities of 7 cadres each, so 56 cadres. That is more
//!   than 40, so the cadre chart shows the top and bottom 20 with a marker row saying
//!   16 were left out.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::{convert_to_pdf, demo_warehouse, export_pack_2025_q3, run_text, yishi};

const COMMUNITIES: usize = 8;
const CHART_TITLES: [&str; 7] = [
    "各社区满意度指数",
    "各社区办结率、按时办结率与公示率",
    "各季度议题数（按议题类别）",
    "各季度议题数（按来源渠道）",
    "干部考核得分",
    "社区考核得分",
    "县区社区平均得分",
];
/// Data rows a printed page holds at least (see the module comment).
const ROWS_PER_PAGE: usize = 25;

fn tools_present() -> bool {
    let runs = |tool: &str, arg: &str| {
        Command::new(tool).arg(arg).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    };
    runs("soffice", "--version") && runs("pdfinfo", "-v") && runs("pdftotext", "-v")
}

/// The JSON rows of `yishi report KIND` in the county.
fn report_rows(root: &str, county: &str, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--warehouse", root, "--county", county, "report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let out = yishi(&all);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).expect("report json");
    json.as_array().cloned().unwrap_or_else(|| panic!("an array of rows: {json}"))
}

/// Each page's size in points, from `pdfinfo -f 1 -l N`.
fn page_sizes(pdf: &str, pages: usize) -> Vec<(f64, f64)> {
    let info = run_text("pdfinfo", &["-f", "1", "-l", &pages.to_string(), pdf]);
    info.lines()
        .filter(|l| l.starts_with("Page") && l.contains(" size:"))
        .map(|l| {
            let size = l.split("size:").nth(1).expect("size");
            let numbers: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
            (numbers[0], numbers[1])
        })
        .collect()
}

/// How many columns people see in `yishi report …`: the CSV's header fields.
fn people_columns(root: &str, county: &str, args: &[&str]) -> usize {
    let out = yishi(&[&["--warehouse", root, "--county", county, "report"], args, &["--format", "csv"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = String::from_utf8_lossy(&out.stdout);
    csv.trim_start_matches('\u{feff}').lines().next().expect("a header").split(',').count()
}

/// The height in points of the smallest word on a page (`pdftotext -bbox`).
fn smallest_word(pdf: &str, page: usize) -> f64 {
    let n = page.to_string();
    let html = run_text("pdftotext", &["-f", &n, "-l", &n, "-bbox", pdf, "-"]);
    let attribute = |line: &str, name: &str| -> Option<f64> {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        line[start..].split('"').next()?.parse().ok()
    };
    html.lines()
        .filter(|l| l.trim_start().starts_with("<word"))
        .filter_map(|l| Some(attribute(l, "yMax")? - attribute(l, "yMin")?))
        .fold(f64::INFINITY, f64::min)
}

/// A page's text without spaces (LibreOffice spaces digits apart from Hanzi).
fn page_text(pdf: &str, page: usize) -> String {
    let n = page.to_string();
    run_text("pdftotext", &["-f", &n, "-l", &n, "-layout", pdf, "-"]).split_whitespace().collect()
}

/// The print header's centre (what the sheet is) of a page: the header line is
/// "安泽县   干部年度考核   2025年全年".
fn sheet_of(pdf: &str, page: usize) -> String {
    let n = page.to_string();
    let text = run_text("pdftotext", &["-f", &n, "-l", &n, "-layout", pdf, "-"]);
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    header.split_whitespace().nth(1).unwrap_or("").to_string()
}

#[test]
fn pack_workbook_prints_a4_landscape_one_page_wide_one_chart_a_page() {
    if !tools_present() {
        assert!(
            std::env::var_os("YISHI_REQUIRE_LIBREOFFICE").is_none_or(|v| v != "1"),
            "YISHI_REQUIRE_LIBREOFFICE=1 but soffice, pdfinfo or pdftotext is not installed"
        );
        eprintln!(
            "\nSKIPPED pack_workbook_prints_a4_landscape_one_page_wide_one_chart_a_page: LibreOffice or poppler is not installed (apt-get install libreoffice-calc-nogui poppler-utils)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, county) = demo_warehouse(dir.path(), COMMUNITIES);
    let pack = dir.path().join("pack");
    let files = export_pack_2025_q3(&root, &county, &pack);
    let xlsx = pack.join(files.iter().find(|f| f.ends_with(".xlsx")).expect("the pack's workbook"));

    // What the sheets hold, from the reports themselves.
    let quarterly = report_rows(&root, &county, &["quarterly", "--year", "2025", "--quarter", "3"]);
    let by_category =
        report_rows(&root, &county, &["quarterly", "--year", "2025", "--quarter", "3", "--by", "category"]);
    let by_channel = report_rows(&root, &county, &["quarterly", "--year", "2025", "--quarter", "3", "--by", "channel"]);
    let cadres = report_rows(&root, &county, &["cadres", "--year", "2025"]);
    let communities = report_rows(&root, &county, &["communities", "--year", "2025"]);
    let counties = report_rows(&root, &county, &["counties", "--year", "2025"]);
    let overdue = report_rows(&root, &county, &["overdue", "--year", "2025", "--quarter", "3"]);
    assert_eq!(communities.len(), COMMUNITIES);
    assert!(cadres.len() > 40, "the demo must exceed 40 cadres, has {}", cadres.len());
    let county_name = counties[0]["county_name"].as_str().expect("county name").to_string();

    let Printed { pages, texts, sheets, pdf } = print(&xlsx, dir.path(), &county_name);

    // Each data sheet in bands of columns: no more pages than its rows need at 25 a page,
    // per band.
    let bound = |rows: usize, columns: usize| rows.div_ceil(ROWS_PER_PAGE).max(1) * columns.div_ceil(8);
    let quarter = ["--year", "2025", "--quarter", "3"];
    let expected = [
        ("季度满意度分析", quarterly.len(), people_columns(&root, &county, &[&["quarterly"], &quarter[..]].concat())),
        (
            "季度分析（按议题类别）",
            by_category.len(),
            people_columns(&root, &county, &[&["quarterly"], &quarter[..], &["--by", "category"]].concat()),
        ),
        (
            "季度分析（按来源渠道）",
            by_channel.len(),
            people_columns(&root, &county, &[&["quarterly"], &quarter[..], &["--by", "channel"]].concat()),
        ),
        ("干部年度考核", cadres.len(), people_columns(&root, &county, &["cadres", "--year", "2025"])),
        ("社区年度考核", communities.len(), people_columns(&root, &county, &["communities", "--year", "2025"])),
        ("县区汇总", counties.len(), people_columns(&root, &county, &["counties", "--year", "2025"])),
        // The communities on a list (at most all of them), in the community assessment's columns.
        ("红黑榜", communities.len(), people_columns(&root, &county, &["communities", "--year", "2025"])),
        ("逾期清单", overdue.len(), people_columns(&root, &county, &["overdue", "--year", "2025", "--quarter", "3"])),
    ];
    assert_eq!(expected[0].2, 49, "the quarterly analysis as people read it");
    let count = |name: &str| sheets.iter().filter(|s| *s == name).count();
    for (sheet, rows, columns) in expected {
        let printed = count(sheet);
        assert!(
            printed >= 1 && printed <= bound(rows, columns),
            "{sheet}: {rows} rows of {columns} columns printed on {printed} pages, at most {}",
            bound(rows, columns)
        );
    }
    // Readable: every word of every data page at least 7 pt tall.
    for (page, sheet) in sheets.iter().enumerate() {
        if expected.iter().any(|(name, ..)| name == sheet) {
            let smallest = smallest_word(&pdf, page + 1);
            assert!(smallest >= 7.0, "page {} ({sheet}) prints words {smallest:.1} pt tall", page + 1);
        }
    }
    // The quarterly analysis in bands: every page names the rows, and all of it printed.
    let quarterly_pages: Vec<&String> =
        texts.iter().zip(&sheets).filter(|(_, s)| *s == "季度满意度分析").map(|(t, _)| t).collect();
    // 8 rows in one block of rows; 49 columns in 5 bands (breaks before columns 12, 23, 34
    // and 45: worked in `xlsx::tests`).
    assert_eq!(quarterly_pages.len(), 5, "the quarterly analysis prints in 5 bands");
    assert!(quarterly_pages.iter().all(|t| t.contains("社区名称")), "each band repeats 社区名称");
    let all: String = quarterly_pages.iter().map(|t| t.as_str()).collect();
    for header in ["会议次数", "满意度指数"] {
        assert!(all.contains(header), "{header} printed");
    }

    // The 图表 sheet: one page per chart, one chart title per page, all seven charts.
    let chart_pages: Vec<&String> = texts.iter().zip(&sheets).filter(|(_, s)| *s == "图表").map(|(t, _)| t).collect();
    assert_eq!(chart_pages.len(), CHART_TITLES.len(), "the 图表 sheet prints one page per chart");
    for (page, title) in chart_pages.iter().zip(CHART_TITLES) {
        let on_page: Vec<&str> = CHART_TITLES.iter().copied().filter(|t| page.contains(t)).collect();
        assert_eq!(on_page, vec![title], "one chart on the page, in order: {page:.300}");
    }

    // The cadre chart: the top and bottom 20 of the ranking and the marker, on one page.
    let cadre_page = chart_pages[4];
    assert!(
        cadre_page.contains(&format!("前20名与后20名，共{}人，完整名单见数据表", cadres.len())),
        "{cadre_page:.400}"
    );
    assert!(cadre_page.contains(&format!("中间{}人未列出", cadres.len() - 40)), "{cadre_page:.400}");
    assert!(cadre_page.contains("2025年全年"), "annual figures say the year: {cadre_page:.300}");
    // Every one of the 40 is labelled readably: LibreOffice leaves out category labels
    // that would overlap, so a name missing from the page is a label too small to print.
    let mut ranked: Vec<(&str, Option<f64>)> =
        cadres.iter().map(|r| (r["cadre_name"].as_str().expect("name"), r["score"].as_f64())).collect();
    ranked.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal));
    let n = ranked.len();
    for (name, _) in ranked[..20].iter().chain(&ranked[n - 20..]) {
        assert!(cadre_page.contains(name), "{name} of the top or bottom 20 is labelled: {cadre_page:.600}");
    }

    // In all: the sheets above, at most three pages of chart tables and at most four of
    // 口径 (about a hundred definitions, wrapped), and nothing else.
    let data_pages: usize = expected.iter().map(|(_, rows, columns)| bound(*rows, *columns)).sum();
    assert!(count("图表数据") <= 3 && count("口径") <= 4, "{sheets:?}");
    assert!(pages <= data_pages + CHART_TITLES.len() + 3 + 4, "{pages} pages: {sheets:?}");

    // `yishi report --format xlsx` prints the same way, its sheet stating the year.
    let single = dir.path().join("cadres.xlsx");
    let out = yishi(&[
        "--warehouse",
        &root,
        "--county",
        &county,
        "report",
        "cadres",
        "--year",
        "2025",
        "--format",
        "xlsx",
        "--out",
        single.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = print(&single, dir.path(), &county_name);
    let cadre_pages = printed.sheets.iter().filter(|s| *s == "干部年度考核").count();
    let cadre_columns = people_columns(&root, &county, &["cadres", "--year", "2025"]);
    assert!((1..=bound(cadres.len(), cadre_columns)).contains(&cadre_pages), "{:?}", printed.sheets);
    assert!(printed.texts[0].contains("2025年全年"), "{:.200}", printed.texts[0]);
}

/// A workbook printed to PDF: its page count, each page's text (without spaces) and the
/// sheet each page prints (its print header's centre).
struct Printed {
    pdf: String,
    pages: usize,
    texts: Vec<String>,
    sheets: Vec<String>,
}

/// Converts `xlsx` and checks what every page must show: A4 landscape, the county's name
/// in the print header and 第 N 页/共 M 页 in the footer.
fn print(xlsx: &Path, dir: &Path, county_name: &str) -> Printed {
    let pdf_path = convert_to_pdf(xlsx, dir);
    let pdf = pdf_path.to_str().expect("utf-8");
    let info = run_text("pdfinfo", &[pdf]);
    let pages: usize =
        info.lines().find_map(|l| l.strip_prefix("Pages:")).and_then(|n| n.trim().parse().ok()).expect("page count");
    let sizes = page_sizes(pdf, pages);
    assert_eq!(sizes.len(), pages);
    for (i, (w, h)) in sizes.iter().enumerate() {
        assert!((w - 842.0).abs() < 2.0 && (h - 595.0).abs() < 2.0, "page {} is {w} × {h} pt, not A4 landscape", i + 1);
    }
    let texts: Vec<String> = (1..=pages).map(|p| page_text(pdf, p)).collect();
    let sheets: Vec<String> = (1..=pages).map(|p| sheet_of(pdf, p)).collect();
    for (i, text) in texts.iter().enumerate() {
        assert!(text.contains(county_name), "page {} does not name {county_name}: {text:.200}", i + 1);
        assert!(text.contains(&format!("第{}页/共{pages}页", i + 1)), "page {} footer: {text:.200}", i + 1);
    }
    Printed { pdf: pdf.to_string(), pages, texts, sheets }
}
