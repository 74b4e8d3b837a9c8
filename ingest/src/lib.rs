//! Reading community ledger files into validated Arrow batches.
//!
//! A ledger file (CSV in UTF-8 or GB18030, XLSX, JSON lines) for one of the six tables of
//! the data contract is decoded, its headers matched by canonical name or Chinese alias,
//! every value normalised and checked against the contract's rules, and the valid rows
//! returned as Arrow record batches with the table's canonical schema. Every invalid row
//! is reported with the row number a spreadsheet shows, the column, the value and the
//! reason in Chinese with an English token.
//!
//! The crate also holds the synthetic-county generator ([`generator`]).

pub mod generator;
pub mod schema;

pub use schema::Table;
