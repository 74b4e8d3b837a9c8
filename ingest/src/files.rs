//! Reading a ledger file from disk and its SHA-256 (how the same file is recognised when
//! it comes again).

use std::io::Read;
use std::path::Path;

use crate::errors::IngestError;

/// A ledger file's bytes: a regular file mapped from the page cache, or a pipe's bytes
/// read into memory.
///
/// Mapping rather than reading a file of hundreds of megabytes spares copying it into
/// fresh memory, which the kernel must first fault in and zero: 0.16 CPU s of a
/// 2.6 CPU s benchmark ingest, all of it before the first row could be checked.
#[derive(Debug)]
pub enum FileBytes {
    Mapped { map: memmap2::Mmap, file: std::fs::File },
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped { map, .. } => map,
            FileBytes::Read(bytes) => bytes,
        }
    }
}

impl FileBytes {
    /// The hex SHA-256 of the bytes. For a mapped file, an error if its size has changed
    /// since it was mapped: a file still being copied would be ingested only in part.
    pub fn sha256(&self, path: &Path) -> Result<String, IngestError> {
        let sha256 = crate::sha256_hex(self);
        if let FileBytes::Mapped { map, file } = self {
            let size = file.metadata().map_err(|e| IngestError::io(path, e))?.len();
            if size != map.len() as u64 {
                return Err(IngestError::io(path, changed()));
            }
        }
        Ok(sha256)
    }
}

/// Opens the file at `path` (refusing one over `max_file_bytes`): a regular file is
/// mapped, a pipe or a device (`<(iconv …)`, `/dev/stdin`) read to its end.
pub fn read_file(path: &Path, max_file_bytes: u64) -> Result<FileBytes, IngestError> {
    let io = |e| IngestError::io(path, e);
    let file = std::fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return read_stream(file, path, max_file_bytes);
    }
    crate::check_size(path, metadata.len(), max_file_bytes)?;
    let Ok(len @ 1..) = usize::try_from(metadata.len()) else {
        // Nothing to map (an empty file cannot be).
        return Ok(FileBytes::Read(Vec::new()));
    };
    // SAFETY: the map is private and read-only. A file cut short while mapped makes a read
    // of its lost pages raise SIGBUS, which the binary reports as such and exits on before
    // anything is committed (`src/signals.rs`).
    let map = unsafe { memmap2::MmapOptions::new().len(len).populate().map(&file) }.map_err(io)?;
    Ok(FileBytes::Mapped { map, file })
}

/// A pipe or a device: its size is known only once read, so it is read up to one byte
/// past the limit.
fn read_stream(file: std::fs::File, path: &Path, max_file_bytes: u64) -> Result<FileBytes, IngestError> {
    let mut bytes = Vec::new();
    file.take(max_file_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| IngestError::io(path, e))?;
    crate::check_size(path, bytes.len() as u64, max_file_bytes)?;
    Ok(FileBytes::Read(bytes))
}

/// The error for a file whose size changed while it was read.
fn changed() -> std::io::Error {
    std::io::Error::other("文件在读取时大小发生变化（仍在复制或写入？），请等文件写完再导入")
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn the_hash_is_the_sha256_of_the_whole_file() {
        let dir = tempfile::tempdir().expect("dir");
        // Several pages and a partial one, with a different byte in some of them.
        let mut content = vec![b'x'; 3 * 4096 + 123];
        content[5] = b'a';
        content[4096 + 7] = b'b';
        content[3 * 4096 + 100] = b'c';
        for bytes in [&content[..], b"", b"a,b\n1,2\n"] {
            let path = dir.path().join("f.csv");
            std::fs::write(&path, bytes).expect("write");
            let file = read_file(&path, u64::MAX).expect("read");
            assert_eq!(&*file, bytes);
            assert_eq!(matches!(file, FileBytes::Mapped { .. }), !bytes.is_empty());
            assert_eq!(file.sha256(&path).expect("hash"), hex::encode(Sha256::digest(bytes)));
        }
        let abc = dir.path().join("abc");
        std::fs::write(&abc, b"abc").expect("write");
        let known = read_file(&abc, 3).expect("read").sha256(&abc).expect("hash");
        assert_eq!(known, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let limit = read_file(&dir.path().join("f.csv"), 3).expect_err("over the limit");
        assert!(matches!(limit, IngestError::FileTooLarge { size: 8, limit: 3, .. }), "{limit}");
    }

    #[test]
    fn a_file_that_grows_after_it_was_opened_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("copying.csv");
        std::fs::write(&path, b"a,b\n1,2\n").expect("write");
        let file = read_file(&path, u64::MAX).expect("read");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| {
                use std::io::Write;
                f.write_all(b"3,4\n")
            })
            .expect("append");
        let error = file.sha256(&path).expect_err("the file changed").to_string();
        assert!(error.contains("文件在读取时大小发生变化（仍在复制或写入？）"), "{error}");
        assert!(error.contains("copying.csv"), "{error}");
    }

    #[test]
    fn a_pipe_is_read_to_its_end_within_the_limit() {
        let dir = tempfile::tempdir().expect("dir");
        let fifo = dir.path().join("ledger.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("SKIPPED: mkfifo is not available");
            return;
        }
        let feed = |content: Vec<u8>| {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::write(fifo, content).expect("write the pipe"))
        };
        let writer = feed(b"abc".to_vec());
        let file = read_file(&fifo, 3).expect("read the pipe");
        writer.join().expect("writer");
        assert!(matches!(&file, FileBytes::Read(bytes) if bytes == b"abc"));
        let sha256 = file.sha256(&fifo).expect("hash");
        assert_eq!(sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // One byte over the limit is refused, however the pipe's size looked when opened.
        let writer = feed(b"abcd".to_vec());
        let over = read_file(&fifo, 3).expect_err("over the limit");
        let _ = writer.join();
        assert!(matches!(over, IngestError::FileTooLarge { size: 4, limit: 3, .. }), "{over}");
    }
}
