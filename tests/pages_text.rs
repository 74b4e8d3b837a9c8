//! What a person sees, in headless Chromium: every page's visible text at platform, county
//! and community scope holds no token of the contract's enumerations, of the quality flags
//! or of the grades (the list is built from their definitions in code); the headline cards
//! show their change in rows that do not leave a card alone; and the A4 print of a county's
//! page names the county and the period.

use std::collections::BTreeSet;

use ingest::Scope;
use warehouse::analyses::lists::CommunityList;
use warehouse::analyses::overdue::{ItemKind, Overdue};
use warehouse::analyses::{Grade, QualityFlag};

use crate::api::{in_browser, log_in, skipped};

const COUNTY_A: &str = "141026";
const A1: &str = "141026100001";

/// Every token a page must not show: the enumerations' English tokens, the quality flags',
/// the grades', and the lists' (red, black, unranked; open_overdue, closed_late;
/// rectification).
pub(crate) fn tokens() -> BTreeSet<&'static str> {
    let mut all: BTreeSet<&'static str> =
        ingest::schema::enumerations().iter().flat_map(|e| e.values.iter().map(|(_, token)| *token)).collect();
    all.extend(QualityFlag::ALL.map(QualityFlag::token));
    all.extend(Grade::ALL.map(Grade::token));
    all.extend(CommunityList::ALL.map(CommunityList::token));
    all.extend(Overdue::ALL.map(Overdue::token));
    all.insert(ItemKind::Rectification.token());
    all
}

/// The tokens among the words of `text` (runs of ASCII letters, digits and `_`).
pub(crate) fn tokens_in(text: &str, tokens: &BTreeSet<&str>) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| tokens.contains(word))
        .map(str::to_string)
        .collect()
}

#[test]
fn token_finder_finds_whole_words_only() {
    let tokens = tokens();
    assert!(tokens.contains("walk_in") && tokens.contains("small_sample") && tokens.contains("not_rated"));
    assert_eq!(tokens_in("来源渠道 walk_in；状态 resolved", &tokens).len(), 2);
    assert!(tokens_in("群众来访 CSV XLSX hallway 2025年", &tokens).is_empty());
}

/// The pages a user of each scope opens (the community page of 141026100001, its cadre K1
/// and topic T03, which all three may see; the community list).
fn pages() -> Vec<String> {
    [
        "/overview?year=2025",
        "/overview?year=2025&quarter=1",
        "/quarterly?year=2025&quarter=1",
        "/quarterly?year=2025",
        "/cadres?year=2025",
        "/counties?year=2025",
        "/documents?year=2025",
        "/alerts",
        "/upload",
    ]
    .into_iter()
    .map(String::from)
    .chain([
        format!("/community?year=2025&community={A1}"),
        format!("/community?year=2025&quarter=1&community={A1}"),
        "/community?year=2025".to_string(),
        format!("/cadre?year=2025&community={A1}&cadre=K1"),
        format!("/topic?year=2025&community={A1}&topic=T03"),
    ])
    .collect()
}

const USERS: [(&str, &str); 3] = [
    ("eye-platform", "eye-pass-platform-1"),
    ("eye-county", "eye-pass-county-1"),
    ("eye-community", "eye-pass-community-1"),
];

#[test]
fn pages_show_no_token_at_any_scope() {
    let scopes = [Scope::Platform, Scope::County(COUNTY_A.into()), Scope::Community(A1.into())];
    let users: Vec<(&str, &str, Scope)> = USERS.iter().zip(scopes).map(|((u, p), s)| (*u, *p, s)).collect();
    let checked = in_browser(&users, |client, base| async move {
        let tokens = tokens();
        let mut found = Vec::new();
        for (user, password) in USERS {
            client.delete_all_cookies().await.map_err(|e| e.to_string())?;
            log_in(&client, &base, (user, password), "/overview?year=2025").await?;
            for path in pages() {
                client.goto(&format!("{base}{path}")).await.map_err(|e| format!("{path}: {e}"))?;
                let text = visible_text(&client).await?;
                if !text.contains("议事") {
                    return Err(format!("{user} {path}: not a page: {text}"));
                }
                let leaked = tokens_in(&text, &tokens);
                if !leaked.is_empty() {
                    found.push(format!("{user} {path}: {leaked:?}"));
                }
            }
        }
        // The labels are there instead: the community page's sessions and topics, each
        // topic's lead cadre by name (tests/fixtures/analyses/cadres.csv).
        client
            .goto(&format!("{base}/community?year=2025&quarter=1&community={A1}"))
            .await
            .map_err(|e| e.to_string())?;
        let text = visible_text(&client).await?;
        for label in ["热线电话", "群众来访", "基础设施", "已办结", "已解释", "定期", "张一", "张三"]
        {
            if !text.contains(label) {
                found.push(format!("community page lacks {label}"));
            }
        }
        // The 责任人 column names the cadre (K1 is 张一), not its id.
        if text.split_whitespace().any(|word| word == "K1" || word == "K3") {
            found.push("the community page shows a cadre id".into());
        }
        if found.is_empty() { Ok(()) } else { Err(found.join("\n")) }
    });
    match checked {
        Some(result) => result.expect("no tokens on the pages"),
        None => skipped("SKIPPED pages_show_no_token_at_any_scope: chromedriver is not installed"),
    }
}

