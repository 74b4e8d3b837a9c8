//! The installation's secret key for pseudonymising respondents (HMAC-SHA-256). Created
//! once at `init`; losing it means new pseudonyms no longer match old ones, so it sits
//! beside the data and is never printed. For an object-store warehouse it comes from
//! `YISHI_SECRET`.

use std::io::Write;
use std::path::Path;

use crate::errors::{Result, WarehouseError};

pub(crate) const SECRET_FILE: &str = "secret.key";
pub const SECRET_ENV: &str = "YISHI_SECRET";

/// Creates the secret file if it does not exist (readable by the owner only).
pub(crate) fn create(meta_dir: &Path) -> Result<()> {
    let path = meta_dir.join(SECRET_FILE);
    if path.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(meta_dir).map_err(WarehouseError::io(meta_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(WarehouseError::io(path.display()))?;
    file.write_all(hex::encode(bytes).as_bytes()).map_err(WarehouseError::io(path.display()))
}

/// Reads the secret: `YISHI_SECRET` if set, else the file.
pub(crate) fn load(meta_dir: Option<&Path>, location: &str) -> Result<Vec<u8>> {
    if let Ok(value) = std::env::var(SECRET_ENV) {
        if !value.is_empty() {
            return Ok(value.into_bytes());
        }
    }
    let Some(dir) = meta_dir else {
        return Err(WarehouseError::Metadata(format!("对象存储仓库需要设置环境变量 {SECRET_ENV}")));
    };
    let path = dir.join(SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().as_bytes().to_vec()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(WarehouseError::NotInitialised(location.to_string())),
        Err(e) => Err(WarehouseError::io(path.display())(e)),
    }
}
