//! The server's side of issue 17's templates and previews: the template download, an
//! upload's dry run (`?dry_run=true`) that writes nothing and whose counts the real upload
//! then reports, and the upload page's preview → 确认写入 with the file held server-side.

use std::path::Path;

use api::{AppState, Catalog, Config};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use ingest::{Scope, Table};
use serde_json::Value;
use tower::ServiceExt;
use warehouse::{IngestOptions, Warehouse};

use crate::api::{Answer, call, multipart};
use crate::support::runtime;

const BOUNDARY: &str = "yishiPreviewBoundary0d9f2a";

/// A warehouse of its own (the shared one is read by other tests) with the fixtures.
async fn server(dir: &Path) -> (Router, AppState) {
    let root = dir.join("wh");
    let root = root.to_str().expect("utf-8");
    let wh = Warehouse::init(root).await.expect("init");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses");
    for table in Table::ALL {
        let options = IngestOptions {
            scope: &Scope::Platform,
            user: "fixture",
            partial: false,
            sheet: None,
            header_row: None,
            max_file_bytes: 10 << 20,
            progress: None,
        };
        wh.ingest_file(table, &fixtures.join(format!("{}.csv", table.name())), &options).await.expect("ingest");
    }
    let url = format!("sqlite://{}", dir.join("yishi.db").display());
    let catalog = Catalog::open(&url).await.expect("catalog");
    let state = AppState::new(wh, catalog, Config::default());
    state.sync_places().await.expect("places");
    (api::router(state.clone()), state)
}

async fn upload(app: &Router, token: &str, table: &str, query: &str, name: &str, content: &str) -> Answer {
    call(
        app,
        Method::POST,
        &format!("/api/v1/ingest/{table}{query}"),
        Some(token),
        Body::from(multipart(BOUNDARY, name, content.as_bytes(), &[])),
        Some(&format!("multipart/form-data; boundary={BOUNDARY}")),
    )
    .await
}

/// A page request with the session cookie: status and HTML.
async fn page(app: &Router, cookie: &str, method: Method, uri: &str, body: Body, ctype: &str) -> (StatusCode, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, ctype)
        .body(body)
        .expect("request");
    let response = app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn rows(state: &AppState, table: Table) -> u64 {
    let infos = state.warehouse.tables().await.expect("tables");
    infos.iter().find(|i| i.table == table.name()).map(|i| i.rows).expect("table")
}

/// K1 moves from secretary to director, K2 and K3 as before, K9 is new, one role is wrong.
const LATER: &str = "社区代码,干部编号,姓名,职务,是否党员\n\
                     141026100001,K1,张一,主任,是\n\
                     141026100001,K2,张二,主任,是\n\
                     141026100001,K3,张三,委员,否\n\
                     141026100001,K9,张九,网格员,否\n\
                     141026100001,K8,张八,队长,否\n";

