//! Times reading and validating ledger files without a warehouse: `cargo run --release -p
//! ingest --example read_ledger -- TABLE=FILE...`, tables in dependency order (each file's
//! keys feed the reference rules of the next).

use std::path::Path;
use std::time::Instant;

fn main() {
    let mut references = ingest::References::default();
    for arg in std::env::args().skip(1) {
        let Some((table, path)) = arg.split_once('=').and_then(|(t, p)| Some((ingest::Table::parse(t)?, p))) else {
            eprintln!("usage: read_ledger TABLE=FILE...");
            std::process::exit(2);
        };
        let options = ingest::ReadOptions {
            scope: &ingest::Scope::Platform,
            references: &references,
            respondent_secret: b"bench",
            sheet: None,
            header_row: None,
            max_file_bytes: ingest::DEFAULT_MAX_FILE_BYTES,
            progress: None,
            sink: None,
            strict: true,
        };
        let started = Instant::now();
        match ingest::read_ledger(table, Path::new(path), &options) {
            Ok(file) => {
                let s = started.elapsed().as_secs_f64();
                let rows = file.accepted_rows + file.rejected.len();
                println!(
                    "{table}: {rows} rows ({} accepted) in {s:.2} s: {:.0} rows/s",
                    file.accepted_rows,
                    rows as f64 / s
                );
                references.absorb(table, &file.batches);
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(2);
            }
        }
    }
}
