//! Empty answers are never silent: an unknown county or community code is an error that
//! names it (exit 2 in the CLI, 400 in the API), and a known scope with no topics in the
//! period says so in Chinese, with the years that have topics (the fixtures have topics in
//! 2024 Q4, 2025 Q1 and Q2), on stderr and on the page.

use std::path::Path;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use ingest::Scope;

use crate::api::call;
use crate::support::{runtime, yishi};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_cli_names_unknown_codes_and_says_when_a_period_has_no_topics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wh = dir.path().join("wh");
    let wh = wh.to_str().expect("path");
    assert!(yishi(&["init", "--warehouse", wh]).status.success());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/analyses");
    for table in ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"] {
        let file = fixtures.join(format!("{table}.csv"));
        let out = yishi(&["ingest", table, file.to_str().expect("path"), "--warehouse", wh]);
        assert!(out.status.success(), "{table}: {}", text(&out.stderr));
    }

    let out = yishi(&["report", "quarterly", "--year", "2019", "--county", "999999", "--warehouse", wh]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("未知的县区代码“999999”"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "no empty table: {}", text(&out.stdout));
    let out = yishi(&["report", "cadres", "--year", "2025", "--community", "141026999999", "--warehouse", wh]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("未知的社区代码“141026999999”"), "{}", text(&out.stderr));

    // A known county, a year without topics: said on stderr, no 49-column empty table.
    let out = yishi(&["report", "quarterly", "--year", "2019", "--county", "141026", "--warehouse", wh]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("2019年该范围内没有议题；有议题的年份：2024、2025"), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    // A quarter without topics inside the years with data; JSON still goes to stdout.
    let out =
        yishi(&["report", "quarterly", "--year", "2025", "--quarter", "3", "--format", "json", "--warehouse", wh]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("2025年第3季度该范围内没有议题"), "{}", text(&out.stderr));
    assert!(serde_json::from_slice::<serde_json::Value>(&out.stdout).is_ok());
    // A period with topics: no notice.
    let out = yishi(&["report", "quarterly", "--year", "2025", "--quarter", "2", "--warehouse", wh]);
    assert!(!text(&out.stderr).contains("没有议题"), "{}", text(&out.stderr));
}

#[test]
fn the_api_refuses_unknown_codes_and_the_pages_say_when_a_period_is_empty() {
    crate::api::warehouse_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let state = crate::api::state(&format!("sqlite://{}", dir.path().join("yishi.db").display())).await;
        let app = api::router(state.clone());
        let token = state.catalog.create_token("platform", None, &Scope::Platform).await.expect("token").1;
        for (uri, code) in [
            ("/api/v1/reports/quarterly?year=2019&county=999999", "999999"),
            ("/api/v1/reports/cadres?year=2025&community=141026999999", "141026999999"),
            ("/api/v1/charts/dimensions.svg?year=2025&county=999999", "999999"),
        ] {
            let answer = call(&app, Method::GET, uri, Some(&token), Body::empty(), None).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}: {}", answer.text());
            let body = answer.json();
            assert_eq!(body["code"], "unknown_code", "{body}");
            assert!(body["message"].as_str().is_some_and(|m| m.contains(&format!("代码“{code}”"))), "{body}");
        }
        let known = call(
            &app,
            Method::GET,
            "/api/v1/reports/quarterly?year=2025&county=141026",
            Some(&token),
            Body::empty(),
            None,
        );
        assert_eq!(known.await.status, StatusCode::OK);

        let county = Scope::county("141026").expect("code");
        state.catalog.add_user("empty-clerk", "办事员", "password-empty-1", &county).await.expect("user");
        let form = "username=empty-clerk&password=password-empty-1&next=%2Foverview";
        let login =
            call(&app, Method::POST, "/login", None, Body::from(form), Some("application/x-www-form-urlencoded")).await;
        let cookie =
            login.headers[header::SET_COOKIE].to_str().expect("cookie").split(';').next().expect("pair").to_string();
        let page = |uri: &'static str| {
            let (app, cookie) = (app.clone(), cookie.clone());
            async move {
                use http_body_util::BodyExt;
                use tower::ServiceExt;
                let req = axum::http::Request::builder().uri(uri).header(header::COOKIE, cookie).body(Body::empty());
                let response = app.oneshot(req.expect("request")).await.expect("infallible");
                let status = response.status();
                let body = response.into_body().collect().await.expect("body").to_bytes();
                (status, text(&body))
            }
        };
        let (status, html) = page("/quarterly?year=2019").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("2019年该范围内没有议题；有议题的年份：2024、2025"), "{html}");
        let (_, html) = page("/overview?year=2025&quarter=1").await;
        assert!(!html.contains("没有议题"), "a period with topics has no notice");
        let (status, html) = page("/quarterly?year=2025&community=141026999999").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("未知的社区代码“141026999999”"), "{html}");
        state.catalog.close().await;
    });
}
