//! The server: the API against a SQLite catalog and a real PostgreSQL one, the
//! tenant-isolation matrix (every endpoint × every role), auth failures, revoked tokens,
//! upload limits and malformed multipart, the pages with a cookie session, and a browser
//! test in headless Chromium.
//!
//! The warehouse is the hand-made ledger of `tests/fixtures/analyses` (county 甲县 141026
//! with communities …001–…003, county 乙县 141021 with …001), built once and shared; each
//! test opens its own catalog.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use api::{AppState, Catalog, Config};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use dashboards::charts::ChartName;
use http_body_util::BodyExt;
use ingest::Scope;
use serde_json::{Value, json};
use tower::ServiceExt;
use warehouse::Warehouse;

use crate::support::runtime;

const A1: &str = "141026100001";
const A2: &str = "141026100002";
const B1: &str = "141021100001";
const COUNTY_A: &str = "141026";
const COUNTY_B: &str = "141021";

/// The shared warehouse folder (built once, read by every test; also by
/// `hardening_auth`). Call it before entering a runtime: the first call builds it in its own.
pub(crate) fn warehouse_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_str().expect("utf-8").to_string();
        runtime().block_on(crate::support::fixture_warehouse(&root));
        dir
    })
    .path()
}

fn test_config() -> Config {
    Config { max_upload_bytes: 64 << 10, request_timeout: Duration::from_secs(60), ..Config::default() }
}

/// The server's state over the shared warehouse and the catalog at `url`.
pub(crate) async fn state(catalog_url: &str) -> AppState {
    state_over(warehouse_dir().to_str().expect("utf-8"), catalog_url, 4).await
}

/// The server's state over the warehouse at `root` (holding at least `places` counties and
/// communities) and the catalog at `url`.
async fn state_over(root: &str, catalog_url: &str, places: usize) -> AppState {
    let wh = Warehouse::open(root).await.expect("open warehouse");
    let catalog = Catalog::open(catalog_url).await.expect("open catalog");
    let state = AppState::new(wh, catalog, test_config());
    assert!(state.sync_places().await.expect("sync places") >= places);
    state
}

/// A response: status, headers, body.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Body,
    ctype: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(c) = ctype {
        req = req.header(header::CONTENT_TYPE, c);
    }
    let response = app.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
    Answer { status, headers, body }
}

async fn get(app: &Router, uri: &str, token: &str) -> Answer {
    call(app, Method::GET, uri, Some(token), Body::empty(), None).await
}

async fn sql(app: &Router, token: &str, body: Value) -> Answer {
    call(app, Method::POST, "/api/v1/sql", Some(token), Body::from(body.to_string()), Some("application/json")).await
}

pub(crate) fn multipart(boundary: &str, file_name: &str, content: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in extra {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

async fn upload(app: &Router, token: &str, table: &str, query: &str, file_name: &str, content: &[u8]) -> Answer {
    let boundary = "yishiTestBoundary7MA4YWxkTrZu0gW";
    call(
        app,
        Method::POST,
        &format!("/api/v1/ingest/{table}{query}"),
        Some(token),
        Body::from(multipart(boundary, file_name, content, &[])),
        Some(&format!("multipart/form-data; boundary={boundary}")),
    )
    .await
}

/// The accounts of the matrix: a token for each.
struct Tokens {
    platform: String,
    county_a: String,
    county_b: String,
    a1: String,
    b1: String,
}

async fn accounts(catalog: &Catalog) -> Tokens {
    let county_a = Scope::county(COUNTY_A).expect("code");
    let a1 = Scope::community(A1).expect("code");
    catalog.add_user("county-a-clerk", "甲县办事员", "password-a-1", &county_a).await.expect("user");
    catalog.add_user("a1-clerk", "东岭办事员", "password-a1-1", &a1).await.expect("user");
    let token = |label: &'static str, scope: Scope| async move {
        catalog.create_token(label, None, &scope).await.expect("token").1
    };
    Tokens {
        platform: token("platform", Scope::Platform).await,
        county_a: catalog.create_token("county-a", Some("county-a-clerk"), &county_a).await.expect("token").1,
        county_b: token("county-b", Scope::county(COUNTY_B).expect("code")).await,
        a1: catalog.create_token("a1", Some("a1-clerk"), &a1).await.expect("token").1,
        b1: token("b1", Scope::community(B1).expect("code")).await,
    }
}

/// Every community code in a JSON value (rows of reports, SQL cells).
fn communities_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| communities_in(x, out)),
        Value::Object(o) => o.values().for_each(|x| communities_in(x, out)),
        _ => {}
    }
}

fn assert_only(answer: &Answer, allowed: &dyn Fn(&str) -> bool, what: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{what}: {}", answer.text());
    let mut codes = Vec::new();
    let text = answer.text();
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        communities_in(&v, &mut codes);
    } else {
        for word in text.split(|c: char| !c.is_ascii_digit()) {
            if word.len() == 12 {
                codes.push(word.to_string());
            }
        }
    }
    for code in codes {
        assert!(allowed(&code), "{what}: saw community {code} outside the caller's scope");
    }
}

/// The suites write to the shared warehouse: one at a time, so a suite's cache checks see
/// no other suite's writes.
static SUITE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The whole API against one catalog; `tag` makes the rows it writes its own.
async fn api_suite(catalog_url: &str, tag: &str) {
    let state = state(catalog_url).await;
    let app = api::router(state.clone());
    let t = accounts(&state.catalog).await;

    health_and_openapi(&app).await;
    auth_failures(&app, &state, &t).await;
    isolation_matrix(&app, &t).await;
    uploads(&app, &t, tag).await;
    batches_and_audit(&app, &t).await;
    report_cache(&app, &state, &t, tag).await;
    pages_with_session(&app, &state).await;
    crate::schemes::scheme_permissions(&app, [&t.platform, &t.county_a, &t.county_b, &t.a1].map(String::as_str)).await;
    state.catalog.close().await;
}

