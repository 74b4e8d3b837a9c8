//! The 书面报告 page (`/documents`) and its downloads (`/api/v1/documents/report.{docx,pdf}`)
//! over the fixture ledger (甲县 141026: 2024 Q4, 2025 Q1–Q2; 乙县 141021: 2025 Q1 only):
//! each account sees its own places' documents only, a download is a real DOCX or PDF with
//! the document's title, and another county's document is refused.

use api::AppState;
use axum::Router;
use axum::http::{StatusCode, header};
use ingest::Scope;

use crate::schemes::{get, page, server};
use crate::support::{fixture_warehouse, run_text, runtime};

const COUNTY_A: &str = "141026";
const COUNTY_B: &str = "141021";
const A1: &str = "141026100001";

/// The hrefs of the page's download links (HTML-escaped `&` undone).
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with("/api/v1/documents/"))
        .map(|h| h.replace("&amp;", "&"))
        .collect()
}

async fn users(state: &AppState) {
    let add = |user: &'static str, scope: Scope| {
        let catalog = state.catalog.clone();
        async move { catalog.add_user(user, "报告测试", "doc-pass-1234", &scope).await.expect("user") }
    };
    add("doc-b", Scope::County(COUNTY_B.into())).await;
    add("doc-a1", Scope::Community(A1.into())).await;
}

#[test]
fn the_page_lists_the_scope_s_documents_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (state, app, _) = server(&root, &catalog).await;
        users(&state).await;
        // 甲县: quarters with topics 2024 Q4, 2025 Q1, Q2 (latest first), years 2025, 2024;
        // the page's period (2025, whole year) is the current document.
        let (status, html) = page(&state, &app, "scheme-a", "/documents?year=2025").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains(">书面报告</a>") && html.contains("<h2>书面报告</h2>"), "nav entry and heading");
        let a = |q: &str| format!("/api/v1/documents/report.docx?year={q}&county={COUNTY_A}");
        let listed: Vec<String> = hrefs(&html).into_iter().filter(|h| h.contains("report.docx")).collect();
        assert_eq!(
            listed,
            [a("2025"), a("2025&quarter=2"), a("2025&quarter=1"), a("2024&quarter=4"), a("2025"), a("2024")],
            "the current year's document, then three quarters and two years"
        );
        assert!(html.contains("2025年第二季度") && html.contains("2024年度") && html.contains("生成并下载 Word"));
        assert!(!html.contains("乙县") && !html.contains(COUNTY_B), "no other county on 甲县's page");
        // Each quarter also offers its report pack; a year does not.
        let packs: Vec<String> = html
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .filter(|h| h.starts_with("/api/v1/packs/"))
            .map(|h| h.replace("&amp;", "&"))
            .collect();
        let pack = |q: &str| format!("/api/v1/packs/pack.zip?year={q}&county={COUNTY_A}");
        assert_eq!(packs, [pack("2025&quarter=2"), pack("2025&quarter=1"), pack("2024&quarter=4")]);

        let (_, html) = page(&state, &app, "doc-b", "/documents?year=2025&quarter=1").await;
        let listed = hrefs(&html);
        assert!(!listed.is_empty() && listed.iter().all(|h| h.ends_with(&format!("county={COUNTY_B}"))), "{listed:?}");
        assert!(listed.contains(&format!("/api/v1/documents/report.pdf?year=2025&quarter=1&county={COUNTY_B}")));
        assert!(!html.contains("甲县") && !html.contains(COUNTY_A), "no 甲县 on 乙县's page");

        let (_, html) = page(&state, &app, "doc-a1", "/documents?year=2025").await;
        let listed = hrefs(&html);
        assert!(!listed.is_empty() && listed.iter().all(|h| h.ends_with(&format!("community={A1}"))), "{listed:?}");
        assert!(html.contains("东岭社区"));

        // The platform: both counties, and no current document until one is chosen.
        let (_, html) = page(&state, &app, "scheme-p", "/documents?year=2025").await;
        let listed = hrefs(&html);
        assert!(listed.iter().any(|h| h.ends_with(COUNTY_A)) && listed.iter().any(|h| h.ends_with(COUNTY_B)));
        assert!(html.contains("请在上方选择县区") && !html.contains("generate-docx"));
        state.catalog.close().await;
    });
}

