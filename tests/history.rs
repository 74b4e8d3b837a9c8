//! A topic's history: the topics ledger re-exported three times with 东岭's H01 moving from
//! 待议 to 办理中 to 已办结 (and a fourth time with only another topic changed); the
//! timeline names the version, file and time each status first appeared — in the
//! warehouse, in the API and on the topic page — and no other tenant sees it.

use std::path::Path;

use api::{AppState, Catalog, Config};
use axum::body::Body;
use axum::http::{Method, StatusCode};
use ingest::{Scope, Table};
use serde_json::Value;
use warehouse::Warehouse;

use crate::analyses::{A1, ingest};
use crate::support::runtime;

const HEADER: &str = "community_code,topic_id,session_id,title,category,channel,raised_on,lead_cadre_id,handling_mode,units,deadline,status,closed_on,publicized_on,publicity_channel\n";

/// H01's row with `status` and `closed_on`, and H02's (which changes only in the 4th file).
fn export(h01: &str, h02_title: &str) -> String {
    format!(
        "{HEADER}141026100001,H01,,楼顶防水,infrastructure,hotline,2025-01-05,K1,self,,2025-02-28,{h01},,\n\
         141026100001,H02,,{h02_title},sanitation,wechat,2025-01-06,K2,self,,2025-02-28,pending,,,\n"
    )
}

/// A warehouse with the fixture's communities and cadres and four topic re-exports.
async fn re_exported(dir: &Path) -> Warehouse {
    let root = dir.join("wh");
    let wh = Warehouse::init(root.to_str().expect("utf-8")).await.expect("init");
    ingest(&wh, Table::Communities, "communities.csv").await;
    ingest(&wh, Table::Cadres, "cadres.csv").await;
    let files = [
        ("topics-1.csv", export("pending,", "垃圾桶破损")),
        ("topics-2.csv", export("in_progress,", "垃圾桶破损")),
        ("topics-3.csv", export("resolved,2025-02-20", "垃圾桶破损")),
        ("topics-4.csv", export("resolved,2025-02-20", "垃圾桶破损（更正）")),
    ];
    for (name, csv) in files {
        let path = dir.join(name);
        std::fs::write(&path, csv).expect("write export");
        ingest(&wh, Table::Topics, path.to_str().expect("utf-8")).await;
    }
    wh
}

#[test]
fn a_topic_s_timeline_across_three_re_exports() {
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let wh = re_exported(dir.path()).await;
        let history = wh.topic_history(&Scope::Platform, A1, "H01").await.expect("history").expect("H01 found");
        let statuses: Vec<&str> = history.steps.iter().map(|s| s.status.as_str()).collect();
        assert_eq!(statuses, ["pending", "in_progress", "resolved"], "the 4th export changed only H02: no step");
        let labels: Vec<&str> = history.steps.iter().map(|s| s.status_label.as_str()).collect();
        assert_eq!(labels, ["待议", "办理中", "已办结"]);
        let files: Vec<Option<&str>> = history.steps.iter().map(|s| s.file_name.as_deref()).collect();
        assert_eq!(files, [Some("topics-1.csv"), Some("topics-2.csv"), Some("topics-3.csv")]);
        let versions: Vec<u64> = history.steps.iter().map(|s| s.version).collect();
        assert!(versions.windows(2).all(|w| w[1] == w[0] + 1), "one topics commit per export: {versions:?}");
        assert!(history.steps.iter().all(|s| s.committed_at.as_deref().is_some_and(|t| t.ends_with('Z'))));
        assert!(!history.earlier_versions_not_scanned);

        // H02 stayed 待议 through all four.
        let h02 = wh.topic_history(&Scope::Platform, A1, "H02").await.expect("history").expect("H02");
        assert_eq!(h02.steps.len(), 1);
        // Another county, or a topic that never existed: nothing.
        let county_b = Scope::county("141021").expect("code");
        assert!(wh.topic_history(&county_b, A1, "H01").await.expect("history").is_none());
        assert!(wh.topic_history(&Scope::Platform, A1, "H99").await.expect("history").is_none());

        // The API and the page.
        let url = format!("sqlite://{}", dir.path().join("yishi.db").display());
        let catalog = Catalog::open(&url).await.expect("catalog");
        let state = AppState::new(wh, catalog, Config::default());
        state.sync_places().await.expect("places");
        let (_, platform) = state.catalog.create_token("history", None, &Scope::Platform).await.expect("token");
        let (_, other) = state.catalog.create_token("history-b", None, &county_b).await.expect("token");
        let county_a = Scope::county("141026").expect("code");
        state.catalog.add_user("history-a", "甲县办事员", "history-pass-1", &county_a).await.expect("user");
        let app = api::router(state.clone());
        let get = |uri: String, token: String| {
            let app = app.clone();
            async move { crate::api::call(&app, Method::GET, &uri, Some(&token), Body::empty(), None).await }
        };
        let answer = get(format!("/api/v1/topics/{A1}/H01/history"), platform.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        let json = answer.json();
        let steps: Vec<&str> =
            json["steps"].as_array().expect("steps").iter().filter_map(|s| s["status"].as_str()).collect();
        assert_eq!(steps, ["pending", "in_progress", "resolved"]);
        assert_eq!(json["steps"][1]["status_label"], Value::from("办理中"));
        assert_eq!(get(format!("/api/v1/topics/{A1}/H01/history"), other).await.status, StatusCode::NOT_FOUND);
        assert_eq!(
            get("/api/v1/topics/1410261/H01/history".into(), platform.clone()).await.status,
            StatusCode::BAD_REQUEST
        );

        let cookie = crate::drilldown::signed_in(&app, ("history-a", "history-pass-1")).await;
        let (status, page) =
            crate::drilldown::page(&app, &cookie, &format!("/topic?year=2025&community={A1}&topic=H01")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let section = page.split("id=\"history\"").nth(1).expect("处理经过 section");
        assert!(section.contains("处理经过"), "{section}");
        for text in ["待议", "办理中", "已办结", "topics-1.csv", "topics-2.csv", "topics-3.csv"] {
            assert!(section.contains(text), "{text} missing from {section}");
        }
        assert!(!section.contains("in_progress"), "tokens stay out of the page");
    });
}