async fn health_and_openapi(app: &Router) {
    let health = call(app, Method::GET, "/healthz", None, Body::empty(), None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.json()["catalog"], "ok");
    let doc = call(app, Method::GET, "/api/v1/openapi.json", None, Body::empty(), None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 11, "{paths:?}");
    // The report rows document each token column's Chinese label beside it.
    let schemas = &doc["components"]["schemas"];
    for (row, token, label) in [
        ("QuarterlyByCategoryRow", "category", "category_label"),
        ("QuarterlyByChannelRow", "channel", "channel_label"),
        ("QuarterlyRow", "quality_flags", "quality_flags_label"),
        ("CadresRow", "grade", "grade_chinese"),
    ] {
        // A row is an allOf of one object (see api/src/openapi.rs row_schema).
        let properties = &schemas[row]["allOf"][0]["properties"];
        assert!(properties[token].is_object() && properties[label].is_object(), "{row}: {token}, {label}");
    }
    // Every documented operation is routed: without credentials it is refused (401) or
    // answered (public ones), never 404 or 405.
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            let uri = path
                .replace("{table}", "topics")
                .replace("{kind}", "quarterly")
                .replace("{file}", "community_ranking.png")
                .replace("{id}", "1")
                .replace("{community}", "141026100001")
                .replace("{topic}", "T03");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let answer = call(app, method.clone(), &uri, None, Body::empty(), None).await;
            let public = op.get("security").is_some_and(|s| s.as_array().is_some_and(Vec::is_empty));
            let expected = if public { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
            assert_eq!(answer.status, expected, "{method} {uri}: {}", answer.text());
        }
    }
    // And an undocumented path is not.
    let unknown = call(app, Method::GET, "/api/v1/nothing", None, Body::empty(), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "not_found");
}