/// The page's visible text once its charts are drawn (ECharts writes their text into the
/// page as SVG `<text>`: axis names, labels, legends).
async fn visible_text(client: &fantoccini::Client) -> Result<String, String> {
    crate::echarts::charts_drawn(client).await?;
    let text = client.execute("return document.body.innerText;", vec![]).await.map_err(|e| e.to_string())?;
    Ok(text.as_str().unwrap_or_default().to_string())
}

/// A platform user prints 甲县's quarterly page (WebDriver's print, Chromium's
/// `Page.printToPDF`): the PDF's text names 甲县 and 2025年第1季度, not the account
/// (平台账号), and the document title (a browser's print header and saved-file name) says
/// the same.
#[test]
fn a_county_page_prints_the_county_and_period() {
    let users = [(USERS[0].0, USERS[0].1, Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move {
        let path = format!("/quarterly?year=2025&quarter=1&county={COUNTY_A}");
        log_in(&client, &base, USERS[0], &path).await?;
        let title = client.title().await.map_err(|e| e.to_string())?;
        if !(title.contains("甲县") && title.contains("2025年第1季度")) {
            return Err(format!("title: {title}"));
        }
        let pdf = client.print(Default::default()).await.map_err(|e| format!("print: {e}"))?;
        let text = pdf_text(&pdf)?;
        let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().to_string();
        if !(first_line.contains("甲县") && first_line.contains("2025年第1季度")) || text.contains("平台账号")
        {
            return Err(format!("printed title: {first_line}\n{text}"));
        }
        // The six charts print (their static A4 images, in place of the ECharts charts).
        let images = pdf_images(&pdf)?;
        if images < 6 {
            return Err(format!("the print holds {images} images, not the page's 6 charts"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("the print names the county"),
        None => skipped("SKIPPED a_county_page_prints_the_county_and_period: chromedriver is not installed"),
    }
}

/// How many images a PDF holds (poppler's `pdfimages -list`: two header lines, then one
/// line an image).
fn pdf_images(pdf: &[u8]) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("page.pdf");
    std::fs::write(&file, pdf).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&file)
        .output()
        .map_err(|e| format!("pdfimages (apt-get install poppler-utils): {e}"))?;
    let list = String::from_utf8_lossy(&out.stdout);
    Ok(list.lines().skip(2).filter(|l| !l.trim().is_empty()).count())
}

/// The text of a PDF by poppler's `pdftotext` (installed by `.ci/run`).
fn pdf_text(pdf: &[u8]) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("page.pdf");
    std::fs::write(&file, pdf).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .map_err(|e| format!("pdftotext (apt-get install poppler-utils): {e}"))?;
    if !out.status.success() {
        return Err(format!("pdftotext: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The overview's headline cards of 2025 Q2 against Q1, worked by hand from the fixture
/// (topics raised 16 → 7, sessions 5 → 1, the 4 communities in both), and laid out in
/// full rows: six cards as 3 × 2 or 6 × 1, never a sixth alone. The served CJK font loads.
#[test]
fn headline_cards_show_their_change_in_full_rows() {
    let users = [(USERS[0].0, USERS[0].1, Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, USERS[0], "/overview?year=2025&quarter=2").await?;
        let cards = client
            .execute(
                "return Array.from(document.querySelectorAll('#headline .card')).map(c => \
                 [c.querySelector('.l').innerText, c.querySelector('.n').innerText, c.querySelector('.d').innerText, c.offsetTop]);",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        let cards: Vec<(String, String, String, i64)> = serde_json::from_value(cards).map_err(|e| e.to_string())?;
        let card = |label: &str| cards.iter().find(|c| c.0 == label).cloned().unwrap_or_default();
        let expected =
            [("社区", "4", "较上季 持平"), ("议事会议（次）", "1", "较上季 ↓ 4"), ("议题（件）", "7", "较上季 ↓ 9")];
        for (label, value, change) in expected {
            let c = card(label);
            if (c.1.as_str(), c.2.as_str()) != (value, change) {
                return Err(format!("{label}: {c:?} in {cards:?}"));
            }
        }
        if cards.len() != 6 || cards.iter().any(|c| c.2.contains("-0.0") || !c.2.starts_with("较上季 ")) {
            return Err(format!("cards: {cards:?}"));
        }
        let mut rows: Vec<usize> = Vec::new();
        let mut tops: Vec<i64> = cards.iter().map(|c| c.3).collect();
        tops.dedup();
        for top in tops {
            rows.push(cards.iter().filter(|c| c.3 == top).count());
        }
        if !(rows == [3, 3] || rows == [6]) {
            return Err(format!("cards per row: {rows:?}"));
        }
        // The served CJK font loads under the pages' CSP (this machine may have its own,
        // so load it by name rather than look at what was drawn).
        let loaded = client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 document.fonts.load('16px YishiCJK', '汉字').then(f => done(f.length), e => done(String(e)));",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        if loaded != serde_json::json!(1) {
            return Err(format!("the page font did not load: {loaded}"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("headline cards"),
        None => skipped("SKIPPED headline_cards_show_their_change_in_full_rows: chromedriver is not installed"),
    }
}

/// At a phone's 390 px, a projector's 1280 × 720 and a desktop's 1400 px no page scrolls sideways, no chart is
/// wider than its card, and no table header breaks into a column of single characters
/// (each header cell at most two lines tall); a screenshot of each page at each size is
/// left in the test's folder for a person to look at.
#[test]
fn pages_fit_a_phone_and_a_projector() {
    let users = [(USERS[0].0, USERS[0].1, Scope::Platform)];
    let shots = tempfile::tempdir().expect("tempdir");
    let folder = shots.path().to_path_buf();
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, USERS[0], "/overview?year=2025").await?;
        let mut found = Vec::new();
        for (width, height) in [(390u32, 844u32), (1280, 720), (1400, 1000)] {
            client.set_window_size(width, height).await.map_err(|e| e.to_string())?;
            for (i, path) in pages().iter().enumerate() {
                client.goto(&format!("{base}{path}")).await.map_err(|e| format!("{path}: {e}"))?;
                crate::echarts::charts_drawn(&client).await.map_err(|e| format!("{width}px {path}: {e}"))?;
                let facts = client.execute(LAYOUT_FACTS, vec![]).await.map_err(|e| format!("{path}: {e}"))?;
                let fact = |key: &str| facts[key].as_f64().unwrap_or(f64::NAN);
                let (page, view) = (fact("pageWidth"), fact("viewWidth"));
                if !(page <= view + 1.0) {
                    found.push(format!("{width}px {path}: the page is {page}px wide in a {view}px window"));
                }
                if fact("widestChartOverflow") > 1.0 {
                    found.push(format!("{width}px {path}: a chart is wider than its card"));
                }
                if fact("tallestHeaderLines") > 2.05 {
                    found.push(format!(
                        "{width}px {path}: a table header breaks into {:.1} lines",
                        fact("tallestHeaderLines")
                    ));
                }
                let png = client.screenshot().await.map_err(|e| e.to_string())?;
                let _ = std::fs::write(folder.join(format!("{width}-{i:02}.png")), png);
            }
        }
        if found.is_empty() { Ok(()) } else { Err(found.join("\n")) }
    });
    match checked {
        Some(result) => result.expect("pages fit both sizes"),
        None => skipped("SKIPPED pages_fit_a_phone_and_a_projector: chromedriver is not installed"),
    }
    if let Ok(keep) = std::env::var("YISHI_KEEP_SCREENSHOTS") {
        let _ = std::fs::create_dir_all(&keep);
        for file in crate::support::files_under(shots.path()) {
            let _ = std::fs::copy(&file, std::path::Path::new(&keep).join(file.file_name().unwrap_or_default()));
        }
    }
}

/// Measures the page in the browser: its width against the window's, how far the widest
/// chart (the ECharts chart, or the static image where it is shown) sticks out of its
/// card, and the tallest table header in lines of its font.
const LAYOUT_FACTS: &str = r#"
const headers = [...document.querySelectorAll('th')].filter(th => th.offsetParent !== null);
const lines = headers.map(th => {
  const style = getComputedStyle(th);
  const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;
  const padding = parseFloat(style.paddingTop) + parseFloat(style.paddingBottom);
  return (th.getBoundingClientRect().height - padding) / line;
});
const charts = [...document.querySelectorAll('figure img, figure .live')].filter(c => c.offsetParent !== null).map(img => {
  const card = (img.closest('section, .card') || document.body).getBoundingClientRect();
  return img.getBoundingClientRect().right - card.right;
});
return {
  pageWidth: document.documentElement.scrollWidth,
  viewWidth: window.innerWidth,
  widestChartOverflow: Math.max(0, ...charts),
  tallestHeaderLines: Math.max(0, ...lines),
};
"#;
