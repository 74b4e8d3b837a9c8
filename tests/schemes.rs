//! County schemes and frozen results on every surface: a 甲县 scheme uploaded through the
//! API changes 甲县's grades on the cadres page and in `yishi export pack`'s workbook and
//! nobody else's; who may upload and see schemes (run on SQLite here and, through
//! `api::api_suite`, on PostgreSQL too); a frozen year-end result that a later correction
//! does not change, with the note, and `latest` showing the correction; `as_of_version`
//! on the API equal to the CLI's `--as-of-version`.
//!
//! Hand-worked from `tests/fixtures/analyses` (see `analyses::cadre_grades_follow_quota_ties_and_minimum_topics`):
//! 甲县's rated cadres in 2025 have completion, on-time, satisfaction-index and
//! rectification rates K1 1, 1, 100, 1; K2 and K4 1, 1, 75, 1; K3 1, 2/3, 50, 0; K5 2/3,
//! 1/2, none, 1; K6 (2 topics, not rated) 1, 1, none, 1. 乙县's K7 and K8: 1, 1, 75, 1.

use std::path::Path;

use api::{AppState, Catalog, Config};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use ingest::{Scope, Table};
use serde_json::Value;

use crate::api::{Answer, call};
use crate::support::{fixture_warehouse, ingest_fixture, runtime, yishi};

const COUNTY_A: &str = "141026";
const COUNTY_B: &str = "141021";

/// 甲县's scheme: the satisfaction index weighs 45 and rectification 5 (default 35 and 15),
/// and 基本称职 needs 66 (default 60). Scores: K1 30+20+45+5 = 100 (优秀, the one seat);
/// K2, K4 30+20+45×0.75+5 = 88.75 (称职); K3 30+20×2/3+45×0.5+0 = 65.83 (不称职: < 66;
/// 基本称职 by default at 60.83); K5 30×2/3+20×1/2+0+5 = 35 (不称职); K6 30+20+0+5 = 55.
/// Applied to 乙县 by mistake it would make K7 and K8 88.75 and 称职, not 91.25 and 优秀.
const SCHEME_A: &str = "name = \"甲县2025年度方案\"\n[cadre]\nsatisfaction_index = 45\nrectification_rate = 5\n\
                        [grades]\nbasically_competent_score = 66\n";

/// A server over the warehouse at `root` with a fresh SQLite catalog at `catalog`, and a
/// token each for the platform, 甲县, 乙县 and 甲县's community …001.
pub(crate) async fn server(root: &str, catalog: &str) -> (AppState, Router, [String; 4]) {
    server_with(root, catalog, Config::default()).await
}

/// [`server`] with its own `config`.
pub(crate) async fn server_with(root: &str, catalog: &str, config: Config) -> (AppState, Router, [String; 4]) {
    let wh = warehouse::Warehouse::open(root).await.expect("open");
    let catalog = Catalog::open(catalog).await.expect("catalog");
    let state = AppState::new(wh, catalog, config);
    state.sync_places().await.expect("places");
    let a = Scope::County(COUNTY_A.into());
    state.catalog.add_user("scheme-a", "甲县统计员", "scheme-pass-a-1", &a).await.expect("user");
    state.catalog.add_user("scheme-p", "平台管理员", "scheme-pass-p-1", &Scope::Platform).await.expect("user");
    let token = |label: &'static str, user: Option<&'static str>, scope: Scope| {
        let catalog = state.catalog.clone();
        async move { catalog.create_token(label, user, &scope).await.expect("token").1 }
    };
    let tokens = [
        token("p", Some("scheme-p"), Scope::Platform).await,
        token("a", Some("scheme-a"), a.clone()).await,
        token("b", None, Scope::County(COUNTY_B.into())).await,
        token("a1", None, Scope::Community(format!("{COUNTY_A}100001"))).await,
    ];
    let app = api::router(state.clone());
    (state, app, tokens)
}

pub(crate) async fn get(app: &Router, uri: &str, token: &str) -> Answer {
    call(app, Method::GET, uri, Some(token), Body::empty(), None).await
}

async fn post(app: &Router, uri: &str, token: &str, body: &str) -> Answer {
    call(app, Method::POST, uri, Some(token), Body::from(body.to_string()), Some("application/toml")).await
}