async fn auth_failures(app: &Router, state: &AppState, t: &Tokens) {
    let none = call(app, Method::GET, "/api/v1/me", None, Body::empty(), None).await;
    assert_eq!((none.status, none.code().as_str()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    assert!(!none.json()["message"].as_str().unwrap_or_default().is_empty());
    let wrong = get(app, "/api/v1/me", "yishi_0000000000000000000000000000000000000000000000000000000000000000").await;
    assert_eq!((wrong.status, wrong.code().as_str()), (StatusCode::UNAUTHORIZED, "invalid_token"));
    let basic = call(app, Method::GET, "/api/v1/reports/quarterly", None, Body::empty(), None).await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    let mut req = Request::builder().uri("/api/v1/me").header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz");
    req = req.header("x-test", "1");
    let response = app.clone().oneshot(req.body(Body::empty()).expect("req")).await.expect("ok");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let me = get(app, "/api/v1/me", &t.a1).await.json();
    assert_eq!(me["role"], "community");
    assert_eq!(me["name"], "a1-clerk");

    // A revoked token stops working at once, with its own code.
    let (_, doomed) = state.catalog.create_token("doomed", None, &Scope::Platform).await.expect("token");
    assert_eq!(get(app, "/api/v1/me", &doomed).await.status, StatusCode::OK);
    assert_eq!(state.catalog.revoke_token(&doomed).await.expect("revoke"), 1);
    let revoked = get(app, "/api/v1/reports/counties?year=2025", &doomed).await;
    assert_eq!((revoked.status, revoked.code().as_str()), (StatusCode::UNAUTHORIZED, "token_revoked"));
    // Revoked by its shown prefix too.
    let (_, second) = state.catalog.create_token("second", None, &Scope::Platform).await.expect("token");
    let prefix = api::accounts::display_prefix(&second);
    assert_eq!(state.catalog.revoke_token(&prefix).await.expect("revoke"), 1);
    assert_eq!(get(app, "/api/v1/me", &second).await.code(), "token_revoked");
    // Disabling a user revokes the tokens bound to it.
    let scope = Scope::county(COUNTY_B).expect("code");
    state.catalog.add_user("leaver", "离职", "password-leaver", &scope).await.expect("user");
    let (_, bound) = state.catalog.create_token("leaver", Some("leaver"), &scope).await.expect("token");
    assert_eq!(get(app, "/api/v1/me", &bound).await.status, StatusCode::OK);
    assert!(state.catalog.disable_user("leaver").await.expect("disable"));
    assert_eq!(get(app, "/api/v1/me", &bound).await.code(), "token_revoked");
    // A token cannot be wider than the user it is bound to.
    let wider = state.catalog.create_token("x", Some("a1-clerk"), &Scope::county(COUNTY_A).expect("c")).await;
    assert!(wider.is_err());
    // Lists show a 12-character prefix, never the token.
    let listed = state.catalog.tokens().await.expect("tokens");
    assert!(listed.iter().all(|row| row.prefix.len() == 12 && row.prefix != t.platform && row.label != t.platform));
    assert!(listed.iter().any(|row| t.platform.starts_with(&row.prefix)));
}

/// Every endpoint × every role: reads see only the caller's scope; a filter outside it is
/// 403; writes outside it are rejected; SQL cannot reach other tenants.
async fn isolation_matrix(app: &Router, t: &Tokens) {
    struct Role<'a> {
        name: &'static str,
        token: &'a str,
        allowed: Box<dyn Fn(&str) -> bool>,
        /// A county and a community this role must not read.
        other_county: Option<&'static str>,
        other_community: Option<&'static str>,
    }
    let roles = [
        Role {
            name: "platform",
            token: &t.platform,
            allowed: Box::new(|_| true),
            other_county: None,
            other_community: None,
        },
        Role {
            name: "county A",
            token: &t.county_a,
            allowed: Box::new(|c| c.starts_with(COUNTY_A)),
            other_county: Some(COUNTY_B),
            other_community: Some(B1),
        },
        Role {
            name: "county B",
            token: &t.county_b,
            allowed: Box::new(|c| c.starts_with(COUNTY_B)),
            other_county: Some(COUNTY_A),
            other_community: Some(A1),
        },
        Role {
            name: "community A1",
            token: &t.a1,
            allowed: Box::new(|c| c == A1),
            other_county: Some(COUNTY_B),
            other_community: Some(A2),
        },
        Role {
            name: "community B1",
            token: &t.b1,
            allowed: Box::new(|c| c == B1),
            other_county: Some(COUNTY_A),
            other_community: Some(A1),
        },
    ];
    for role in &roles {
        let who = role.name;
        // Reports in every format.
        for kind in ["quarterly", "cadres", "communities", "counties"] {
            for format in ["json", "csv"] {
                let uri = format!("/api/v1/reports/{kind}?year=2025&format={format}");
                let answer = get(app, &uri, role.token).await;
                assert_only(&answer, &*role.allowed, &format!("{who} {uri}"));
            }
            let xlsx = get(app, &format!("/api/v1/reports/{kind}?year=2025&format=xlsx"), role.token).await;
            assert_eq!(xlsx.status, StatusCode::OK, "{who} {kind} xlsx");
            assert_eq!(&xlsx.body[..2], b"PK", "{who} {kind} xlsx is a zip");
        }
        let rows = get(app, "/api/v1/reports/quarterly?year=2025&quarter=1", role.token).await.json();
        let rows = rows.as_array().expect("rows");
        assert!(!rows.is_empty(), "{who} sees its own rows");
        let by = get(app, "/api/v1/reports/quarterly?year=2025&by=category", role.token).await;
        assert_only(&by, &*role.allowed, &format!("{who} quarterly by category"));

        // Charts.
        for chart in [
            "community_ranking.png",
            "satisfaction_trend.svg",
            "satisfaction_heatmap.png",
            "cadre_scores.svg",
            "topics_by_category.png",
            "rates_by_community.svg",
        ] {
            let answer = get(app, &format!("/api/v1/charts/{chart}?year=2025"), role.token).await;
            assert_eq!(answer.status, StatusCode::OK, "{who} {chart}: {}", answer.text());
            let ctype = answer.headers[header::CONTENT_TYPE].to_str().unwrap_or_default().to_string();
            assert!(ctype.starts_with("image/"), "{who} {chart}: {ctype}");
            if chart.ends_with(".svg") {
                assert_only(&answer, &*role.allowed, &format!("{who} {chart}"));
            }
        }

        // Ad-hoc SQL: every table, joins, subqueries, and a filter naming another tenant.
        for table in ["communities", "cadres", "sessions", "topics", "evaluations", "rectifications"] {
            let q = json!({ "sql": format!("SELECT DISTINCT community_code FROM {table}") });
            assert_only(&sql(app, role.token, q).await, &*role.allowed, &format!("{who} sql {table}"));
        }
        let join = json!({ "sql": "SELECT t.community_code, e.community_code FROM topics t JOIN evaluations e ON e.topic_id = t.topic_id" });
        assert_only(&sql(app, role.token, join).await, &*role.allowed, &format!("{who} sql join"));
        if let Some(other) = role.other_community {
            let q = json!({ "sql": format!("SELECT count(*) AS n FROM topics WHERE community_code = '{other}'") });
            let answer = sql(app, role.token, q).await.json();
            assert_eq!(answer["rows"][0][0], json!(0), "{who} counted another tenant's topics");
        }
        for refused in [
            "DROP TABLE topics",
            "INSERT INTO topics SELECT * FROM topics",
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
            "COPY topics TO '/tmp/leak.csv'",
            "SELECT 1; SELECT 2",
        ] {
            let answer = sql(app, role.token, json!({ "sql": refused })).await;
            assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{who} {refused}: {}", answer.text());
            assert_eq!(answer.code(), "sql_refused", "{who} {refused}");
        }
        let file = sql(app, role.token, json!({ "sql": "SELECT * FROM '/etc/passwd'" })).await;
        assert_eq!(file.status, StatusCode::BAD_REQUEST, "{who}: a file path is no table");

        // Filters outside the scope: 403, never a silently empty answer.
        if let Some(other) = role.other_county {
            for uri in [
                format!("/api/v1/reports/quarterly?year=2025&county={other}"),
                format!("/api/v1/reports/cadres?year=2025&county={other}&format=csv"),
                format!("/api/v1/reports/communities?year=2025&county={other}&format=xlsx"),
                format!("/api/v1/charts/community_ranking.png?year=2025&county={other}"),
            ] {
                let answer = get(app, &uri, role.token).await;
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{who} {uri}");
                assert_eq!(answer.code(), "forbidden_scope", "{who} {uri}");
            }
            let q = json!({ "sql": "SELECT * FROM topics", "county": other });
            assert_eq!(sql(app, role.token, q).await.status, StatusCode::FORBIDDEN, "{who} sql county filter");
        }
        if let Some(other) = role.other_community {
            for uri in [
                format!("/api/v1/reports/quarterly?year=2025&community={other}"),
                format!("/api/v1/charts/satisfaction_trend.svg?year=2025&community={other}"),
            ] {
                let answer = get(app, &uri, role.token).await;
                assert_eq!(answer.status, StatusCode::FORBIDDEN, "{who} {uri}");
            }
            let q = json!({ "sql": "SELECT * FROM topics", "community": other });
            assert_eq!(sql(app, role.token, q).await.status, StatusCode::FORBIDDEN, "{who} sql community filter");
        }

        // Writes: a row of another tenant is rejected with a row error; nothing is written.
        if let Some(other) = role.other_community {
            let before = sql(
                app,
                &t.platform,
                json!({ "sql": format!("SELECT count(*) FROM cadres WHERE community_code = '{other}'") }),
            )
            .await
            .json();
            let csv =
                format!("community_code,cadre_id,cadre_name,role,party_member\n{other},INTRUDER,外人,member,false\n");
            let answer = upload(app, role.token, "cadres", "", "cadres.csv", csv.as_bytes()).await;
            assert_eq!(
                answer.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{who} wrote another tenant: {}",
                answer.text()
            );
            let v = answer.json();
            assert_eq!(v["outcome"], "refused");
            assert_eq!(v["errors"][0]["row"], 2);
            let partial = upload(app, role.token, "cadres", "?partial=true", "cadres.csv", csv.as_bytes()).await;
            assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY, "{who} partial: {}", partial.text());
            let after = sql(
                app,
                &t.platform,
                json!({ "sql": format!("SELECT count(*) FROM cadres WHERE community_code = '{other}'") }),
            )
            .await
            .json();
            assert_eq!(before["rows"], after["rows"], "{who} changed another tenant's cadres");
        }
    }
    // Charts and exports name no other tenant: a community account's images and files
    // carry neither another community's name nor another community's cadres.
    let foreign_to_a1 = ["西岭社区", "南岭社区", "北岭社区", "李四", "李五", "李六", "王七", "王八"];
    let mut uris: Vec<String> =
        ChartName::ALL.iter().map(|c| format!("/api/v1/charts/{}.svg?year=2025", c.name())).collect();
    for kind in ["quarterly", "cadres", "communities", "counties"] {
        uris.push(format!("/api/v1/reports/{kind}?year=2025&format=csv"));
    }
    for uri in &uris {
        let answer = get(app, uri, &t.a1).await;
        assert_eq!(answer.status, StatusCode::OK, "a1 {uri}: {}", answer.text());
        let text = answer.text();
        for name in foreign_to_a1 {
            assert!(!text.contains(name), "a1 {uri} shows {name} of another community");
        }
    }
    // (The images do carry names as text: the caller's own.)
    assert!(get(app, "/api/v1/charts/cadre_scores.svg?year=2025", &t.a1).await.text().contains("张一"));
    let county_b_names = ["东岭社区", "西岭社区", "张一", "李四"];
    for c in ChartName::ALL {
        let text = get(app, &format!("/api/v1/charts/{}.svg?year=2025", c.name()), &t.county_b).await.text();
        for name in county_b_names {
            assert!(!text.contains(name), "county B's {} chart shows {name} of county A", c.name());
        }
    }
    // A community account may not write the communities reference table.
    let csv = format!("community_code,community_name,county_code,county_name\n{A1},东岭社区,{COUNTY_A},甲县\n");
    let answer = upload(app, &t.a1, "communities", "", "communities.csv", csv.as_bytes()).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (StatusCode::FORBIDDEN, "forbidden_table"),
        "{}",
        answer.text()
    );
    // A community account naming its own county is still held to its community.
    let rows = get(app, &format!("/api/v1/reports/quarterly?year=2025&county={COUNTY_A}"), &t.a1).await;
    assert_only(&rows, &|c| c == A1, "a1 with its county as filter");
    // A county narrows to one of its communities.
    let rows = get(app, &format!("/api/v1/reports/quarterly?year=2025&community={A2}"), &t.county_a).await;
    assert_only(&rows, &|c| c == A2, "county A narrowed to A2");
}

