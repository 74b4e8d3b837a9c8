//! What people see of the reports: XLSX workbooks now; charts and pages to come.

pub mod xlsx;