#[test]
fn downloads_are_documents_and_another_county_s_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("wh").to_str().expect("utf-8").to_string();
    let catalog = format!("sqlite://{}", dir.path().join("catalog.db").display());
    runtime().block_on(async {
        let _wh = fixture_warehouse(&root).await;
        let (state, app, [platform, county_a, county_b, a1]) = server(&root, &catalog).await;
        check_downloads(&app, dir.path(), &county_a, &a1).await;
        // Refused: another county's (403), another community's (403), a platform call naming
        // no place (400), a period without data (404), another file (404).
        let uri = |q: &str| format!("/api/v1/documents/report.docx?year=2025&quarter=1&{q}");
        assert_eq!(get(&app, &uri(&format!("county={COUNTY_A}")), &county_b).await.status, StatusCode::FORBIDDEN);
        assert_eq!(get(&app, &uri(&format!("community={A1}")), &county_b).await.status, StatusCode::FORBIDDEN);
        assert_eq!(get(&app, &uri("community=141026100002"), &a1).await.status, StatusCode::FORBIDDEN);
        let none = get(&app, "/api/v1/documents/report.pdf?year=2025", &platform).await;
        assert_eq!(none.status, StatusCode::BAD_REQUEST);
        assert_eq!(none.json()["code"], "needs_place");
        let empty = get(&app, "/api/v1/documents/report.docx?year=2019&quarter=3", &county_a).await;
        assert_eq!(empty.status, StatusCode::NOT_FOUND);
        assert!(empty.json()["message"].as_str().unwrap_or_default().starts_with("2019年第三季度在所选范围内没有数据"));
        assert_eq!(get(&app, "/api/v1/documents/report.xlsx?year=2025", &county_a).await.status, StatusCode::NOT_FOUND);
        state.catalog.close().await;
    });
}

/// 甲县's 2025 Q2 document as DOCX (its title in the body), its 2025 year-end document as
/// PDF (title in poppler's text), and 东岭社区's own for its community account.
async fn check_downloads(app: &Router, dir: &std::path::Path, county_a: &str, a1: &str) {
    let docx = get(app, "/api/v1/documents/report.docx?year=2025&quarter=2", county_a).await;
    assert_eq!(docx.status, StatusCode::OK, "{}", String::from_utf8_lossy(&docx.body));
    assert_eq!(
        docx.headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let disposition = docx.headers[header::CONTENT_DISPOSITION].to_str().expect("ascii").to_string();
    assert!(disposition.contains("filename=\"report-2025-q2.docx\""), "{disposition}");
    let path = dir.join("q2.docx");
    std::fs::write(&path, &docx.body).expect("write");
    let text = crate::documents::docx_text(&path);
    assert!(text.starts_with("甲县2025年第二季度说事议事工作满意度分析报告"), "{}", &text[..120.min(text.len())]);

    let pdf = get(app, "/api/v1/documents/report.pdf?year=2025", county_a).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    let path = dir.join("year.pdf");
    std::fs::write(&path, &pdf.body).expect("write");
    if std::process::Command::new("pdftotext").arg("-v").output().is_ok() {
        let text: String = run_text("pdftotext", &[path.to_str().expect("utf-8"), "-"]).split_whitespace().collect();
        assert!(text.contains("甲县2025年度说事议事工作满意度分析报告"), "no title in the PDF's text");
    }

    // A community account naming its own county filters, never widens: still its own.
    let own = get(app, &format!("/api/v1/documents/report.docx?year=2025&quarter=1&county={COUNTY_A}"), a1).await;
    assert_eq!(own.status, StatusCode::OK);
    let path = dir.join("a1.docx");
    std::fs::write(&path, &own.body).expect("write");
    assert!(crate::documents::docx_text(&path).starts_with("东岭社区2025年第一季度说事议事工作满意度分析报告"));
}
