//! The routes: the JSON API (`api`) and the dashboards (`pages`), over the request
//! parameters both read (`params`) and the file downloads (`download`). They map requests
//! to the server's calls (`crate::reports`, `crate::charts`, `crate::uploads`, …) and the
//! answers to responses; the work itself lives in those modules.

pub mod api;
pub mod assets;
pub mod download;
pub mod pages;
pub mod params;
pub mod schemes;
pub mod subscriptions;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// Every route of the server.
pub fn routes(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX));
    // The JSON API's routes come with their documentation (crate::openapi).
    let (api, _) = crate::openapi::router(upload_limit).split_for_parts();
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/overview", get(pages::overview))
        .route("/quarterly", get(pages::quarterly))
        .route("/cadres", get(pages::cadres))
        .route("/counties", get(pages::counties))
        .route("/community", get(pages::community))
        .route("/documents", get(pages::documents))
        .route("/cadre", get(pages::cadre))
        .route("/topic", get(pages::topic))
        .route("/upload", get(pages::upload_form).post(pages::upload).layer(upload_limit))
        .route(dashboards::fonts::CJK_FONT_PATH, get(assets::cjk_font))
        .route(dashboards::pages::TABLES_JS_PATH, get(assets::tables_js))
        .route(dashboards::pages::ECHARTS_JS_PATH, get(assets::echarts_js))
        .route(dashboards::pages::CHARTS_JS_PATH, get(assets::charts_js))
        .route("/upload/confirm", post(pages::upload_confirm))
        .route("/upload/history", get(pages::upload_history))
        .route("/schemes", get(pages::schemes).post(pages::scheme_upload))
        .route("/publicity", get(pages::publicity).post(pages::publicity_set))
        .route("/alerts", get(pages::alerts).post(pages::alerts_create))
        .route("/alerts/delete", post(pages::alerts_delete))
        .route("/public/{community}", get(pages::public_page));
    api.merge(pages).fallback(api::not_found).with_state(state)
}
