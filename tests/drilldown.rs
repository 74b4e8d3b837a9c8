//! The drill-down: county → community → cadre → topic a click each in headless Chromium;
//! the community page without a selection lists the scope's communities and no other
//! county's; the cadre page's figures against values worked by hand from
//! `tests/fixtures/analyses`; another tenant's cadre or topic is a 404, like a missing one.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fantoccini::{Client, Locator};
use http_body_util::BodyExt;
use ingest::Scope;
use tower::ServiceExt;

use crate::api::{in_browser, log_in, skipped};
use crate::support::runtime;

const A1: &str = "141026100001";
const USER: (&str, &str) = ("drill-platform", "drill-pass-platform-1");
const COUNTY_USER: (&str, &str) = ("drill-county", "drill-pass-county-1");

/// Clicks the link `xpath` and waits until the browser is on a page under `path`; the
/// page's heading naming its entity (`h3.entity`).
async fn click_to(client: &Client, xpath: &str, path: &str) -> Result<String, String> {
    let link = client.find(Locator::XPath(xpath)).await.map_err(|e| format!("{xpath}: {e}"))?;
    link.click().await.map_err(|e| format!("click {xpath}: {e}"))?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let url = client.current_url().await.map_err(|e| e.to_string())?;
        if url.path() == path {
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{xpath} led to {url}, not {path}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    heading(client).await
}

async fn heading(client: &Client) -> Result<String, String> {
    let h = client.wait().for_element(Locator::Css("h3.entity")).await.map_err(|e| format!("heading: {e}"))?;
    h.text().await.map_err(|e| e.to_string())
}

/// The rows of the table in section `#id`, each as its cells' text.
async fn rows(client: &Client, id: &str) -> Result<Vec<Vec<String>>, String> {
    let script = format!(
        "return Array.from(document.querySelectorAll('#{id} tbody tr')).map(r => \
         Array.from(r.querySelectorAll('td')).map(td => td.innerText.trim()));"
    );
    let value = client.execute(&script, vec![]).await.map_err(|e| e.to_string())?;
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// From the overview's ranking to 东岭社区, to its cadre 张一 (责任人 of 道路破损), to the
/// topic 道路破损: each page's heading names what was clicked.
#[test]
fn a_click_leads_from_the_ranking_to_a_community_a_cadre_and_a_topic() {
    let users = [(USER.0, USER.1, Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, USER, "/overview?year=2025").await?;
        let community = click_to(&client, "//section[@id='ranking-table']//a[text()='东岭社区']", "/community").await?;
        if community != "东岭社区" {
            return Err(format!("community page heading: {community}"));
        }
        let cadre = click_to(&client, "//tr[@id='topic-T03']//a[text()='张一']", "/cadre").await?;
        if !(cadre.contains("张一") && cadre.contains("东岭社区") && cadre.contains("2025年")) {
            return Err(format!("cadre page heading: {cadre}"));
        }
        let topic = click_to(&client, "//section[@id='topics']//a[text()='道路破损']", "/topic").await?;
        if topic != "道路破损" {
            return Err(format!("topic page heading: {topic}"));
        }
        // Its evaluation E02 (satisfied, all 5s), by verdict label, never by respondent.
        let evaluations = rows(&client, "evaluations").await?;
        let text = client.find(Locator::Css("main")).await.map_err(|e| e.to_string())?.text().await;
        let text = text.map_err(|e| e.to_string())?;
        if evaluations.len() != 1 || !evaluations[0].contains(&"满意".to_string()) || text.contains("居民丙") {
            return Err(format!("topic evaluations: {evaluations:?}"));
        }
        // A cadre row of the cadres page leads to the same cadre.
        client.goto(&format!("{base}/cadres?year=2025")).await.map_err(|e| e.to_string())?;
        let again = click_to(&client, "//section[@id='cadres-table']//a[text()='张一']", "/cadre").await?;
        if again != cadre {
            return Err(format!("cadres table → {again}, topic row → {cadre}"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("the click path"),
        None => skipped("SKIPPED a_click_leads_from_the_ranking_to_a_community_a_cadre_and_a_topic: no chromedriver"),
    }
}

/// 甲县's clerk opens 社区详情 without choosing: 甲县's three communities (not 乙县's
/// 北岭社区), each a link. 东岭社区 in 2025 (hand-worked from topics.csv): T03–T11, 9
/// topics, all closed (100.0%), all but T07 (closed 03-20, deadline 03-10) by their
/// deadline: 8/9 = 88.9%.
#[test]
fn the_community_list_shows_the_communities_of_the_scope() {
    let users = [(COUNTY_USER.0, COUNTY_USER.1, Scope::County("141026".into()))];
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, COUNTY_USER, "/community?year=2025").await?;
        let rows = rows(&client, "community-list").await?;
        let mut names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        names.sort_unstable();
        if names != ["东岭社区", "南岭社区", "西岭社区"] {
            return Err(format!("listed: {names:?}"));
        }
        let east = rows.iter().find(|r| r[1] == "东岭社区").cloned().unwrap_or_default();
        if east[2..5] != ["9", "100.0%", "88.9%"] {
            return Err(format!("东岭社区: {east:?}"));
        }
        let heading = click_to(&client, "//section[@id='community-list']//a[text()='西岭社区']", "/community").await?;
        if heading != "西岭社区" {
            return Err(format!("list → {heading}"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("the community list"),
        None => skipped("SKIPPED the_community_list_shows_the_communities_of_the_scope: no chromedriver"),
    }
}

/// 张一 (K1) in 2025, worked by hand in `analyses::cadre_grades_follow_quota_ties_and_minimum_topics`:
/// T03 T04 T08 closed on time; E01 E02 E06 all 5s; no rectification; score 100, 优秀,
/// rank 1. The county's five rated cadres score 100, 91.25, 91.25, 60.8333 and 45: mean
/// 77.67; their 办结率 1, 1, 1, 1 and 2/3 (K5): 93.3%; their 满意度指数 100, 75, 75 and 50
/// (K5 has none, left out of the mean): 75.00. E01 rates T01, raised in 2024, and counts in 2025 as the assessment counts it.
#[test]
fn the_cadre_page_shows_its_figures_beside_the_county() {
    let users = [(USER.0, USER.1, Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, USER, &format!("/cadre?year=2025&community={A1}&cadre=K1")).await?;
        let score = rows(&client, "score").await?;
        let expected = [
            ["议题数", "3"],
            ["办结率", "100.0%"],
            ["按时办结率", "100.0%"],
            ["满意度指数", "100.00"],
            ["整改率", "100.0%"],
            ["得分", "100.00"],
            ["等级", "优秀"],
            ["县内排名", "1"],
        ];
        for [label, value] in expected {
            if !score.iter().any(|r| r[0] == label && r[1] == value) {
                return Err(format!("{label} {value} not in {score:?}"));
            }
        }
        for [label, average] in [["得分", "77.67"], ["办结率", "93.3%"], ["满意度指数", "75.00"]] {
            if !score.iter().any(|r| r[0] == label && r[2] == average) {
                return Err(format!("county average {label} {average} not in {score:?}"));
            }
        }
        let topics: Vec<String> = rows(&client, "topics").await?.into_iter().map(|r| r[0].clone()).collect();
        let evaluations: Vec<String> = rows(&client, "evaluations").await?.into_iter().map(|r| r[0].clone()).collect();
        if topics != ["T03", "T04", "T08"] || evaluations != ["E01", "E02", "E06"] {
            return Err(format!("topics {topics:?}, evaluations {evaluations:?}"));
        }
        let text = client.find(Locator::Css("main")).await.map_err(|e| e.to_string())?.text().await;
        if text.map_err(|e| e.to_string())?.contains("居民") {
            return Err("the cadre page names a respondent".into());
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("the cadre page"),
        None => skipped("SKIPPED the_cadre_page_shows_its_figures_beside_the_county: no chromedriver"),
    }
}

/// Signs in through the login form; the session cookie.
pub(crate) async fn signed_in(app: &Router, (user, password): (&str, &str)) -> String {
    let form = format!("username={user}&password={password}&next=%2Foverview");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "login of {user}");
    let cookie = response.headers()[header::SET_COOKIE].to_str().expect("cookie").to_string();
    cookie.split(';').next().expect("pair").to_string()
}

pub(crate) async fn page(app: &Router, cookie: &str, uri: &str) -> (StatusCode, String) {
    let req = Request::builder().uri(uri).header(header::COOKIE, cookie).body(Body::empty()).expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// 乙县's clerk asks for 甲县's cadre K1 and topic T03: 404, the same page as for a cadre
/// that does not exist (K99), so nothing says K1 exists; its own cadre 王七 (K7) shows. A
/// community account sees its own cadres only. A malformed id is a 400.
#[test]
fn another_tenant_s_cadre_or_topic_is_not_found() {
    crate::api::warehouse_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
    runtime().block_on(async {
        let state = crate::api::state(&url).await;
        let accounts = [
            ("drill-b", "drill-pass-b-1", Scope::County("141021".into())),
            ("drill-a2", "drill-pass-a2-1", Scope::Community("141026100002".into())),
        ];
        for (name, password, scope) in &accounts {
            state.catalog.add_user(name, "下钻测试", password, scope).await.expect("user");
        }
        let app = api::router(state.clone());
        let b = signed_in(&app, ("drill-b", "drill-pass-b-1")).await;
        let (status, foreign) = page(&app, &b, &format!("/cadre?year=2025&community={A1}&cadre=K1")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{foreign}");
        assert!(!foreign.contains("张一"), "{foreign}");
        let (status, missing) = page(&app, &b, "/cadre?year=2025&community=141021100001&cadre=K99").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(missing.contains("没有找到") && foreign.contains("没有找到"));
        let (status, own) = page(&app, &b, "/cadre?year=2025&community=141021100001&cadre=K7").await;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert!(own.contains("王七"), "{own}");
        let (status, topic) = page(&app, &b, &format!("/topic?year=2025&community={A1}&topic=T03")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{topic}");
        assert!(!topic.contains("道路破损"), "{topic}");

        let a2 = signed_in(&app, ("drill-a2", "drill-pass-a2-1")).await;
        let (status, _) = page(&app, &a2, &format!("/cadre?year=2025&community={A1}&cadre=K1")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, own) = page(&app, &a2, "/cadre?year=2025&community=141026100002&cadre=K4").await;
        assert_eq!(status, StatusCode::OK);
        assert!(own.contains("李四"));
        let long = "K".repeat(65);
        let (status, _) = page(&app, &a2, &format!("/cadre?year=2025&community=141026100002&cadre={long}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) =
            page(&app, &a2, "/cadre?year=2025&community=141026100002&cadre=K4%27%20OR%20%271%27%3D%271").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "an id with quotes is a value, not SQL");
        state.catalog.close().await;
    });
}

/// The tables' script (`/assets/tables.js`, same origin under the pages' CSP): a click on
/// the cadres table's 得分 header sorts by score, up and then down, with "—" last; the
/// quarterly table of the platform's 2025 (4 communities × 4 quarters, empty quarters
/// included: 16 rows) gets a search box, and "北岭" leaves 北岭社区's 4 quarters.
#[test]
fn tables_sort_on_a_header_click_and_filter_by_search() {
    let users = [(USER.0, USER.1, Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move {
        log_in(&client, &base, USER, "/cadres?year=2025").await?;
        let header = "//section[@id='cadres-table']//th[text()='得分']";
        let column = |rows: &[Vec<String>]| -> Vec<Option<f64>> {
            rows.iter().map(|r| r.get(8).and_then(|s| s.parse::<f64>().ok())).collect()
        };
        for ascending in [true, false] {
            client
                .find(Locator::XPath(header))
                .await
                .map_err(|e| e.to_string())?
                .click()
                .await
                .map_err(|e| e.to_string())?;
            let scores = column(&rows(&client, "cadres-table").await?);
            let known: Vec<f64> = scores.iter().flatten().copied().collect();
            let sorted = known.windows(2).all(|w| if ascending { w[0] <= w[1] } else { w[0] >= w[1] });
            let blanks_last = scores.iter().skip_while(|s| s.is_some()).all(Option::is_none);
            if known.len() < 5 || !sorted || !blanks_last {
                return Err(format!("ascending {ascending}: {scores:?}"));
            }
        }
        client.goto(&format!("{base}/quarterly?year=2025")).await.map_err(|e| e.to_string())?;
        let search = client
            .wait()
            .for_element(Locator::Css("#quarterly-table input[type=search]"))
            .await
            .map_err(|e| format!("search box: {e}"))?;
        search.send_keys("北岭").await.map_err(|e| e.to_string())?;
        let visible = client
            .execute(
                "return Array.from(document.querySelectorAll('#quarterly-table tbody tr')).filter(r => !r.hidden)\
                 .map(r => r.cells[0].innerText.trim());",
                vec![],
            )
            .await
            .map_err(|e| e.to_string())?;
        let visible: Vec<String> = serde_json::from_value(visible).map_err(|e| e.to_string())?;
        if visible != ["北岭社区"; 4] {
            return Err(format!("after 北岭: {visible:?}"));
        }
        Ok(())
    });
    match checked {
        Some(result) => result.expect("tables"),
        None => skipped("SKIPPED tables_sort_on_a_header_click_and_filter_by_search: no chromedriver"),
    }
}
