//! The routes: the JSON API (`api`) and the dashboards (`pages`), over the request
//! parameters both read (`params`) and the file downloads (`download`). They map requests
//! to the server's calls (`crate::reports`, `crate::charts`, `crate::uploads`, …) and the
//! answers to responses; the work itself lives in those modules.

pub mod api;
pub mod download;
pub mod pages;
pub mod params;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::state::AppState;

/// Every route of the server.
pub fn routes(state: AppState) -> Router {
    let upload_limit = DefaultBodyLimit::max(usize::try_from(state.config.max_upload_bytes).unwrap_or(usize::MAX));
    let api = Router::new()
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/ingest/{table}", post(api::ingest).layer(upload_limit))
        .route("/api/v1/reports/{kind}", get(api::report))
        .route("/api/v1/charts/{file}", get(api::chart))
        .route("/api/v1/sql", post(api::sql))
        .route("/api/v1/batches", get(api::batches))
        .route("/api/v1/batches/{id}", get(api::batch))
        .route("/api/v1/batches/{id}/rejects.csv", get(api::batch_rejects))
        .route("/api/v1/audit", get(api::audit))
        .route("/healthz", get(api::healthz));
    let pages = Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/overview", get(pages::overview))
        .route("/quarterly", get(pages::quarterly))
        .route("/cadres", get(pages::cadres))
        .route("/counties", get(pages::counties))
        .route("/community", get(pages::community))
        .route("/upload", get(pages::upload_form).post(pages::upload).layer(upload_limit));
    api.merge(pages).fallback(api::not_found).with_state(state)
}