/// A page as a signed-in user sees it.
pub(crate) async fn page(state: &AppState, app: &Router, user: &str, uri: &str) -> (StatusCode, String) {
    let secret = state.catalog.create_session(user, std::time::Duration::from_secs(600)).await.expect("session");
    let request = axum::http::Request::builder()
        .uri(uri)
        .header(header::COOKIE, format!("{}={secret}", api::auth::SESSION_COOKIE))
        .body(Body::empty())
        .expect("request");
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The cells of the `<tr>` that names `who` in an HTML table.
fn html_row(html: &str, who: &str) -> String {
    html.split("<tr").find(|r| r.contains(&format!(">{who}<"))).unwrap_or_else(|| panic!("no row of {who}")).to_string()
}

/// Cadre id → (score, grade label) of a cadres report's JSON rows.
fn grades(rows: &Value) -> std::collections::BTreeMap<String, (Option<f64>, String)> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            let id = r["cadre_id"].as_str().unwrap_or_default().to_string();
            (id, (r["score"].as_f64(), r["grade_chinese"].as_str().unwrap_or_default().to_string()))
        })
        .collect()
}

fn assert_grade(got: &std::collections::BTreeMap<String, (Option<f64>, String)>, id: &str, score: f64, grade: &str) {
    let (s, g) = got.get(id).unwrap_or_else(|| panic!("{id} missing in {got:?}"));
    assert!(s.is_some_and(|s| (s - score).abs() < 1e-6) && g == grade, "{id}: {s:?} {g}, expected {score} {grade}");
}

