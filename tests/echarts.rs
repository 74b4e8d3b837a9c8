//! The pages' interactive charts (Apache ECharts, served by yishi, fed by the report JSON):
//! in headless Chromium a chart mark's tooltip shows its value and unit, worked by hand
//! from `tests/fixtures/analyses`, and a click on a bar opens the page the bar stands for;
//! the vendored ECharts file is served as committed; a chart download is named by the
//! period its figures cover; a table of hundreds of rows pages, searches and sorts.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::{Client, Locator};
use ingest::Scope;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::{call, in_browser, in_browser_over, log_in, skipped};
use crate::support::runtime;

const A1: &str = "141026100001";
const USER: (&str, &str) = ("live-platform", "live-pass-platform-1");

fn platform() -> [(&'static str, &'static str, Scope); 1] {
    [(USER.0, USER.1, Scope::Platform)]
}

/// Waits until every chart card of the page is drawn by ECharts (`data-ready="1"`, or
/// `"empty"` for a period without rows); an error names the cards whose rows could not be
/// read.
pub(crate) async fn charts_drawn(client: &Client) -> Result<(), String> {
    let script = "return Array.from(document.querySelectorAll('figure.chart[data-live]')).map(f => \
                  [f.id, f.getAttribute('data-ready')]);";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let cards = client.execute(script, vec![]).await.map_err(|e| e.to_string())?;
        let cards: Vec<(String, Option<String>)> = serde_json::from_value(cards).map_err(|e| e.to_string())?;
        if cards.iter().all(|c| c.1.is_some()) {
            let failed: Vec<&String> = cards.iter().filter(|c| c.1.as_deref() == Some("error")).map(|c| &c.0).collect();
            return if failed.is_empty() { Ok(()) } else { Err(format!("not drawn: {failed:?}")) };
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("charts still loading: {cards:?}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The index of the mark named `name` on the category axis of the chart in card `#card`
/// (`axis` is `xAxis` or `yAxis`).
async fn mark_index(client: &Client, card: &str, axis: &str, name: &str) -> Result<usize, String> {
    let script = format!(
        "const c = echarts.getInstanceByDom(document.querySelector('#{card} .live')); \
         return c.getOption().{axis}[0].data;"
    );
    let names = client.execute(&script, vec![]).await.map_err(|e| e.to_string())?;
    let names: Vec<String> = serde_json::from_value(names).map_err(|e| e.to_string())?;
    names.iter().position(|n| n == name).ok_or_else(|| format!("{name} not among {names:?}"))
}

/// Shows the tooltip of mark `index` of series `series` in card `#card` (ECharts' own
/// action, as a hover does) and returns the tooltip's text.
async fn tooltip(client: &Client, card: &str, series: usize, index: usize) -> Result<String, String> {
    let script = format!(
        "const box = document.querySelector('#{card} .live'); \
         echarts.getInstanceByDom(box).dispatchAction({{type: 'showTip', seriesIndex: {series}, dataIndex: {index}}}); \
         return new Promise(done => setTimeout(() => done(Array.from(box.children).slice(1) \
           .filter(d => getComputedStyle(d).display !== 'none').map(d => d.innerText).join('\\n')), 100));"
    );
    let text = client.execute(&script, vec![]).await.map_err(|e| e.to_string())?;
    Ok(text.as_str().unwrap_or_default().to_string())
}

/// Clicks bar `index` of the horizontal bar chart in card `#card` with a real pointer
/// event (WebDriver's element click on the SVG `<path>` at the bar's middle) and waits
/// until the browser is on `path`; the page's heading.
async fn click_bar(client: &Client, card: &str, index: usize, path: &str) -> Result<String, String> {
    let script = format!(
        "const box = document.querySelector('#{card} .live'); \
         const chart = echarts.getInstanceByDom(box); \
         const value = chart.getOption().series[0].data[{index}].value; \
         chart.dispatchAction({{type: 'dataZoom', startValue: 0, endValue: {index} + 1}}); \
         const [x, y] = chart.convertToPixel({{seriesIndex: 0}}, [value / 2, {index}]); \
         box.scrollIntoView({{block: 'center'}}); \
         const r = box.getBoundingClientRect(); \
         return document.elementFromPoint(r.left + x, r.top + y);"
    );
    let found = client.execute(&script, vec![]).await.map_err(|e| e.to_string())?;
    let id = found
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no element at bar {index}: {found}"))?;
    let bar = Element::from_element_id(client.clone(), ElementRef::from(id.to_string()));
    let tag = bar.tag_name().await.map_err(|e| e.to_string())?;
    if tag != "path" {
        return Err(format!("bar {index} of {card} is a <{tag}>, not an ECharts <path>"));
    }
    bar.click().await.map_err(|e| format!("click bar {index}: {e}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while client.current_url().await.map_err(|e| e.to_string())?.path() != path {
        if std::time::Instant::now() > deadline {
            return Err(format!("bar {index} of {card} did not lead to {path}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let h = client.wait().for_element(Locator::Css("h3.entity")).await.map_err(|e| e.to_string())?;
    h.text().await.map_err(|e| e.to_string())
}

/// Hovering a chart's mark shows its value and unit, worked by hand from the fixture:
/// 张一 (K1) scores 100 in 2025, 优秀 (see `drilldown::the_cadre_page_shows_its_figures_beside_the_county`);
/// 东岭社区 closed T03–T11 in 2025, all but T07 by their deadline: 按时办结率 8/9 = 88.9%.
#[test]
fn a_chart_mark_shows_its_value_on_hover() {
    let checked = in_browser(&platform(), |client, base| async move {
        log_in(&client, &base, USER, "/cadres?year=2025").await?;
        charts_drawn(&client).await?;
        let k1 = mark_index(&client, "chart-cadre_scores", "yAxis", "张一（东岭社区）").await?;
        let text = tooltip(&client, "chart-cadre_scores", 0, k1).await?;
        if !(text.contains("张一（东岭社区）") && text.contains("得分 100.00分") && text.contains("优秀"))
        {
            return Err(format!("张一's tooltip: {text:?}"));
        }
        client.goto(&format!("{base}/quarterly?year=2025")).await.map_err(|e| e.to_string())?;
        charts_drawn(&client).await?;
        let east = mark_index(&client, "chart-rates_by_community", "xAxis", "东岭社区").await?;
        let text = tooltip(&client, "chart-rates_by_community", 1, east).await?;
        if !(text.contains("东岭社区") && text.contains("按时办结率 88.9%")) {
            return Err(format!("东岭社区's tooltip: {text:?}"));
        }
        if let Ok(folder) = std::env::var("YISHI_KEEP_SCREENSHOTS") {
            screenshots_with_tooltips(&client, &base, std::path::Path::new(&folder)).await?;
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("chart tooltips"),
        None => skipped("SKIPPED a_chart_mark_shows_its_value_on_hover: no chromedriver"),
    }
}

/// Screenshots, for a person to look at, of the overview (东岭社区's ranking bar) and the
/// cadres page (张一's bar) with the tooltip open, at a desktop's 1400 px and a phone's 390 px.
async fn screenshots_with_tooltips(client: &Client, base: &str, folder: &std::path::Path) -> Result<(), String> {
    let _ = std::fs::create_dir_all(folder);
    let shots = [
        ("overview", "/overview?year=2025", "chart-community_ranking", "东岭社区"),
        ("cadres", "/cadres?year=2025", "chart-cadre_scores", "张一（东岭社区）"),
    ];
    for (width, height) in [(1400u32, 1000u32), (390, 844)] {
        client.set_window_size(width, height).await.map_err(|e| e.to_string())?;
        for (name, path, card, mark) in shots {
            client.goto(&format!("{base}{path}")).await.map_err(|e| e.to_string())?;
            charts_drawn(client).await?;
            let index = mark_index(client, card, "yAxis", mark).await?;
            let scroll = format!("document.querySelector('#{card}').scrollIntoView();");
            client.execute(&scroll, vec![]).await.map_err(|e| e.to_string())?;
            tooltip(client, card, 0, index).await?;
            let png = client.screenshot().await.map_err(|e| e.to_string())?;
            let _ = std::fs::write(folder.join(format!("tooltip-{name}-{width}.png")), png);
        }
    }
    Ok(())
}

/// A click on 东岭社区's bar of the overview's ranking opens 东岭社区's page (its code in the
/// address, as the ranking table's link); a click on 张一's bar of the cadre chart opens
/// 张一's page.
#[test]
fn a_click_on_a_bar_opens_its_page() {
    let checked = in_browser(&platform(), |client, base| async move {
        log_in(&client, &base, USER, "/overview?year=2025").await?;
        charts_drawn(&client).await?;
        let east = mark_index(&client, "chart-community_ranking", "yAxis", "东岭社区").await?;
        let heading = click_bar(&client, "chart-community_ranking", east, "/community").await?;
        let url = client.current_url().await.map_err(|e| e.to_string())?;
        if heading != "东岭社区" || !url.query().unwrap_or_default().contains(&format!("community={A1}")) {
            return Err(format!("ranking bar → {heading} at {url}"));
        }
        client.goto(&format!("{base}/cadres?year=2025")).await.map_err(|e| e.to_string())?;
        charts_drawn(&client).await?;
        let k1 = mark_index(&client, "chart-cadre_scores", "yAxis", "张一（东岭社区）").await?;
        let heading = click_bar(&client, "chart-cadre_scores", k1, "/cadre").await?;
        if !(heading.contains("张一") && heading.contains("东岭社区")) {
            return Err(format!("cadre bar → {heading}"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("chart drill-down"),
        None => skipped("SKIPPED a_click_on_a_bar_opens_its_page: no chromedriver"),
    }
}

/// `/assets/echarts.min.js` is the committed file (its SHA-256 as the vendoring README
/// states it), as JavaScript, cached for a week and revalidated by its ETag; the pages
/// with charts load it and `/assets/charts.js`, the others do not.
#[test]
fn echarts_is_served_from_yishi() {
    let readme = include_str!("../dashboards/assets/echarts/README.md");
    let digest = hex::encode(Sha256::digest(dashboards::pages::ECHARTS_JS));
    assert!(readme.contains(&digest), "the README states another SHA-256 than {digest}");
    crate::api::warehouse_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let state = crate::api::state(&format!("sqlite://{}", dir.path().join("c.db").display())).await;
        let app = api::router(state);
        let path = dashboards::pages::ECHARTS_JS_PATH;
        let js = call(&app, Method::GET, path, None, Body::empty(), None).await;
        assert_eq!(js.status, StatusCode::OK);
        assert_eq!(js.headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert!(js.headers[header::CACHE_CONTROL].to_str().unwrap_or_default().contains("max-age=604800"));
        assert_eq!(js.body.as_slice(), dashboards::pages::ECHARTS_JS);
        let etag = js.headers[header::ETAG].to_str().expect("etag").to_string();
        let req = axum::http::Request::builder().uri(path).header(header::IF_NONE_MATCH, &etag).body(Body::empty());
        let again = tower::ServiceExt::oneshot(app.clone(), req.expect("req")).await.expect("ok");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        let script = call(&app, Method::GET, dashboards::pages::CHARTS_JS_PATH, None, Body::empty(), None).await;
        assert_eq!(script.status, StatusCode::OK);
        assert!(script.text().contains("echarts.init"));
    });
}

/// A chart download is named by the period its figures cover: the cadre chart asked with
/// quarter=3 holds 2025's annual assessment, so its file is …2025年全年…, not 第3季度; the
/// four dimensions of the same request are the quarter's, …2025年第3季度…; the category
/// stack draws the year's quarters up to the third, …2025年第1—3季度….
#[test]
fn a_chart_download_names_the_period_of_its_figures() {
    crate::api::warehouse_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let state = crate::api::state(&format!("sqlite://{}", dir.path().join("c.db").display())).await;
        let (_, token) = state.catalog.create_token("names", None, &Scope::Platform).await.expect("token");
        let app = api::router(state);
        for (chart, period) in
            [("cadre_scores", "2025年全年"), ("dimensions", "2025年第3季度"), ("topics_by_category", "2025年第1—3季度")]
        {
            let uri = format!("/api/v1/charts/{chart}.png?year=2025&quarter=3&county=141026&format=download");
            let answer = call(&app, Method::GET, &uri, Some(&token), Body::empty(), None).await;
            assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.text());
            let disposition = answer.headers[header::CONTENT_DISPOSITION].to_str().expect("ascii").to_string();
            let name = disposition.split("filename*=UTF-8''").nth(1).expect("a Chinese name");
            let name = percent_decode(name);
            assert!(name.contains(&format!("_{period}_")) && name.starts_with("甲县_"), "{chart}: {name}");
            assert!(!(chart == "cadre_scores" && name.contains("季度")), "{name}");
        }
    });
}

fn percent_decode(text: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail) {
            (b'%', [h, l, more @ ..]) => {
                let hex = std::str::from_utf8(&[*h, *l]).ok().and_then(|s| u8::from_str_radix(s, 16).ok());
                bytes.push(hex.unwrap_or(b'%'));
                rest = if hex.is_some() { more } else { tail };
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Communities of the big demo county of the paging test.
const BIG: usize = 130;

/// The overview's ranking of a county of 130 communities in headless Chromium: page 1
/// shows 50 rows, page 2 the next 50; the search box keeps the rows naming the community
/// searched for; sorting by a numeric column orders numbers as numbers (rank 130 before 99
/// when descending, which text order would reverse).
#[test]
fn a_table_of_hundreds_of_rows_pages_searches_and_sorts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, county) = crate::support::demo_warehouse(dir.path(), BIG);
    let users = [(USER.0, USER.1, Scope::Platform)];
    let checked = in_browser_over(&root, BIG, &users, |client, base| async move {
        log_in(&client, &base, USER, &format!("/overview?county={county}")).await?;
        let all = table_rows(&client, false).await?;
        if all.len() != BIG {
            return Err(format!("{} rows in the ranking, not {BIG}", all.len()));
        }
        let page1 = table_rows(&client, true).await?;
        if page1 != all[..50] {
            return Err(format!("page 1 shows {} rows: {:?}", page1.len(), page1.first()));
        }
        click(&client, "//section[@id='ranking-table']//button[text()='下一页']").await?;
        let page2 = table_rows(&client, true).await?;
        if page2 != all[50..100] {
            return Err(format!("page 2 shows {} rows: {:?}", page2.len(), page2.first()));
        }
        // Search: the community of rank 77 by its name.
        let name = all[76][3].clone();
        let search = client.find(Locator::Css("#ranking-table input[type=search]")).await.map_err(|e| e.to_string())?;
        search.send_keys(&name).await.map_err(|e| e.to_string())?;
        let found = table_rows(&client, true).await?;
        let expected: Vec<&Vec<String>> = all.iter().filter(|r| r.iter().any(|c| c.contains(&name))).collect();
        if found.is_empty() || found.iter().collect::<Vec<_>>() != expected {
            return Err(format!("search {name}: {found:?}"));
        }
        // Sort by 排名 (column 0) twice: descending, numbers as numbers (a rank without a
        // value, "—", stays last).
        for _ in 0..2 {
            click(&client, "//section[@id='ranking-table']//th[1]").await?;
        }
        let sorted = table_rows(&client, false).await?;
        let ranks: Vec<f64> = sorted.iter().map_while(|r| r[0].parse::<f64>().ok()).collect();
        let first = ranks.first().copied().unwrap_or_default();
        if first < 100.0 || ranks.len() < 100 || ranks.windows(2).any(|w| w[0] < w[1]) {
            return Err(format!("descending ranks: {:?}", &ranks[..ranks.len().min(12)]));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("paging a big table"),
        None => skipped("SKIPPED a_table_of_hundreds_of_rows_pages_searches_and_sorts: no chromedriver"),
    }
}

async fn click(client: &Client, xpath: &str) -> Result<(), String> {
    let element = client.find(Locator::XPath(xpath)).await.map_err(|e| format!("{xpath}: {e}"))?;
    element.click().await.map_err(|e| format!("click {xpath}: {e}"))
}

/// The ranking table's rows in order, each as its cells' text: every row, or only those
/// shown.
async fn table_rows(client: &Client, shown_only: bool) -> Result<Vec<Vec<String>>, String> {
    let script = "return Array.from(document.querySelectorAll('#ranking-table tbody tr'))\
                  .filter(r => !arguments[0] || !r.hidden)\
                  .map(r => Array.from(r.cells).map(td => td.textContent.trim()));";
    let rows = client.execute(script, vec![json!(shown_only)]).await.map_err(|e| e.to_string())?;
    serde_json::from_value(rows).map_err(|e| e.to_string())
}
