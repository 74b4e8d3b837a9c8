//! The upload page's holding area: a file previewed on the page waits here, keyed by a
//! random id, until the clerk confirms it (or it expires).
//!
//! Why hold it on the server instead of asking the browser to send it again: the page is
//! plain HTML without script, and a file input is empty again on the preview page, so a
//! re-post would mean choosing the file a second time. The hold is bounded: at most
//! [`MAX_HELD`] files, each for [`TTL`], each still counted against the servers' upload
//! memory (it keeps its permit), and only the account that uploaded it can confirm it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use ingest::Table;
use rand::RngCore;

/// Files held at once; the oldest gives way to a new one.
pub const MAX_HELD: usize = 16;
/// How long a previewed file waits for its confirmation.
pub const TTL: Duration = Duration::from_secs(15 * 60);

/// A previewed upload waiting for confirmation.
#[derive(Debug)]
pub struct Held {
    /// Who uploaded it: account name and scope.
    pub owner: String,
    pub table: Table,
    pub file_name: String,
    pub bytes: Bytes,
    /// How to read it: partial, sheet and header row, as the upload form gave them.
    pub options: crate::uploads::UploadOptions,
    /// Its share of the upload memory, released when the hold ends.
    pub memory: Option<tokio::sync::OwnedSemaphorePermit>,
    held_at: Instant,
}

impl Held {
    pub fn new(owner: String, table: Table, file_name: String, upload: crate::uploads::Upload) -> Held {
        Held {
            owner,
            table,
            file_name,
            bytes: upload.bytes,
            options: crate::uploads::UploadOptions {
                partial: upload.partial.unwrap_or(false),
                sheet: upload.sheet,
                header_row: upload.header_row,
            },
            memory: upload.memory,
            held_at: Instant::now(),
        }
    }
}

/// The held files by id.
#[derive(Debug, Default)]
pub struct Holds(Mutex<HashMap<String, Held>>);

impl Holds {
    /// Holds a file and returns its id (128 random bits, hex).
    pub fn put(&self, held: Held) -> String {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let id = hex::encode(bytes);
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, h| h.held_at.elapsed() < TTL);
        while map.len() >= MAX_HELD {
            let oldest = map.iter().min_by_key(|(_, h)| h.held_at).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(id.clone(), held);
        id
    }

    /// Takes the file held under `id` for `owner`; `None` when unknown, expired or not theirs.
    pub fn take(&self, id: &str, owner: &str) -> Option<Held> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, h| h.held_at.elapsed() < TTL);
        if map.get(id).is_some_and(|h| h.owner == owner) { map.remove(id) } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(owner: &str) -> Held {
        Held::new(owner.into(), Table::Cadres, "a.csv".into(), crate::uploads::Upload::default())
    }

    #[test]
    fn only_the_owner_takes_a_held_file_and_only_once() {
        let holds = Holds::default();
        let id = holds.put(held("clerk@141021100001"));
        assert_eq!(id.len(), 32);
        assert!(holds.take(&id, "other@141021100002").is_none());
        assert!(holds.take(&id, "clerk@141021100001").is_some());
        assert!(holds.take(&id, "clerk@141021100001").is_none());
    }

    #[test]
    fn at_most_max_held_files_are_kept() {
        let holds = Holds::default();
        let first = holds.put(held("a"));
        for _ in 0..MAX_HELD {
            holds.put(held("a"));
        }
        assert!(holds.take(&first, "a").is_none(), "the oldest gave way");
    }
}
