//! The installation's own files — the respondent secret and the refused batches — in
//! `_yishi/` beside the tables: a folder of a local warehouse, or objects under the
//! prefix of an object-store one (`s3://bucket/prefix/_yishi/…`), so that a warehouse on
//! S3 needs no local folder and every machine that opens it reads the same secret.
//!
//! Objects are never appended to: the secret is written once with a put-if-absent (two
//! `init`s at once agree on one secret), and each refused batch is an object of its own.

use std::path::PathBuf;
use std::sync::Arc;

use deltalake::{ObjectStore, Path as ObjectPath};
use futures::TryStreamExt;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};

use crate::errors::{Result, WarehouseError};
use crate::location::Location;

/// Where `_yishi/` lives.
#[derive(Clone)]
pub(crate) enum Meta {
    Folder(PathBuf),
    Objects { store: Arc<dyn ObjectStore>, shown: String },
}

impl std::fmt::Debug for Meta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Meta::Folder(dir) => write!(f, "{}", dir.display()),
            Meta::Objects { shown, .. } => write!(f, "{shown}"),
        }
    }
}

/// The folder (or prefix) under the warehouse root.
const META: &str = "_yishi";

impl Meta {
    /// `_yishi/` of the warehouse at `location`.
    pub(crate) fn of(location: &Location) -> Result<Meta> {
        if let Some(dir) = location.local_dir() {
            return Ok(Meta::Folder(dir.join(META)));
        }
        let url = location
            .url()
            .join(&format!("{META}/"))
            .map_err(|e| WarehouseError::Location(location.to_string(), e.to_string()))?;
        let shown = url.to_string();
        let store = deltalake::DeltaTableBuilder::from_url(url)
            .and_then(|b| b.with_storage_options(location.storage_options()).build_storage())
            .map_err(|e| WarehouseError::Location(shown.clone(), e.to_string()))?
            .object_store(None);
        Ok(Meta::Objects { store, shown })
    }

    /// The bytes of `name`, or `None` if there is no such file.
    pub(crate) async fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Meta::Folder(dir) => {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(WarehouseError::io(path.display())(e)),
                }
            }
            Meta::Objects { store, shown } => match store.get(&ObjectPath::from(name)).await {
                Ok(got) => Ok(Some(got.bytes().await.map_err(object_error(shown, name))?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(object_error(shown, name)(e)),
            },
        }
    }

    /// Writes `name` unless it exists (then leaves it as it is). A local file is readable
    /// by its owner only.
    pub(crate) async fn create(&self, name: &str, bytes: &[u8]) -> Result<()> {
        match self {
            Meta::Folder(dir) => create_file(&dir.join(name), bytes),
            Meta::Objects { store, shown } => {
                let options = PutOptions { mode: PutMode::Create, ..Default::default() };
                match store.put_opts(&ObjectPath::from(name), PutPayload::from(bytes.to_vec()), options).await {
                    Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                    Err(e) => Err(object_error(shown, name)(e)),
                }
            }
        }
    }

    /// Every object under `prefix/` (a folder's files), in name order.
    pub(crate) async fn read_all(&self, prefix: &str) -> Result<Vec<Vec<u8>>> {
        match self {
            Meta::Folder(dir) => {
                let dir = dir.join(prefix);
                let mut names: Vec<PathBuf> = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(WarehouseError::io(dir.display())(e)),
                };
                names.sort();
                names.iter().map(|p| std::fs::read(p).map_err(WarehouseError::io(p.display()))).collect()
            }
            Meta::Objects { store, shown } => {
                let listed: Vec<_> = store
                    .list(Some(&ObjectPath::from(prefix)))
                    .try_collect()
                    .await
                    .map_err(object_error(shown, prefix))?;
                let mut paths: Vec<ObjectPath> = listed.into_iter().map(|m| m.location).collect();
                paths.sort();
                let mut out = Vec::with_capacity(paths.len());
                for path in paths {
                    let got = store.get(&path).await.map_err(object_error(shown, prefix))?;
                    out.push(got.bytes().await.map_err(object_error(shown, prefix))?.to_vec());
                }
                Ok(out)
            }
        }
    }
}

/// Creates a file with `bytes` unless it exists (owner-only on Unix).
fn create_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(WarehouseError::io(dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => file.write_all(bytes).map_err(WarehouseError::io(path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(WarehouseError::io(path.display())(e)),
    }
}

fn object_error<'a>(shown: &'a str, name: &'a str) -> impl Fn(object_store::Error) -> WarehouseError + 'a {
    move |e| WarehouseError::Metadata(format!("读取或写入 {shown}{name} 失败：{e}"))
}