async fn uploads(app: &Router, t: &Tokens, tag: &str) {
    // A valid row of A1's own: committed (raw body, file name in the query).
    let good = format!("community_code,cadre_id,cadre_name,role,party_member\n{A1},KNEW{tag},新干部,member,是\n");
    let raw = call(
        app,
        Method::POST,
        "/api/v1/ingest/cadres?filename=new.csv",
        Some(&t.a1),
        Body::from(good.clone()),
        Some("text/csv"),
    )
    .await;
    assert_eq!(raw.status, StatusCode::OK, "{}", raw.text());
    assert_eq!(raw.json()["outcome"], "committed");
    // The same file again changes nothing.
    let again = upload(app, &t.a1, "cadres", "", "new.csv", good.as_bytes()).await;
    assert_eq!(again.json()["outcome"], "unchanged");

    // Strict mode with a bad row: nothing written, every error listed, rejects downloadable.
    let mixed = format!(
        "community_code,cadre_id,cadre_name,role,party_member\n{A1},KOK{tag},好,member,是\n{A1},KBAD{tag},坏,chairman,是\n"
    );
    let strict = upload(app, &t.a1, "cadres", "", "mixed.csv", mixed.as_bytes()).await;
    assert_eq!(strict.status, StatusCode::UNPROCESSABLE_ENTITY);
    let v = strict.json();
    assert_eq!(v["code"], "rows_rejected");
    assert!(v["message"].as_str().unwrap_or_default().contains("不合格"));
    assert_eq!(v["errors"][0]["row"], 3);
    assert_eq!(v["errors"][0]["column"], "role");
    let rejects_url = v["rejects_csv_url"].as_str().expect("rejects url").to_string();
    let rejects = get(app, &rejects_url, &t.a1).await;
    assert_eq!(rejects.status, StatusCode::OK);
    assert!(rejects.text().contains(&format!("KBAD{tag}")) && !rejects.text().contains(&format!("KOK{tag}")));
    assert!(rejects.headers[header::CONTENT_DISPOSITION].to_str().unwrap_or_default().contains("attachment"));
    // Partial: the good row is written, the bad one comes back.
    let partial = upload(app, &t.a1, "cadres", "?partial=true", "mixed.csv", mixed.as_bytes()).await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.text());
    assert_eq!(partial.json()["rows_accepted"], 1);
    assert_eq!(partial.json()["rows_rejected"], 1);

    // A title row above the header: found, the bad row numbered as the sheet shows it, a
    // near-miss value with a suggestion. `header_row` (form field or query) overrides.
    let titled = format!("干部名册（2025年）\n\n社区代码,干部编号,姓名,职务,是否党员\n{A1},KH{tag},甲,支部书记,是\n");
    let found = upload(app, &t.a1, "cadres", "", "titled.csv", titled.as_bytes()).await;
    assert_eq!(found.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", found.text());
    let v = found.json();
    assert_eq!((v["errors"][0]["row"].as_u64(), v["errors"][0]["column"].as_str()), (Some(4), Some("role")));
    assert!(v["errors"][0]["message"].as_str().unwrap_or_default().ends_with("；是否为：书记？"), "{v}");
    let boundary = "yishiTestBoundary7MA4YWxkTrZu0gW";
    let form = |row: &str| multipart(boundary, "titled.csv", titled.as_bytes(), &[("header_row", row)]);
    let multipart_type = format!("multipart/form-data; boundary={boundary}");
    let given =
        call(app, Method::POST, "/api/v1/ingest/cadres", Some(&t.a1), Body::from(form("1")), Some(&multipart_type))
            .await;
    assert_eq!((given.status, given.code().as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "missing_column"));
    assert!(given.json()["message"].as_str().unwrap_or_default().contains("（第 1 行）"), "{}", given.text());
    let bad = call(
        app,
        Method::POST,
        "/api/v1/ingest/cadres",
        Some(&t.a1),
        Body::from(form("第三行")),
        Some(&multipart_type),
    )
    .await;
    assert_eq!((bad.status, bad.code().as_str()), (StatusCode::BAD_REQUEST, "bad_header_row"));
    let query = upload(app, &t.a1, "cadres", "?header_row=3", "titled.csv", titled.as_bytes()).await;
    assert_eq!(query.json()["errors"][0]["row"], 4, "{}", query.text());
    assert_eq!(query.json()["header_row"], 3, "{}", query.text());
    // A 合计 row below the data is skipped and listed.
    let totals = format!("{titled}合计,,共 1 人,,\n");
    let totals = upload(app, &t.a1, "cadres", "", "totals.csv", totals.as_bytes()).await;
    assert_eq!(totals.json()["skipped"], json!([{"row": 5, "text": "合计"}]), "{}", totals.text());
    assert_eq!(totals.json()["errors"].as_array().map(Vec::len), Some(1), "{}", totals.text());
    let zero = upload(app, &t.a1, "cadres", "?header_row=0", "titled.csv", titled.as_bytes()).await;
    assert_eq!((zero.status, zero.code().as_str()), (StatusCode::BAD_REQUEST, "bad_query"));

    // Oversized: 413 with the JSON error, as raw body and as multipart.
    let big = vec![b'x'; 100 << 10];
    let raw =
        call(app, Method::POST, "/api/v1/ingest/topics", Some(&t.a1), Body::from(big.clone()), Some("text/csv")).await;
    assert_eq!((raw.status, raw.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let form = upload(app, &t.a1, "topics", "", "big.csv", &big).await;
    assert_eq!((form.status, form.code().as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    // Without a Content-Length (a stream), the limit still holds.
    let stream = futures::stream::iter((0..100).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 1024])));
    let streamed =
        call(app, Method::POST, "/api/v1/ingest/topics", Some(&t.a1), Body::from_stream(stream), Some("text/csv"))
            .await;
    assert_eq!(streamed.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Malformed multipart: no boundary, a broken body, no file field.
    let no_boundary = call(
        app,
        Method::POST,
        "/api/v1/ingest/topics",
        Some(&t.a1),
        Body::from("whatever"),
        Some("multipart/form-data"),
    )
    .await;
    assert_eq!((no_boundary.status, no_boundary.code().as_str()), (StatusCode::BAD_REQUEST, "invalid_multipart"));
    let broken = call(
        app,
        Method::POST,
        "/api/v1/ingest/topics",
        Some(&t.a1),
        Body::from("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\nunterminated"),
        Some("multipart/form-data; boundary=b"),
    )
    .await;
    assert_eq!(
        (broken.status, broken.code().as_str()),
        (StatusCode::BAD_REQUEST, "invalid_multipart"),
        "{}",
        broken.text()
    );
    let boundary = "fieldsOnly";
    let fields =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"partial\"\r\n\r\ntrue\r\n--{boundary}--\r\n");
    let no_file = call(
        app,
        Method::POST,
        "/api/v1/ingest/topics",
        Some(&t.a1),
        Body::from(fields),
        Some(&format!("multipart/form-data; boundary={boundary}")),
    )
    .await;
    assert_eq!((no_file.status, no_file.code().as_str()), (StatusCode::BAD_REQUEST, "missing_file"));
    let empty = call(app, Method::POST, "/api/v1/ingest/topics", Some(&t.a1), Body::empty(), Some("text/csv")).await;
    assert_eq!(empty.code(), "empty_file");
    let garbage = upload(app, &t.a1, "topics", "", "x.csv", b"\x00\x01\x02binary\xff\xfe").await;
    assert!(garbage.status.is_client_error(), "{}", garbage.text());
    assert!(!garbage.code().is_empty());
    let unknown = upload(app, &t.a1, "nope", "", "x.csv", b"a,b\n").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // A bad SQL body is a JSON error too.
    let bad_json =
        call(app, Method::POST, "/api/v1/sql", Some(&t.a1), Body::from("{not json"), Some("application/json")).await;
    assert_eq!((bad_json.status, bad_json.code().as_str()), (StatusCode::BAD_REQUEST, "bad_json"));
}

async fn batches_and_audit(app: &Router, t: &Tokens) {
    let mine = get(app, "/api/v1/batches", &t.a1).await.json();
    let mine = mine["batches"].as_array().expect("batches").clone();
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|b| b["community_code"] == A1), "{mine:?}");
    let theirs = get(app, "/api/v1/batches", &t.b1).await.json();
    assert!(theirs["batches"].as_array().expect("batches").iter().all(|b| b["community_code"] == B1));
    let county_b = get(app, "/api/v1/batches", &t.county_b).await.json();
    assert!(county_b["batches"].as_array().expect("b").iter().all(|b| b["county_code"] == COUNTY_B));
    let all = get(app, "/api/v1/batches", &t.platform).await.json();
    assert!(all["batches"].as_array().expect("b").len() > mine.len());
    // Another tenant's batch and its rejects are not found (not even as forbidden).
    let id = mine[0]["id"].as_i64().expect("id");
    assert_eq!(get(app, &format!("/api/v1/batches/{id}"), &t.a1).await.status, StatusCode::OK);
    assert_eq!(get(app, &format!("/api/v1/batches/{id}"), &t.b1).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(app, &format!("/api/v1/batches/{id}"), &t.county_b).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(app, &format!("/api/v1/batches/{id}"), &t.county_a).await.status, StatusCode::OK);
    let with_rejects = mine.iter().find(|b| b["rows_rejected"].as_i64() > Some(0)).expect("a batch with rejects");
    let rid = with_rejects["id"].as_i64().expect("id");
    assert_eq!(get(app, &format!("/api/v1/batches/{rid}/rejects.csv"), &t.b1).await.status, StatusCode::NOT_FOUND);

    // The audit log: who exported what; each sees its own scope's lines.
    let audit = get(app, "/api/v1/audit?limit=1000", &t.platform).await.json();
    let entries = audit["entries"].as_array().expect("entries");
    assert!(entries.iter().any(|e| e["action"] == "export" && e["actor"] == "a1-clerk"));
    assert!(entries.iter().any(|e| e["action"] == "ingest"));
    assert!(entries.iter().any(|e| e["action"] == "sql"));
    let own = get(app, "/api/v1/audit?limit=1000", &t.b1).await.json();
    let own = own["entries"].as_array().expect("entries");
    assert!(!own.is_empty());
    assert!(own.iter().all(|e| e["community_code"] == B1), "b1 saw another tenant's audit lines");
    let exports = get(app, "/api/v1/audit?action=export", &t.county_a).await.json();
    assert!(
        exports["entries"]
            .as_array()
            .expect("e")
            .iter()
            .all(|e| e["action"] == "export" && e["county_code"] == COUNTY_A)
    );
}

