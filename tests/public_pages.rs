//! The public 晒 page (`/public/<社区代码>`): off until an account of the community's
//! county turns it on on `/publicity`; then, without a login, the period's closed topics
//! of that community only, by role (names only when allowed), never a respondent or a
//! comment, with a policy that allows no script, no cookie set, and a throttle.
//!
//! Hand-worked from `tests/fixtures/analyses`: 东岭社区 (141026100001) closed five topics
//! in 2025 Q1 — T03 道路破损 (01-20, deadline 01-31), T04 低保政策咨询 (已解释 01-12), T05
//! 楼道堆物 (02-15), T06 化粪池外溢 (02-27, deadline 02-28), T07 井盖缺失 (03-20, deadline
//! 03-10: late) — all raised in Q1, so 办结率 5/5 = 100.0% and 按时办结率 4/5 = 80.0%.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use api::{AppState, Catalog, Config};
use ingest::Scope;

use crate::support::{fixture_warehouse, runtime};

const A1: &str = "141026100001";
const A2: &str = "141026100002";

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, method: Method, uri: &str, cookie: Option<&str>, form: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(secret) = cookie {
        request = request.header(header::COOKIE, format!("{}={secret}", api::auth::SESSION_COOKIE));
    }
    if form.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let body = form.map_or_else(Body::empty, |f| Body::from(f.to_string()));
    let response = app.clone().oneshot(request.body(body).expect("request")).await.expect("infallible");
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.into_body().collect().await.expect("body").to_bytes();
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