#[test]
fn a_county_scheme_changes_its_grades_on_the_page_and_in_the_pack_and_no_other_county_s() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        fixture_warehouse(&root).await;
        let (state, app, [platform, county_a, _, _]) = server(&root, &catalog).await;
        let before_b =
            grades(&get(&app, &format!("/api/v1/reports/cadres?year=2025&county={COUNTY_B}"), &platform).await.json());
        let uploaded =
            post(&app, &format!("/api/v1/schemes/{COUNTY_A}?in_force_from=2025-01-01"), &county_a, SCHEME_A).await;
        assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.text());
        let uploaded = uploaded.json();
        assert_eq!((uploaded["version"].as_i64(), uploaded["in_force"].as_bool()), (Some(1), Some(true)));
        let diff: Vec<(String, String, String)> = uploaded["diff"]
            .as_array()
            .expect("diff")
            .iter()
            .map(|d| (d["field"].to_string(), d["default"].to_string(), d["county"].to_string()))
            .collect();
        assert_eq!(diff.len(), 4, "{diff:?}"); // name, two weights, one threshold
        assert!(diff.contains(&("\"grades.basically_competent_score\"".into(), "\"60.0\"".into(), "\"66.0\"".into())));

        // The API: 甲县 by its scheme, 乙县 as before — asked by county and by the platform.
        let a = get(&app, "/api/v1/reports/cadres?year=2025", &county_a).await;
        assert_eq!(a.headers["x-yishi-scheme-version"], "1");
        let a = grades(&a.json());
        assert_grade(&a, "K1", 100.0, "优秀");
        assert_grade(&a, "K2", 88.75, "称职");
        assert_grade(&a, "K4", 88.75, "称职");
        assert_grade(&a, "K3", 30.0 + 40.0 / 3.0 + 22.5, "不称职");
        assert_grade(&a, "K5", 35.0, "不称职");
        assert_grade(&a, "K6", 55.0, "未评定");
        let all = grades(&get(&app, "/api/v1/reports/cadres?year=2025", &platform).await.json());
        for id in ["K1", "K2", "K3", "K4", "K5", "K6"] {
            assert_eq!(all[id], a[id], "{id}: the platform's report computes 甲县 with its scheme");
        }
        for id in ["K7", "K8"] {
            assert_grade(&all, id, 91.25, "优秀");
            assert_eq!(all[id], before_b[id]);
        }

        // The pages: 甲县's clerk and the platform see 张三 (K3) 不称职 at 65.83, 王七 优秀;
        // the footer names the scheme and its version.
        let (status, html) = page(&state, &app, "scheme-a", "/cadres?year=2025").await;
        assert_eq!(status, StatusCode::OK);
        let k3 = html_row(&html, "张三");
        assert!(k3.contains("65.83") && k3.contains("不称职"), "{k3}");
        assert!(html.contains("甲县2025年度方案（第1版"), "the page's 口径 names the scheme");
        let (_, html) = page(&state, &app, "scheme-p", "/cadres?year=2025").await;
        assert!(html_row(&html, "张三").contains("不称职") && html_row(&html, "王七").contains("优秀"));
        assert!(
            html.contains("141026：甲县2025年度方案（第1版") && html.contains("数据契约默认方案（默认"),
            "both schemes named"
        );
        let (status, html) = page(&state, &app, "scheme-a", "/schemes").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            html.contains("basically_competent_score") && html.contains("本县值") && html.contains("现行"),
            "{html}"
        );
        state.catalog.close().await;
    });

    // The pack of 甲县 (the CLI, with the same catalog): the workbook's cadres sheet and
    // 口径 sheet; 乙县's pack keeps the default.
    let sheet = |county: &str| {
        let out = dir.path().join(format!("pack-{county}"));
        let args = ["--warehouse", &root, "--county", county, "export", "pack", "--year", "2025", "--quarter", "3"];
        let run = yishi(&[&args[..], &["--out", out.to_str().expect("utf-8"), "--catalog", &catalog]].concat());
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        workbook_of(&out)
    };
    let (cadres, about) = sheet(COUNTY_A);
    assert!(cadres.iter().any(|r| r.contains(&"张三".to_string()) && r.contains(&"不称职".to_string())), "{cadres:?}");
    let k2 = cadres.iter().find(|r| r.contains(&"张二".to_string())).expect("张二");
    assert!(k2.contains(&"88.75".to_string()) && k2.contains(&"称职".to_string()), "{k2:?}");
    assert!(about.iter().any(|l| l.contains("甲县2025年度方案（第1版")), "{about:?}");
    let (cadres, about) = sheet(COUNTY_B);
    let k7 = cadres.iter().find(|r| r.contains(&"王七".to_string())).expect("王七");
    assert!(k7.contains(&"91.25".to_string()) && k7.contains(&"优秀".to_string()), "{k7:?}");
    assert!(about.iter().any(|l| l.contains("数据契约默认方案")), "{about:?}");

    // The written report takes its reports from the same source: its cover names the
    // county's scheme in force.
    let cover = |county: &str| {
        let out = dir.path().join(format!("report-{county}.docx"));
        let args = ["--warehouse", &root, "--county", county, "export", "report", "--year", "2025", "--quarter", "2"];
        let run = yishi(&[&args[..], &["--out", out.to_str().expect("utf-8"), "--catalog", &catalog]].concat());
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        crate::documents::docx_text(&out)
    };
    assert!(cover(COUNTY_A).contains("评分方案：甲县2025年度方案（第1版"), "甲县's scheme on the cover");
    assert!(cover(COUNTY_B).contains("评分方案：数据契约默认方案（默认"), "乙县 keeps the default");

    // The year-end document grades 甲县's cadres with 甲县's scheme: K3 65.83 is 不称职
    // (基本称职 by default), so 0 基本称职 and 2 不称职 (K3, K5); 2024 all 未评定.
    let out = dir.path().join("year-a.docx");
    let args = ["--warehouse", &root, "--county", COUNTY_A, "export", "report", "--year", "2025"];
    let run = yishi(&[&args[..], &["--out", out.to_str().expect("utf-8"), "--catalog", &catalog]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let year = crate::documents::docx_text(&out);
    assert!(year.contains("评分方案：甲县2025年度方案（第1版"), "甲县's scheme on the year's cover");
    assert!(year.contains("评定优秀1名、称职2名、基本称职0名、不称职2名"), "grades by 甲县's scheme");
    assert!(year.contains("张三（东岭社区）由未评定变为不称职"), "K3's change by 甲县's scheme");
}

/// The rows of a pack's workbook's cadres sheet and its 口径 sheet, each cell as text.
fn workbook_of(dir: &Path) -> (Vec<Vec<String>>, Vec<String>) {
    use calamine::Reader;
    let file = std::fs::read_dir(dir)
        .expect("pack")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "xlsx"))
        .expect("workbook");
    let mut book = calamine::open_workbook_auto(&file).expect("xlsx");
    let cadres = dashboards::xlsx::sheet_name(warehouse::analyses::ReportKind::Cadres);
    let rows = book.worksheet_range(&cadres).expect("cadres sheet");
    let cell = |c: &calamine::Data| match c {
        calamine::Data::Float(f) => format!("{:.2}", f),
        other => other.to_string(),
    };
    let cadres: Vec<Vec<String>> = rows.rows().map(|r| r.iter().map(cell).collect()).collect();
    let about = book.worksheet_range("口径").expect("口径 sheet");
    let about = about.rows().map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" ")).collect();
    (cadres, about)
}