async fn report_cache(app: &Router, state: &AppState, t: &Tokens, tag: &str) {
    let uri = "/api/v1/reports/communities?year=2024";
    let first = get(app, uri, &t.county_b).await;
    assert_eq!(first.status, StatusCode::OK);
    let (computed, _) = state.cache.stats();
    for _ in 0..3 {
        let again = get(app, uri, &t.county_b).await;
        assert_eq!(again.body, first.body);
    }
    let (computed_after, served) = state.cache.stats();
    assert_eq!(computed_after, computed, "an unchanged report was computed again");
    assert!(served >= 3);
    // New data changes the versions, and so the key: the next view is computed afresh.
    let csv = format!("community_code,cadre_id,cadre_name,role,party_member\n{B1},KB9{tag},乙九,member,否\n");
    assert_eq!(upload(app, &t.b1, "cadres", "", "kb9.csv", csv.as_bytes()).await.status, StatusCode::OK);
    assert_eq!(get(app, uri, &t.county_b).await.status, StatusCode::OK);
    assert_eq!(state.cache.stats().0, computed + 1);
}

async fn pages_with_session(app: &Router, state: &AppState) {
    // Not signed in: the pages send to the login page.
    let anon = call(app, Method::GET, "/overview?year=2025", None, Body::empty(), None).await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert!(anon.headers[header::LOCATION].to_str().unwrap_or_default().starts_with("/login?next="));
    let login = call(app, Method::GET, "/login", None, Body::empty(), None).await;
    assert!(login.text().contains("登录"));
    // A wrong password: 401, no cookie, audited.
    let form = "username=county-a-clerk&password=wrong-password&next=%2Foverview";
    let bad =
        call(app, Method::POST, "/login", None, Body::from(form), Some("application/x-www-form-urlencoded")).await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
    let form = "username=county-a-clerk&password=password-a-1&next=%2Fquarterly%3Fyear%3D2025";
    let ok = call(app, Method::POST, "/login", None, Body::from(form), Some("application/x-www-form-urlencoded")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers[header::LOCATION], "/quarterly?year=2025");
    let set_cookie = ok.headers[header::SET_COOKIE].to_str().expect("cookie").to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().expect("pair").to_string();
    let page = |uri: &str| {
        let cookie = cookie.clone();
        let uri = uri.to_string();
        async move {
            let req = Request::builder().uri(&uri).header(header::COOKIE, cookie).body(Body::empty()).expect("req");
            let response = app.clone().oneshot(req).await.expect("ok");
            let status = response.status();
            let body = response.into_body().collect().await.expect("body").to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    for (uri, marker) in [
        ("/overview?year=2025", "满意率"),
        ("/overview?year=2025", "逾期清单"),
        ("/overview?year=2025&quarter=1", "热点议题"),
        ("/quarterly?year=2025&quarter=1", "数据质量提示"),
        ("/cadres?year=2025", "考核依据"),
        ("/counties?year=2025", "红榜"),
        (&format!("/community?year=2025&community={A1}") as &str, "议事会议"),
        (&format!("/community?year=2025&community={A1}") as &str, "逾期清单"),
        ("/upload", "只导入合格的行"),
    ] {
        let (status, html) = page(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {html}");
        assert!(html.contains(marker), "{uri} lacks {marker}");
        assert!(html.contains("@media print") && html.contains("size: A4"), "{uri} is printable");
        assert!(!html.contains(B1), "{uri}: county A's page shows county B's community");
    }
    let (status, _) = page(&format!("/overview?county={COUNTY_B}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The pages' CJK font: named in their CSS, served here (no sign-in: the login page
    // needs it too), cached and revalidated by its ETag.
    let (_, html) = page("/overview?year=2025").await;
    assert!(html.contains("@font-face") && html.contains(dashboards::fonts::CJK_FONT_PATH));
    let font = call(app, Method::GET, dashboards::fonts::CJK_FONT_PATH, None, Body::empty(), None).await;
    assert_eq!(font.status, StatusCode::OK);
    assert_eq!(font.headers[header::CONTENT_TYPE], "font/otf");
    assert!(font.headers[header::CACHE_CONTROL].to_str().unwrap_or_default().contains("max-age=604800"));
    assert_eq!(font.body.as_slice(), dashboards::fonts::CJK_FONT);
    let etag = font.headers[header::ETAG].to_str().expect("etag").to_string();
    let req = Request::builder()
        .uri(dashboards::fonts::CJK_FONT_PATH)
        .header(header::IF_NONE_MATCH, &etag)
        .body(Body::empty())
        .expect("req");
    let again = app.clone().oneshot(req).await.expect("ok");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let docs = call(app, Method::GET, "/api/v1/docs", None, Body::empty(), None).await;
    let docs = docs.text();
    assert!(docs.contains("@font-face") && docs.contains("报表与图表") && docs.contains("整数"));
    for token in [">integer", ">string", ">boolean", ">array", "、true"] {
        assert!(!docs.contains(token), "the API page shows {token}");
    }
    // The session cookie works for the charts and downloads the pages link to.
    let (status, _) = page("/api/v1/charts/satisfaction_trend.png?year=2025").await;
    assert_eq!(status, StatusCode::OK);
    // Every chart's text is in Chinese: no enumeration, flag or grade token.
    let tokens = crate::pages_text::tokens();
    for c in ChartName::ALL {
        let (status, svg) = page(&format!("/api/v1/charts/{}.svg?year=2025&quarter=1", c.name())).await;
        assert_eq!(status, StatusCode::OK, "{}: {svg}", c.name());
        let doc = roxmltree::Document::parse(&svg).expect("svg");
        let text: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        let leaked = crate::pages_text::tokens_in(&text.join(" "), &tokens);
        assert!(leaked.is_empty(), "{} shows {leaked:?}", c.name());
    }
    // The first year with data: the trend's previous year has none, and that is no error.
    for c in ChartName::ALL {
        let (status, body) = page(&format!("/api/v1/charts/{}.svg?year=2024", c.name())).await;
        assert_eq!(status, StatusCode::OK, "{} in 2024: {body}", c.name());
    }
    // Cross-site posts with the cookie are refused.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/sql")
        .header(header::COOKIE, cookie.clone())
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"sql":"SELECT 1"}"#))
        .expect("req");
    assert_eq!(app.clone().oneshot(req).await.expect("ok").status(), StatusCode::FORBIDDEN);
    // Logging out ends the session.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/logout")
        .header(header::COOKIE, cookie.clone())
        .body(Body::empty());
    let out = app.clone().oneshot(req.expect("req")).await.expect("ok");
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let (status, _) = page("/overview").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let audit = state.catalog.audit_log(&Scope::Platform, Some("login_failed"), 10).await.expect("audit");
    assert!(!audit.is_empty());
}

#[test]
fn api_with_sqlite_catalog() {
    warehouse_dir();
    let _one_at_a_time = SUITE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
    runtime().block_on(api_suite(&url, "sq"));
    // The catalog is a file that survives a restart: migrations are not run twice.
    runtime().block_on(async {
        let catalog = Catalog::open(&url).await.expect("reopen");
        assert!(catalog.user("a1-clerk").await.expect("user").is_some());
        catalog.close().await;
    });
}

/// The PostgreSQL server `.ci/run` starts (YISHI_TEST_POSTGRES); a fresh database per run.
#[test]
fn api_with_postgres_catalog() {
    warehouse_dir();
    let _one_at_a_time = SUITE.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(admin) = std::env::var("YISHI_TEST_POSTGRES") else {
        skipped("SKIPPED api_with_postgres_catalog: YISHI_TEST_POSTGRES is not set (no PostgreSQL to test against)");
        return;
    };
    let required = std::env::var("YISHI_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    runtime().block_on(async {
        use sqlx::Connection;
        let connect = tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(&admin)).await;
        let mut conn = match connect {
            Ok(Ok(c)) => c,
            other => {
                let why = match other {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".into(),
                };
                assert!(!required, "PostgreSQL at YISHI_TEST_POSTGRES cannot be reached: {why}");
                skipped(&format!("SKIPPED api_with_postgres_catalog: PostgreSQL cannot be reached: {why}"));
                return;
            }
        };
        let name = format!("yishi_test_{}_{}", std::process::id(), chrono_free_nanos());
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create db");
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("YISHI_TEST_POSTGRES should end with /database"),
        };
        api_suite(&url, "pg").await;
        // Reopening runs no migration twice.
        let again = Catalog::open(&url).await.expect("reopen");
        assert!(again.user("a1-clerk").await.expect("user").is_some());
        again.close().await;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await
            .expect("drop db");
    });
}

/// Says why a test did not run, past the test harness's output capture (which only takes
/// the print macros), so the message shows in a passing run too.
pub(crate) fn skipped(message: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "\n{message}");
}

