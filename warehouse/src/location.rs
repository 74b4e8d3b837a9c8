//! Where the warehouse lives: a URL, so that a local folder and an S3-compatible bucket
//! (`s3://bucket/prefix`) are the same code path. Installation files (the respondent
//! secret, the refused batches) live in `_yishi/` under the root (`meta.rs`).
//!
//! An S3 warehouse takes its endpoint, region and credentials from the usual `AWS_*`
//! variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, …), read by deltalake's S3 support; requests use path-style
//! addressing (what on-premises services expect) unless
//! `AWS_VIRTUAL_HOSTED_STYLE_REQUEST=true`. Commits are atomic with concurrent writers
//! through S3 conditional writes (`If-None-Match`), which deltalake uses by default.

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
            let url = Url::parse(text).map_err(|e| bad(&e))?;
            match url.scheme() {
                "s3" | "s3a" => register_s3(),
                "file" => {}
                other => return Err(bad(&format!("不支持的存储类型 {other}://（可用：本地文件夹、s3://）"))),
            }
            if url.scheme() != "file" && url.host_str().is_none_or(str::is_empty) {
                return Err(bad(&"缺少存储桶名称，例如 s3://bucket/prefix"));
            }
            url
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

    /// The Delta table of an aggregate, at `path` under the root (`_agg/…`).
    pub(crate) fn aggregate_url(&self, path: &str) -> Result<Url> {
        self.root.join(&format!("{path}/")).map_err(|e| WarehouseError::Location(self.root.to_string(), e.to_string()))
    }

    /// Options for deltalake's object store beyond the `AWS_*` variables it reads itself:
    /// plain HTTP allowed when the endpoint is `http://` (an on-premises service on the
    /// loopback or a private network).
    pub fn storage_options(&self) -> std::collections::HashMap<String, String> {
        let mut options = std::collections::HashMap::new();
        if self.local_dir().is_none() {
            let settings = SETTINGS.get().cloned().unwrap_or_default();
            let endpoint = settings
                .endpoint
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT")).ok());
            if endpoint.as_deref().is_some_and(|e| e.starts_with("http://")) {
                options.insert("allow_http".to_string(), "true".to_string());
            }
            if let Some(endpoint) = settings.endpoint {
                options.insert("AWS_ENDPOINT_URL".to_string(), endpoint);
            }
            if let Some(region) = settings.region {
                options.insert("AWS_REGION".to_string(), region);
            }
        }
        options
    }

    /// The local folder for installation files; `None` for object stores.
    pub fn local_dir(&self) -> Option<PathBuf> {
        (self.root.scheme() == "file").then(|| self.root.to_file_path().ok()).flatten()
    }
}

/// The object store's endpoint and region when given on the command line (`--s3-endpoint`,
/// `--s3-region`, or their `AWS_*` variables read by clap); credentials stay in the
/// environment (a flag would show them in the process list).
#[derive(Debug, Clone, Default)]
pub struct ObjectStoreSettings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

static SETTINGS: std::sync::OnceLock<ObjectStoreSettings> = std::sync::OnceLock::new();

/// Sets the process's [`ObjectStoreSettings`] (the first call wins: a CLI sets them once
/// at start).
pub fn configure_object_store(settings: ObjectStoreSettings) {
    let _ = SETTINGS.set(settings);
}

/// The process's [`ObjectStoreSettings`] (empty when none were set).
#[cfg_attr(not(feature = "ballista"), allow(dead_code))]
pub(crate) fn settings() -> ObjectStoreSettings {
    SETTINGS.get().cloned().unwrap_or_default()
}

/// Lets deltalake open `s3://` URLs (once per process).
fn register_s3() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| deltalake::aws::register_handlers(None));
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.local_dir() {
            Some(dir) => write!(f, "{}", dir.display()),
            None => write!(f, "{}", self.root),
        }
    }
}