#[test]
fn templates_dry_runs_and_the_confirmed_page_upload() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let (app, state) = server(dir.path()).await;
        let county = Scope::county("141026").expect("code");
        state.catalog.add_user("clerk", "办事员", "password-clerk-1", &county).await.expect("user");
        let token = state.catalog.create_token("county", Some("clerk"), &county).await.expect("token").1;

        // Templates: by English or Chinese table name, xlsx or csv; unknown ones 404.
        let xlsx = call(&app, Method::GET, "/api/v1/templates/topics.xlsx", Some(&token), Body::empty(), None).await;
        assert_eq!(xlsx.status, StatusCode::OK);
        assert!(xlsx.body.starts_with(b"PK"));
        let disposition = xlsx.headers[header::CONTENT_DISPOSITION].to_str().expect("ascii");
        assert!(disposition.contains("topics-template.xlsx"), "{disposition}");
        let uri = "/api/v1/templates/%E5%B9%B2%E9%83%A8.csv"; // 干部.csv
        let csv = call(&app, Method::GET, uri, Some(&token), Body::empty(), None).await;
        assert_eq!(csv.text(), "\u{feff}社区代码,干部编号,姓名,职务,是否党员\r\n");
        let none = call(&app, Method::GET, "/api/v1/templates/votes.xlsx", Some(&token), Body::empty(), None).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
        let anonymous = call(&app, Method::GET, "/api/v1/templates/topics.csv", None, Body::empty(), None).await;
        assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

        // A dry run: counts and the changed field, nothing written, no batch recorded.
        let before = (rows(&state, Table::Cadres).await, state.warehouse.batches().await.expect("log").len());
        let batches_before = call(&app, Method::GET, "/api/v1/batches", Some(&token), Body::empty(), None).await.json();
        let dry = upload(&app, &token, "cadres", "?dry_run=true&partial=true", "later.csv", LATER).await;
        assert_eq!(dry.status, StatusCode::OK, "{}", dry.text());
        let p = dry.json();
        assert_eq!(p["dry_run"], true);
        let counts = ["rows_new", "rows_updated", "rows_unchanged", "rows_rejected"].map(|k| p[k].as_u64());
        assert_eq!(counts, [Some(1), Some(1), Some(2), Some(1)], "{p}");
        assert_eq!(p["summary"], "新增 1、更新 1、不变 2、不合格 1");
        let change: Value = serde_json::json!([{"column": "role", "header": "职务", "old": "书记", "new": "主任"}]);
        assert_eq!((&p["changes"][0]["key"], &p["changes"][0]["fields"]), (&Value::from("K1"), &change));
        assert_eq!(p["errors"][0]["value"], "队长");
        let after = (rows(&state, Table::Cadres).await, state.warehouse.batches().await.expect("log").len());
        assert_eq!(after, before, "a dry run writes nothing");
        let batches_after = call(&app, Method::GET, "/api/v1/batches", Some(&token), Body::empty(), None).await.json();
        assert_eq!(batches_after, batches_before, "a dry run records no batch");

        // The real upload reports what the preview said, in its answer and its batch record.
        let real = upload(&app, &token, "cadres", "?partial=true", "later.csv", LATER).await;
        let r = real.json();
        assert_eq!((r["rows_inserted"].as_u64(), r["rows_updated"].as_u64()), (Some(1), Some(1)), "{r}");
        assert_eq!((r["rows_accepted"].as_u64(), r["rows_rejected"].as_u64()), (Some(4), Some(1)), "{r}");
        let uri = format!("/api/v1/batches/{}", r["batch_id"]);
        let batch = call(&app, Method::GET, &uri, Some(&token), Body::empty(), None).await.json()["batch"].clone();
        assert_eq!((batch["rows_inserted"].as_u64(), batch["rows_updated"].as_u64()), (Some(1), Some(1)), "{batch}");
        assert_eq!(rows(&state, Table::Cadres).await, before.0 + 1);

        // The page: upload → preview with a confirm button → 确认写入 → written, once.
        let form = "username=clerk&password=password-clerk-1&next=%2Fupload";
        let login =
            call(&app, Method::POST, "/login", None, Body::from(form), Some("application/x-www-form-urlencoded"));
        let login = login.await;
        let cookie = login.headers[header::SET_COOKIE].to_str().expect("cookie").split(';').next().expect("pair");
        let (status, html) = page(&app, cookie, Method::GET, "/upload", Body::empty(), "text/plain").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("/api/v1/templates/topics.xlsx"), "the upload page links each template");
        let file = "社区代码,干部编号,姓名,职务\n141026100001,K9,张九,社工\n141026100002,K7,李七,委员\n";
        let form = multipart(BOUNDARY, "page.csv", file.as_bytes(), &[("table", "cadres")]);
        let ctype = format!("multipart/form-data; boundary={BOUNDARY}");
        let (status, html) = page(&app, cookie, Method::POST, "/upload", Body::from(form), &ctype).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("新增 1、更新 1、不变 0、不合格 0"), "{html}");
        assert!(html.contains("141026100001 / K9：职务 网格员 → 社工"), "{html}");
        assert_eq!(rows(&state, Table::Cadres).await, before.0 + 1, "not written before confirmation");
        let hold = html.split("name=\"hold\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("hold id");
        let confirm = format!("hold={hold}");
        let form_type = "application/x-www-form-urlencoded";
        let (status, html) =
            page(&app, cookie, Method::POST, "/upload/confirm", Body::from(confirm.clone()), form_type).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("已写入 2 行（新增 1，更新 1，不变 0）"), "{html}");
        assert_eq!(rows(&state, Table::Cadres).await, before.0 + 2);
        let (status, html) = page(&app, cookie, Method::POST, "/upload/confirm", Body::from(confirm), form_type).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a held file is written once");
        assert!(html.contains("请重新上传"), "{html}");
        state.catalog.close().await;
    });
}