pub(crate) fn chrono_free_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

// ---- the browser ----------------------------------------------------------------------------

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Kills chromedriver (and so its Chromium) when the test ends, however it ends.
struct Driver(std::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What runs in the browser: the WebDriver client and the server's base URL.
/// Serves `state` on a free port, starts chromedriver with headless Chromium (its profile
/// in `profile`) and runs `check(client, base_url)` against the server; `None` (the test
/// is skipped) when chromedriver is not installed.
pub(crate) async fn with_browser<F, Fut>(state: AppState, profile: &Path, check: F) -> Option<Result<(), String>>
where
    F: FnOnce(fantoccini::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let driver_bin = find_program(&["chromedriver"])?;
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let port = free_port();
    let child = std::process::Command::new(&driver_bin)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let _driver = Driver(child);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut options = json!({
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1400,1000",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if let Some(bin) = &chromium {
        options["binary"] = json!(bin.display().to_string());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session");
    let result = check(client.clone(), format!("http://{addr}")).await;
    let _ = client.close().await;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    Some(result)
}

/// In headless Chromium: log in, open the overview and quarterly pages, every chart image
/// loads (naturalWidth > 0), and a download button returns a file.
#[test]
fn browser_login_charts_and_download() {
    let users = [("browser", "browser-pass-1", Scope::Platform)];
    let checked = in_browser(&users, |client, base| async move { browse(&client, &base).await });
    match checked {
        Some(result) => result.expect("browser checks"),
        None => skipped(
            "SKIPPED browser_login_charts_and_download: chromedriver is not installed (apt-get install chromium chromium-driver)",
        ),
    }
}

/// Runs `check(client, base_url)` in headless Chromium (through chromedriver, WebDriver)
/// against the server over the shared warehouse, with a fresh SQLite catalog holding
/// `users` (user name, password, scope), then stops browser and server. `None` when
/// chromedriver is not installed (the caller says it skipped).
pub(crate) fn in_browser<F, Fut>(users: &[(&str, &str, Scope)], check: F) -> Option<Result<(), String>>
where
    F: FnOnce(fantoccini::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    // No chromedriver: the caller says it skipped (checked before any setup).
    find_program(&["chromedriver"])?;
    in_browser_over(warehouse_dir().to_str().expect("utf-8"), 4, users, check)
}

/// [`in_browser`] over the warehouse at `root` (holding at least `places` counties and
/// communities) instead of the shared one.
pub(crate) fn in_browser_over<F, Fut>(
    root: &str,
    places: usize,
    users: &[(&str, &str, Scope)],
    check: F,
) -> Option<Result<(), String>>
where
    F: FnOnce(fantoccini::Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    find_program(&["chromedriver"])?;
    let dir = tempfile::tempdir().expect("tempdir");
    let profile = dir.path().join("profile");
    let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
    Some(runtime().block_on(async {
        let state = state_over(root, &url, places).await;
        for (name, password, scope) in users {
            state.catalog.add_user(name, "浏览器测试", password, scope).await.expect("user");
        }
        with_browser(state, &profile, check).await.unwrap_or_else(|| Err("chromedriver went away".into()))
    }))
}

/// Opens `path`, is sent to the login page, signs in as `username` and lands on `path`.
pub(crate) async fn log_in(
    client: &fantoccini::Client,
    base: &str,
    (username, password): (&str, &str),
    path: &str,
) -> Result<(), String> {
    use fantoccini::Locator;
    let e = |what: &str| {
        let what = what.to_string();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    client.goto(&format!("{base}{path}")).await.map_err(e("open page"))?;
    let url = client.current_url().await.map_err(e("url"))?;
    if !url.path().starts_with("/login") {
        return Err(format!("not sent to login: {url}"));
    }
    client.find(Locator::Id("username")).await.map_err(e("username"))?.send_keys(username).await.map_err(e("type"))?;
    client.find(Locator::Id("password")).await.map_err(e("password"))?.send_keys(password).await.map_err(e("type"))?;
    client.find(Locator::Id("login")).await.map_err(e("button"))?.click().await.map_err(e("click"))?;
    let landed = url::Url::parse(&format!("{base}{path}")).map_err(|x| x.to_string())?;
    client.wait().for_url(&landed).await.map_err(e("after login"))?;
    Ok(())
}

async fn browse(client: &fantoccini::Client, base: &str) -> Result<(), String> {
    use fantoccini::Locator;
    let e = |what: &str| {
        let what = what.to_string();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    log_in(client, base, ("browser", "browser-pass-1"), "/overview?year=2025").await?;
    let headline =
        client.find(Locator::Id("headline")).await.map_err(e("headline"))?.text().await.map_err(e("text"))?;
    if !headline.contains("满意率") {
        return Err(format!("headline: {headline}"));
    }
    check_images(client, "overview").await?;
    client.goto(&format!("{base}/quarterly?year=2025&quarter=1")).await.map_err(e("open quarterly"))?;
    check_images(client, "quarterly").await?;
    for (path, name) in [
        ("/cadres?year=2025", "cadres"),
        ("/counties?year=2025", "counties"),
        (&format!("/community?year=2025&community={A1}") as &str, "community"),
    ] {
        client.goto(&format!("{base}{path}")).await.map_err(e(path))?;
        check_images(client, name).await?;
    }
    // The upload page lists a bad row where a clerk can act on it.
    let file = std::env::temp_dir().join(format!("yishi-browser-{}.csv", std::process::id()));
    let bad = format!("community_code,cadre_id,cadre_name,role,party_member\n{A1},KWEB,网页,chairman,是\n");
    std::fs::write(&file, bad).map_err(|x| x.to_string())?;
    client.goto(&format!("{base}/upload")).await.map_err(e("open upload"))?;
    let select = client.find(Locator::Css("select[name=table]")).await.map_err(e("table select"))?;
    select.select_by_value("cadres").await.map_err(e("choose cadres"))?;
    let input = client.find(Locator::Css("input[type=file]")).await.map_err(e("file input"))?;
    input.send_keys(&file.display().to_string()).await.map_err(e("choose file"))?;
    client
        .find(Locator::Css("#upload-form button"))
        .await
        .map_err(e("upload button"))?
        .click()
        .await
        .map_err(e("upload"))?;
    let table = client.wait().for_element(Locator::Id("row-errors")).await.map_err(e("row errors"))?;
    let text = table.text().await.map_err(e("row errors text"))?;
    let _ = std::fs::remove_file(&file);
    if !text.contains("chairman") || !text.contains("role") {
        return Err(format!("row errors table: {text}"));
    }
    if let Ok(dir) = std::env::var("YISHI_SCREENSHOTS")
        && let Ok(png) = client.screenshot().await
    {
        let _ = std::fs::write(Path::new(&dir).join("upload.png"), png);
    }
    client.goto(&format!("{base}/quarterly?year=2025&quarter=1")).await.map_err(e("open quarterly"))?;
    // A download button returns a file: fetch its link with the page's session.
    for selector in
        ["#chart-satisfaction_trend a[href*='format=download']", "#chart-satisfaction_trend a[href*='format=xlsx']"]
    {
        let link = client.find(Locator::Css(selector)).await.map_err(e(selector))?;
        let href = link.attr("href").await.map_err(e("href"))?.ok_or("no href")?;
        let got = client
            .execute(
                "return fetch(arguments[0]).then(async r => [r.status, r.headers.get('content-disposition') || '', (await r.arrayBuffer()).byteLength]);",
                vec![json!(href)],
            )
            .await
            .map_err(e("fetch download"))?;
        let (status, disposition, size) = (got[0].as_i64(), got[1].as_str().unwrap_or_default(), got[2].as_i64());
        if status != Some(200) || !disposition.contains("attachment") || size.unwrap_or(0) < 100 {
            return Err(format!("download {href}: {got}"));
        }
    }
    Ok(())
}

/// Waits until every image of the page has loaded and checks each has a width; with
/// YISHI_SCREENSHOTS=folder, saves a screenshot of the page there (to look at).
async fn check_images(client: &fantoccini::Client, page: &str) -> Result<(), String> {
    let checked = wait_for_images(client, page).await;
    if let Ok(dir) = std::env::var("YISHI_SCREENSHOTS")
        && let Ok(png) = client.screenshot().await
    {
        let _ = std::fs::write(Path::new(&dir).join(format!("{page}.png")), png);
    }
    checked
}

async fn wait_for_images(client: &fantoccini::Client, page: &str) -> Result<(), String> {
    let script = "return Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);";
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let images = client.execute(script, vec![]).await.map_err(|x| format!("{page}: {x}"))?;
        let images = images.as_array().cloned().unwrap_or_default();
        if images.is_empty() {
            return Err(format!("{page}: no chart images"));
        }
        if images.iter().all(|i| i[1] == json!(true)) {
            let broken: Vec<&Value> = images.iter().filter(|i| i[2].as_i64().unwrap_or(0) == 0).collect();
            if !broken.is_empty() {
                return Err(format!("{page}: charts did not render: {broken:?}"));
            }
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!("{page}: images still loading: {images:?}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// ---- the command line ------------------------------------------------------------------------

/// `yishi user add`, `yishi token create` (the token alone on the last line, usable at
/// once), `yishi token revoke`, against the default SQLite catalog of a warehouse folder.
#[test]
fn cli_users_and_tokens() {
    warehouse_dir();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_str().expect("utf-8");
    let run = |args: &[&str], password: Option<&str>| {
        let mut cmd = std::process::Command::new(crate::support::yishi_bin());
        cmd.args(args).env_remove("YISHI_CATALOG").env_remove("YISHI_COUNTY").env_remove("YISHI_COMMUNITY");
        match password {
            Some(p) => cmd.env("YISHI_PASSWORD", p),
            None => cmd.env_remove("YISHI_PASSWORD"),
        };
        cmd.output().expect("run yishi")
    };
    let added = run(&["user", "add", "clerk", "--county", COUNTY_A, "--warehouse", root], Some("password-clerk"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let again = run(&["user", "add", "clerk", "--county", COUNTY_A, "--warehouse", root], Some("password-clerk"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("已存在"));
    let generated = run(&["user", "add", "viewer", "--community", A1, "--warehouse", root], None);
    assert!(String::from_utf8_lossy(&generated.stdout).contains("初始密码"));
    let no_scope = run(&["token", "create", "--warehouse", root], None);
    assert!(!no_scope.status.success());
    assert!(String::from_utf8_lossy(&no_scope.stderr).contains("--platform"));

    let created = run(&["token", "create", "--community", A1, "--label", "import-job", "--warehouse", root], None);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    let token = stdout.trim_end().lines().last().expect("last line").to_string();
    assert!(token.starts_with("yishi_") && token.len() == 70 && !token.contains(' '), "last line: {token}");

    // The catalog holds only its hash; the token works against a server on that catalog.
    let db = std::fs::read(dir.path().join("yishi.db")).expect("catalog file");
    assert!(!db.windows(token.len()).any(|w| w == token.as_bytes()), "the token is stored in clear");
    let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
    runtime().block_on(async {
        let app = api::router(state(&url).await);
        let me = get(&app, "/api/v1/me", &token).await.json();
        assert_eq!(me["name"], "import-job");
        assert_eq!(me["scope"]["code"], A1);
    });
    let revoked = run(&["token", "revoke", &token[..12], "--warehouse", root], None);
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    runtime().block_on(async {
        let app = api::router(state(&url).await);
        assert_eq!(get(&app, "/api/v1/me", &token).await.code(), "token_revoked");
    });
    let listed = run(&["token", "list", "--warehouse", root], None);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("已吊销"));
    assert!(!String::from_utf8_lossy(&listed.stdout).contains(&token));
}
