//! Output encodings of reports and query results, one file per encoding: [`json`] (a cell,
//! rows of cells, rows as objects), [`csv`] (UTF-8 with a BOM, every cell safe from
//! spreadsheet formulas) and [`text`] (a cell as stored, as a person reads a query result,
//! or as a clerk reads a report's figure). The CLI, the server and the pages all encode
//! through here, so a figure reads the same wherever it is shown or downloaded.

pub mod csv;
pub mod json;
pub mod text;

/// Why an encoding could not be written.
#[derive(Debug, thiserror::Error)]
pub enum EncodingError {
    #[error("无法写出 CSV：{0}")]
    Csv(#[from] ::csv::Error),
    #[error("无法写出 CSV：{0}")]
    Io(#[from] std::io::Error),
}
