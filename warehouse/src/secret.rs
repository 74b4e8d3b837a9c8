//! The installation's secret key for pseudonymising respondents (HMAC-SHA-256). Created
//! once at `init` in `_yishi/secret.key` beside the data (a local file readable by its
//! owner, or an object written once under an object-store warehouse's prefix); losing it
//! means new pseudonyms no longer match old ones. Never printed. `YISHI_SECRET`, when
//! set, takes its place.

use crate::errors::{Result, WarehouseError};
use crate::meta::Meta;

pub(crate) const SECRET_FILE: &str = "secret.key";
pub const SECRET_ENV: &str = "YISHI_SECRET";

/// Creates the secret if it does not exist. Two `init`s at once keep the first one's.
pub(crate) async fn create(meta: &Meta) -> Result<()> {
    if meta.read(SECRET_FILE).await?.is_some() {
        return Ok(());
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    meta.create(SECRET_FILE, hex::encode(bytes).as_bytes()).await
}

/// Reads the secret: `YISHI_SECRET` if set, else `_yishi/secret.key`.
pub(crate) async fn load(meta: &Meta, location: &str) -> Result<Vec<u8>> {
    if let Ok(value) = std::env::var(SECRET_ENV)
        && !value.is_empty()
    {
        return Ok(value.into_bytes());
    }
    match meta.read(SECRET_FILE).await? {
        Some(bytes) => Ok(String::from_utf8_lossy(&bytes).trim().as_bytes().to_vec()),
        None => Err(WarehouseError::NotInitialised(location.to_string())),
    }
}