#[test]
fn a_public_page_shows_its_community_s_closed_topics_and_nothing_personal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        fixture_warehouse(&root).await;
        let wh = warehouse::Warehouse::open(&root).await.expect("open");
        let state = AppState::new(wh, Catalog::open(&catalog).await.expect("catalog"), Config::default());
        state.sync_places().await.expect("places");
        state
            .catalog
            .add_user("pub-a", "甲县统计员", "pub-pass-a-1", &Scope::County("141026".into()))
            .await
            .expect("u");
        state
            .catalog
            .add_user("pub-b", "乙县统计员", "pub-pass-b-1", &Scope::County("141021".into()))
            .await
            .expect("u");
        let session = |user: &'static str| {
            let catalog = state.catalog.clone();
            async move { catalog.create_session(user, std::time::Duration::from_secs(600)).await.expect("session") }
        };
        let (a, b) = (session("pub-a").await, session("pub-b").await);
        let app = api::router(state.clone());
        let public = |uri: String| {
            let app = app.clone();
            async move { send(&app, Method::GET, &uri, None, None).await }
        };

        // Off: 404, as for a community that does not exist.
        assert_eq!(public(format!("/public/{A1}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(public("/public/999999999999".into()).await.status, StatusCode::NOT_FOUND);

        // 乙县's clerk cannot turn on 甲县's community; 甲县's clerk can.
        let form = format!("community={A1}&action=on");
        let refused = send(&app, Method::POST, "/publicity", Some(&b), Some(&form)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(public(format!("/public/{A1}")).await.status, StatusCode::NOT_FOUND);
        let done = send(&app, Method::POST, "/publicity", Some(&a), Some(&form)).await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert!(done.body.contains("已公开") && done.body.contains(&format!("/public/{A1}")), "{}", done.body);

        let page = public(format!("/public/{A1}?year=2025&quarter=1")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let html = &page.body;
        for title in ["道路破损", "低保政策咨询", "楼道堆物", "化粪池外溢", "井盖缺失"] {
            assert!(html.contains(title), "{title} closed in Q1");
        }
        assert!(html.contains("本期办结的议题（5 件）"), "five closed topics");
        assert!(!html.contains("路灯维修"), "T01 closed in 2024 is not in 2025 Q1");
        assert!(!html.contains("健身器材损坏"), "T08 closed in Q2");
        assert!(!html.contains("电梯故障"), "西岭社区's topic never shows on 东岭社区's page");
        assert!(html.contains("100.0%") && html.contains("80.0%"), "办结率 5/5, 按时办结率 4/5");
        let late = html.split("<tr>").find(|r| r.contains("井盖缺失")).expect("T07 row");
        assert!(late.contains("<td>否</td>") && late.contains("部门联办") && late.contains("委员"), "{late}");
        // Nothing personal: no respondent, no comment, no cadre name by default.
        for personal in ["居民甲", "居民乙", "回访满意", "张一", "张二", "张三", "respondent"] {
            assert!(!html.contains(personal), "{personal} must not appear");
        }
        // Safe on the internet: no script allowed, no cookie set, cacheable.
        let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp");
        assert!(csp.starts_with("default-src 'none'") && !csp.contains("script-src"), "{csp}");
        assert!(!page.headers.contains_key(header::SET_COOKIE));
        assert!(page.headers[header::CACHE_CONTROL].to_str().expect("cc").contains("max-age=300"));
        assert!(!html.contains("<script"));
        // 其他时期: only the quarters with 东岭社区's topics (raised 2024 Q4, 2025 Q1 and Q2),
        // not the empty quarters of those years, nor 西岭社区's.
        let nav = html.split("<nav>").nth(1).and_then(|n| n.split("</nav>").next()).expect("其他时期");
        assert!(nav.contains("2025年第2季度") && nav.contains("2024年第4季度"), "{nav}");
        for empty in ["2025年第3季度", "2025年第4季度", "2024年第1季度", "2024年第3季度", "2025年第1季度"]
        {
            assert!(!nav.contains(empty), "{empty} has no rows (or is the page itself): {nav}");
        }
        // Without a period: the latest quarter with rows (2025 Q2: T08–T11 closed), not Q4.
        let latest = public(format!("/public/{A1}")).await.body;
        assert!(latest.contains("2025年第2季度") && latest.contains("健身器材损坏"), "{latest}");
        assert!(latest.contains("本期办结的议题（4 件）"), "{latest}");

        // Another community of the county stays off.
        assert_eq!(public(format!("/public/{A2}")).await.status, StatusCode::NOT_FOUND);

        // Names where the county allows them; off again.
        let names = format!("community={A1}&action=on&show_names=1");
        assert_eq!(send(&app, Method::POST, "/publicity", Some(&a), Some(&names)).await.status, StatusCode::OK);
        let named = public(format!("/public/{A1}?year=2025&quarter=1")).await.body;
        assert!(named.contains("委员 张三"), "T07's lead cadre by role and name");
        let off = format!("community={A1}&action=off");
        assert_eq!(send(&app, Method::POST, "/publicity", Some(&a), Some(&off)).await.status, StatusCode::OK);
        assert_eq!(public(format!("/public/{A1}")).await.status, StatusCode::NOT_FOUND);
        let audit = state.catalog.audit_log(&Scope::Platform, Some("public_page"), 10).await.expect("audit");
        assert_eq!(audit.len(), 4, "three changes and one refusal audited");

        // The county-wide switch: 甲县's clerk turns on all three of its communities at
        // once; 乙县's 北岭社区 stays off, and 乙县's own switch touches only 乙县.
        let settings = send(&app, Method::GET, "/publicity", Some(&a), None).await;
        assert!(
            settings.body.contains("全县 3 个社区（已公开 0 个）") && settings.body.contains("全部公开"),
            "{}",
            settings.body
        );
        let all_on = send(&app, Method::POST, "/publicity", Some(&a), Some("community=all&action=on")).await;
        assert_eq!(all_on.status, StatusCode::OK, "{}", all_on.body);
        assert!(
            all_on.body.contains("全部 3 个社区：已公开") && all_on.body.contains("已公开 3 个"),
            "{}",
            all_on.body
        );
        for c in [A1, A2, "141026100003"] {
            assert_eq!(public(format!("/public/{c}")).await.status, StatusCode::OK, "{c} on");
        }
        assert_eq!(public("/public/141021100001".into()).await.status, StatusCode::NOT_FOUND, "乙县 untouched");
        let b_on = send(&app, Method::POST, "/publicity", Some(&b), Some("community=all&action=on&show_names=1")).await;
        assert!(b_on.body.contains("全部 1 个社区：已公开"), "{}", b_on.body);
        assert_eq!(public("/public/141021100001".into()).await.status, StatusCode::OK);
        assert!(!public(format!("/public/{A1}?year=2025&quarter=1")).await.body.contains("张三"), "甲县 still by role");
        let all_off = send(&app, Method::POST, "/publicity", Some(&a), Some("community=all&action=off")).await;
        assert_eq!(all_off.status, StatusCode::OK, "{}", all_off.body);
        for c in [A1, A2, "141026100003"] {
            assert_eq!(public(format!("/public/{c}")).await.status, StatusCode::NOT_FOUND, "{c} off");
        }
        assert_eq!(public("/public/141021100001".into()).await.status, StatusCode::OK, "乙县's stays on");
        let audit = state.catalog.audit_log(&Scope::Platform, Some("public_page"), 10).await.expect("audit");
        assert_eq!(audit.len(), 7, "one audit line per county-wide switch");
        state.catalog.close().await;
    });
}

/// The A4 公示 poster: PNG and PDF, and its QR code (read back with rqrr, a decoder no one
/// here wrote) leads to the community's public page under `--base-url`.
#[test]
fn the_notice_poster_s_qr_code_leads_to_the_public_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    runtime().block_on(async {
        fixture_warehouse(&root).await;
    });
    let out = dir.path().join("poster");
    let args = ["--warehouse", &root, "--community", A1, "export", "notice", "--year", "2025", "--quarter", "1"];
    let run = crate::support::yishi(
        &[&args[..], &["--out", out.to_str().expect("utf-8"), "--base-url", "https://yishi.example.gov.cn/"]].concat(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("公示页尚未开通"), "the page is off: said so: {stderr}");
    let png = out.join("2025年第1季度_公示_东岭社区.png");
    let pdf = out.join("2025年第1季度_公示_东岭社区.pdf");

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).expect("png")));
    let mut reader = decoder.read_info().expect("png header");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("png frame");
    assert_eq!((info.width, info.height), (1588, 2246), "A4 at 192 dpi");
    let (w, h) = (info.width as usize, info.height as usize);
    let luma = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        ((u32::from(pixels[i]) + u32::from(pixels[i + 1]) + u32::from(pixels[i + 2])) / 3) as u8
    };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the poster");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    assert_eq!(content, format!("https://yishi.example.gov.cn/public/{A1}"));

    let bytes = std::fs::read(&pdf).expect("pdf");
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    if let Ok(info) = std::process::Command::new("pdfinfo").arg(&pdf).output() {
        let info = String::from_utf8_lossy(&info.stdout);
        let field = |name: &str| {
            info.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default()
        };
        assert_eq!(field("Pages:"), "1", "{info}");
        assert!(field("Page size:").starts_with("595.28 x 841.89"), "{info}");
    }
}