/// Who may upload and see a county's schemes, and bad schemes refused in Chinese naming
/// the field. `tokens`: platform, 甲县, 乙县, 甲县's community …001. Also run by
/// `api::api_suite` on PostgreSQL.
pub(crate) async fn scheme_permissions(app: &Router, [platform, county_a, county_b, a1]: [&str; 4]) {
    let uri = format!("/api/v1/schemes/{COUNTY_A}?in_force_from=2025-01-01");
    let community = post(app, &uri, a1, SCHEME_A).await;
    assert_eq!(community.status, StatusCode::FORBIDDEN, "{}", community.text());
    assert!(community.json()["message"].as_str().unwrap_or_default().contains("社区账号不能上传评分方案"));
    let foreign = post(app, &uri, county_b, SCHEME_A).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{}", foreign.text());
    assert_eq!(get(app, &format!("/api/v1/schemes/{COUNTY_A}"), county_b).await.status, StatusCode::FORBIDDEN);

    let typo = post(app, &uri, county_a, "name = \"甲县\"\n[cadre]\ncompletion_rat = 40\n").await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    let message = typo.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("第 3 行") && message.contains("没有字段“completion_rat”"), "{message}");
    let bad = post(app, &uri, county_a, "[grades]\nexcellent_quota = 2\n").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let message = bad.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains("grades.excellent_quota") && message.contains("应大于 0 且不大于 1"), "{message}");

    // Two versions: the second in force from a later day; a community sees the one in force.
    assert_eq!(post(app, &uri, county_a, SCHEME_A).await.status, StatusCode::OK);
    let later = format!("/api/v1/schemes/{COUNTY_A}?in_force_from=2999-01-01");
    assert_eq!(post(app, &later, platform, "name = \"将来的方案\"\n").await.status, StatusCode::OK);
    let listed = get(app, &format!("/api/v1/schemes/{COUNTY_A}"), county_a).await.json();
    let versions: Vec<(i64, bool)> = listed["schemes"]
        .as_array()
        .expect("schemes")
        .iter()
        .map(|s| (s["version"].as_i64().unwrap_or(0), s["in_force"].as_bool().unwrap_or(false)))
        .collect();
    assert_eq!(versions, [(2, false), (1, true)]);
    let seen = get(app, &format!("/api/v1/schemes/{COUNTY_A}"), a1).await.json();
    assert_eq!(seen["schemes"].as_array().map(Vec::len), Some(1));
    assert_eq!(get(app, &format!("/api/v1/schemes/{COUNTY_A}/2"), a1).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(app, &format!("/api/v1/schemes/{COUNTY_A}/1"), a1).await.status, StatusCode::OK);
    assert_eq!(get(app, &format!("/api/v1/schemes/{COUNTY_A}/9"), county_a).await.status, StatusCode::NOT_FOUND);
    let audit = get(app, "/api/v1/audit?action=scheme", platform).await.json();
    let entries = audit["entries"].as_array().expect("entries");
    assert!(entries.iter().any(|e| e["status"] == 403) && entries.iter().filter(|e| e["status"] == 200).count() == 2);
}

#[test]
fn who_may_upload_and_see_a_county_scheme() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::api::warehouse_dir();
    let root = crate::api::warehouse_dir().to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let (state, app, tokens) = server(&root, &catalog).await;
        scheme_permissions(&app, [&tokens[0], &tokens[1], &tokens[2], &tokens[3]].map(String::as_str)).await;
        state.catalog.close().await;
    });
}

