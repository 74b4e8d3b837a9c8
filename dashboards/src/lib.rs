//! What people see of the reports: charts (PNG and SVG, with an embedded CJK font), Excel
//! workbooks with native charts, the quarterly report pack that bundles them, the written
//! quarterly report (DOCX), the dashboard pages, and the output encodings (JSON, CSV,
//! text) every front-end writes.

pub mod charts;
pub mod documents;
pub mod encoding;
pub mod fonts;
pub mod long_lists;
pub mod naming;
pub mod pack;
pub mod pages;
pub mod sources;
pub mod templates;
pub mod xlsx;
