//! What people see of the reports: charts (PNG and SVG, with an embedded CJK font), Excel
//! workbooks with native charts, and the quarterly report pack that bundles them.

pub mod charts;
pub mod fonts;
pub mod pack;
pub mod pages;
pub mod xlsx;