/// 2025 frozen for 甲县, then the correction of U06 (K5's pending topic closed on 03-20,
/// before its 03-31 deadline): K5's completion 3/3 and on-time 2/3 give
/// 30 + 20×2/3 + 0 + 15 = 58.33 instead of 45. The frozen view keeps 45 and says newer data
/// exist; `latest=true` (and the CLI's `--latest`) shows 58.33; the CLI without it shows
/// the frozen 45.
#[test]
fn a_frozen_year_end_result_survives_a_correction_with_a_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let wh = fixture_warehouse(&root).await;
        let (state, app, [_, county_a, _, a1]) = server(&root, &catalog).await;
        let uri = format!("/api/v1/freezes/{COUNTY_A}?year=2025");
        assert_eq!(call(&app, Method::POST, &uri, Some(&a1), Body::empty(), None).await.status, StatusCode::FORBIDDEN);
        let frozen = call(&app, Method::POST, &uri, Some(&county_a), Body::empty(), None).await;
        assert_eq!(frozen.status, StatusCode::OK, "{}", frozen.text());
        let before = get(&app, "/api/v1/reports/cadres?year=2025", &county_a).await;
        assert_grade(&grades(&before.json()), "K5", 45.0, "不称职");

        // An upload that changes only 乙县's rows is no correction of 甲县's frozen result.
        ingest_fixture(&wh, Table::Topics, "topics_other_county.csv").await;
        let unrelated = get(&app, "/api/v1/reports/cadres?year=2025", &county_a).await;
        let note = url_decoded(unrelated.headers["x-yishi-notes"].to_str().expect("ascii"));
        assert!(note.starts_with("本结果为2025年度冻结结果") && !note.contains("其后数据已有更正"), "{note}");

        ingest_fixture(&wh, Table::Topics, "topics_corrected.csv").await;

        let after = get(&app, "/api/v1/reports/cadres?year=2025", &county_a).await;
        assert_eq!(after.json(), before.json(), "the frozen result is unchanged");
        let note = url_decoded(after.headers["x-yishi-notes"].to_str().expect("ascii"));
        assert!(note.starts_with("本结果为2025年度冻结结果（冻结于") && note.contains("其后数据已有更正"), "{note}");
        let latest = get(&app, "/api/v1/reports/cadres?year=2025&latest=true", &county_a).await;
        assert_grade(&grades(&latest.json()), "K5", 30.0 + 40.0 / 3.0 + 15.0, "不称职");
        assert!(!latest.headers.contains_key("x-yishi-notes"));
        let (_, html) = page(&state, &app, "scheme-a", "/cadres?year=2025").await;
        assert!(html.contains("本结果为2025年度冻结结果") && html_row(&html, "李五").contains("45.00"), "the page");
        // The quarterly analysis is not an assessment: never frozen.
        let quarterly = get(&app, "/api/v1/reports/quarterly?year=2025&quarter=1", &county_a).await;
        assert!(!quarterly.headers.contains_key("x-yishi-notes"));
        state.catalog.close().await;
    });
    let cli = |latest: bool| {
        let mut args = vec!["--warehouse", &root, "--county", COUNTY_A, "report", "cadres", "--year", "2025"];
        args.extend(["--format", "json", "--catalog", &catalog]);
        if latest {
            args.push("--latest");
        }
        let out = yishi(&args);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (grades(&serde_json::from_slice(&out.stdout).expect("json")), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (frozen, footer) = cli(false);
    assert_grade(&frozen, "K5", 45.0, "不称职");
    assert!(footer.contains("本结果为2025年度冻结结果"), "{footer}");
    assert_grade(&cli(true).0, "K5", 30.0 + 40.0 / 3.0 + 15.0, "不称职");

    // The pack of a frozen year: its cadres sheet is the frozen result and its 口径 sheet
    // says so; with --latest, the corrected one. The cadre chart names the frozen result too.
    let pack = |latest: bool| {
        let out = dir.path().join(format!("pack-{latest}"));
        let mut args = vec!["--warehouse", &root, "--county", COUNTY_A, "export", "pack", "--year", "2025"];
        args.extend(["--quarter", "4", "--catalog", &catalog, "--out", out.to_str().expect("utf-8")]);
        if latest {
            args.push("--latest");
        }
        let run = yishi(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        workbook_of(&out)
    };
    let k5 = |rows: &[Vec<String>]| rows.iter().find(|r| r.contains(&"李五".to_string())).expect("李五").clone();
    let (cadres, about) = pack(false);
    assert!(k5(&cadres).contains(&"45.00".to_string()), "{:?}", k5(&cadres));
    assert!(
        about.iter().any(|l| l.contains("本结果为2025年度冻结结果") && l.contains("其后数据已有更正")),
        "{about:?}"
    );
    let (cadres, about) = pack(true);
    assert!(k5(&cadres).contains(&"58.33".to_string()), "{:?}", k5(&cadres));
    assert!(!about.iter().any(|l| l.contains("冻结")), "{about:?}");

    // The year-end document of the frozen year: its assessment sentences and its cover say
    // so, and 李五's row of the grade changes (未评定 in 2024) carries the frozen 45.00;
    // with --latest the corrected 58.33 and the latest data.
    let year = |latest: bool| {
        let out = dir.path().join(format!("year-{latest}.docx"));
        let mut args = vec!["--warehouse", &root, "--county", COUNTY_A, "export", "report", "--year", "2025"];
        args.extend(["--catalog", &catalog, "--out", out.to_str().expect("utf-8")]);
        if latest {
            args.push("--latest");
        }
        let run = yishi(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        crate::documents::docx_text(&out)
    };
    let frozen = year(false);
    assert!(frozen.contains("2025年度社区干部考核（冻结结果）") && frozen.contains("本结果为2025年度冻结结果"));
    assert!(frozen.contains("李五西岭社区未评定不称职45.00"), "the frozen score in the grade changes");
    let latest = year(true);
    assert!(latest.contains("2025年度社区干部考核（按生成本报告时的数据）") && !latest.contains("冻结结果"));
    assert!(latest.contains("李五西岭社区未评定不称职58.33"), "the corrected score with --latest");
    let svg = dir.path().join("cadres.svg");
    let mut args = vec!["--warehouse", &root, "--county", COUNTY_A, "chart", "cadre_scores", "--year", "2025"];
    args.extend(["--catalog", &catalog, "--out", svg.to_str().expect("utf-8")]);
    let run = yishi(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let svg = std::fs::read_to_string(&svg).expect("svg");
    assert!(svg.contains("本结果为2025年度冻结结果") && svg.contains("45.0"), "the chart names the frozen result");
}

fn url_decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// The versions read before the correction, given to the API's `as_of_version` and to the
/// CLI's `--as-of-version`: the same rows, those of before (K5 45), not the corrected ones.
#[test]
fn as_of_version_on_the_api_equals_the_cli_s() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    let corrected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses/topics_corrected.csv");
    runtime().block_on(fixture_warehouse(&root));
    let report = |extra: &[&str]| {
        let args =
            ["--warehouse", &root, "report", "cadres", "--year", "2025", "--format", "json", "--catalog", &catalog];
        let out = yishi(&[&args[..], extra].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    };
    let footer = String::from_utf8_lossy(&report(&[]).stderr).into_owned();
    let versions = footer.split("数据版本：").nth(1).and_then(|s| s.split('｜').next()).expect("versions").to_string();
    let versions = versions.as_str();
    let out = yishi(&["--warehouse", &root, "ingest", "topics", corrected.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli = report(&["--as-of-version", versions]);
    let cli: Value = serde_json::from_slice(&cli.stdout).expect("json");
    assert_grade(&grades(&cli), "K5", 45.0, "不称职");
    runtime().block_on(async {
        let (state, app, [platform, ..]) = server(&root, &catalog).await;
        let asked = url::form_urlencoded::byte_serialize(versions.as_bytes()).collect::<String>();
        let api = get(&app, &format!("/api/v1/reports/cadres?year=2025&as_of_version={asked}"), &platform).await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.text());
        assert_eq!(api.json(), cli);
        let now = get(&app, "/api/v1/reports/cadres?year=2025", &platform).await.json();
        assert_grade(&grades(&now), "K5", 30.0 + 40.0 / 3.0 + 15.0, "不称职");
        let bad = get(&app, "/api/v1/reports/cadres?year=2025&as_of_version=votes=3", &platform).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.json()["message"].as_str().unwrap_or_default().contains("表“votes”不存在"));
        state.catalog.close().await;
    });
}
