//! Where the warehouse lives: a URL, so that a local folder today and an S3-compatible
//! bucket later are the same code path. Installation files (the respondent secret, the
//! log of refused batches) live in `_yishi/` under a local root.

use std::path::{Path, PathBuf};

use url::Url;

use crate::errors::{Result, WarehouseError};
use ingest::Table;

/// The root of a warehouse.
#[derive(Debug, Clone)]
pub struct Location {
    root: Url,
}

impl Location {
    /// A local folder (created if missing) or a URL such as `s3://bucket/prefix`.
    pub fn parse(text: &str) -> Result<Location> {
        let bad = |e: &dyn std::fmt::Display| WarehouseError::Location(text.to_string(), e.to_string());
        let looks_like_url = text.contains("://");
        let mut root = if looks_like_url {
            Url::parse(text).map_err(|e| bad(&e))?
        } else {
            let path = Path::new(text);
            std::fs::create_dir_all(path).map_err(WarehouseError::io(text))?;
            let absolute = std::fs::canonicalize(path).map_err(WarehouseError::io(text))?;
            Url::from_directory_path(&absolute).map_err(|_| bad(&"不是绝对路径"))?
        };
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        Ok(Location { root })
    }

    pub fn url(&self) -> &Url {
        &self.root
    }

    /// The Delta table of a ledger table.
    pub fn table_url(&self, table: Table) -> Result<Url> {
        self.root
            .join(&format!("{}/", table.name()))
            .map_err(|e| WarehouseError::Location(self.root.to_string(), e.to_string()))
    }

    /// The local folder for installation files; `None` for object stores.
    pub fn local_dir(&self) -> Option<PathBuf> {
        (self.root.scheme() == "file").then(|| self.root.to_file_path().ok()).flatten()
    }

    /// `_yishi/` under a local root.
    pub fn meta_dir(&self) -> Option<PathBuf> {
        self.local_dir().map(|d| d.join("_yishi"))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_dir() {
            Some(dir) => write!(f, "{}", dir.display()),
            None => write!(f, "{}", self.root),
        }
    }
}