/// In headless Chromium: the upload page shows the table order with row counts, a file
/// chosen there is previewed (nothing written), 确认写入 writes it, and the upload is in
/// the history with its counts.
#[test]
fn browser_upload_preview_confirm_and_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile");
    runtime().block_on(async {
        let (_, state) = server(dir.path()).await;
        let county = Scope::county("141026").expect("code");
        state.catalog.add_user("web-clerk", "网页办事员", "web-clerk-pass-1", &county).await.expect("user");
        let checking = state.clone();
        let browse = |client: fantoccini::Client, base: String| async move { upload_in_browser(&client, &base).await };
        match crate::api::with_browser(state, &profile, browse).await {
            None => {
                crate::api::skipped(
                    "SKIPPED browser_upload_preview_confirm_and_history: chromedriver is not installed",
                );
                return;
            }
            Some(result) => result.expect("browser checks"),
        }
        // The fixture cadres plus the one added on the page.
        let cadres = checking.warehouse.tables().await.expect("tables");
        let cadres = cadres.iter().find(|i| i.table == "cadres").map(|i| i.rows);
        assert_eq!(cadres, Some(BEFORE_CADRES + 1));
        checking.catalog.close().await;
    });
}

/// All cadres of the fixtures (tests/fixtures/analyses/cadres.csv), both counties.
const BEFORE_CADRES: u64 = 8;

async fn upload_in_browser(client: &fantoccini::Client, base: &str) -> Result<(), String> {
    use fantoccini::Locator;
    let e = |what: &'static str| move |err: fantoccini::error::CmdError| format!("{what}: {err}");
    crate::api::log_in(client, base, ("web-clerk", "web-clerk-pass-1"), "/upload").await?;
    let order = client.wait().for_element(Locator::Id("templates")).await.map_err(e("table order"))?;
    let order = order.text().await.map_err(e("order text"))?;
    // County 141026 holds three communities and six cadres in the fixtures.
    if !order.contains("社区：现有 3 行") || !order.contains("社区干部：现有 6 行") {
        return Err(format!("table order: {order}"));
    }
    let file = std::env::temp_dir().join(format!("yishi-preview-{}.csv", std::process::id()));
    let csv = "社区代码,干部编号,姓名,职务\n141026100001,K1,张一,主任\n141026100002,KW1,网页,社工\n";
    std::fs::write(&file, csv).map_err(|x| x.to_string())?;
    let select = client.find(Locator::Css("select[name=table]")).await.map_err(e("table select"))?;
    select.select_by_value("cadres").await.map_err(e("choose cadres"))?;
    let input = client.find(Locator::Css("input[type=file]")).await.map_err(e("file input"))?;
    input.send_keys(&file.display().to_string()).await.map_err(e("choose file"))?;
    client.find(Locator::Css("#upload-form button")).await.map_err(e("button"))?.click().await.map_err(e("upload"))?;
    let summary = client.wait().for_element(Locator::Id("preview-summary")).await.map_err(e("preview"))?;
    let summary = summary.text().await.map_err(e("summary text"))?;
    let _ = std::fs::remove_file(&file);
    if summary != "新增 1、更新 1、不变 0、不合格 0" {
        return Err(format!("preview: {summary}"));
    }
    let changes = client.find(Locator::Id("preview-changes")).await.map_err(e("changes"))?;
    let changes = changes.text().await.map_err(e("changes text"))?;
    if !changes.contains("141026100001 / K1：职务 书记 → 主任") {
        return Err(format!("changes: {changes}"));
    }
    client.find(Locator::Id("confirm")).await.map_err(e("confirm"))?.click().await.map_err(e("click confirm"))?;
    let result = client.wait().for_element(Locator::Id("upload-result")).await.map_err(e("result"))?;
    let result = result.text().await.map_err(e("result text"))?;
    if !result.contains("已写入 2 行（新增 1，更新 1，不变 0）") {
        return Err(format!("result: {result}"));
    }
    client.find(Locator::Id("history-link")).await.map_err(e("history link"))?.click().await.map_err(e("click"))?;
    let history = client.wait().for_element(Locator::Id("history")).await.map_err(e("history"))?;
    let history = history.text().await.map_err(e("history text"))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let line =
        history.lines().find(|l| l.contains(&name)).ok_or_else(|| format!("{name} not in history: {history}"))?;
    if !(line.contains("网页办事员") || line.contains("web-clerk"))
        || !line.contains("社区干部")
        || !line.contains("已写入")
    {
        return Err(format!("history line: {line}"));
    }
    Ok(())
}
