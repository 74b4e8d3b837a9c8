//! End-to-end tests, linked into one binary (every extra test binary costs a long link
//! with DataFusion in the build).

mod aggregates;
mod alerts;
mod analyses;
mod api;
mod charts;
mod cli_help;
#[cfg(feature = "ballista")]
mod cluster;
mod contract;
mod db_sources;
mod deliberation;
mod documents;
mod drilldown;
mod echarts;
mod empty_answers;
mod hardening;
mod hardening_auth;
mod hardening_files;
mod history;
mod ingest_cli;
mod kill;
mod lists;
mod object_storage;
mod office_ledgers;
mod pages_text;
mod preview;
mod print;
mod public_pages;
mod report_cli;
mod report_page;
mod schedule;
mod schemes;
mod sql_scope;
mod support;
mod templates;
mod upload_preview;
