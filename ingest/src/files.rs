//! Reading a ledger file from disk together with its SHA-256 (how the same file is
//! recognised when it comes again).

use std::io::Read;
use std::path::Path;
use std::sync::mpsc::sync_channel;

use sha2::{Digest, Sha256};

use crate::errors::IngestError;

/// Bytes read, then handed to the hashing thread, at a time.
const BLOCK_BYTES: usize = 4 << 20;

/// A file's bytes and the hex SHA-256 of them.
#[derive(Debug)]
pub struct HashedFile {
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// Reads the file at `path` whole (refusing one over `max_file_bytes`) while another
/// thread hashes the blocks already read: for a file of hundreds of megabytes hashing
/// takes about as long as reading, and both stand before any row can be checked.
pub fn read_hashed(path: &Path, max_file_bytes: u64) -> Result<HashedFile, IngestError> {
    let io = |e| IngestError::io(path, e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return read_stream(file, path, max_file_bytes);
    }
    let size = metadata.len();
    crate::check_size(path, size, max_file_bytes)?;
    let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX)];
    let (blocks, received) = sync_channel::<&[u8]>(4);
    let (read, digest) = std::thread::scope(|scope| {
        let hasher = scope.spawn(move || {
            let mut hasher = Sha256::new();
            received.iter().for_each(|block| hasher.update(block));
            hasher.finalize()
        });
        let mut read = Ok(());
        for block in bytes.chunks_mut(BLOCK_BYTES) {
            read = file.read_exact(block);
            if read.is_err() || blocks.send(block).is_err() {
                break;
            }
        }
        drop(blocks);
        (read, hasher.join())
    });
    read.map_err(|e| IngestError::io(path, changed(e)))?;
    // A file still growing (a copy in progress) would be hashed and read only in part.
    if file.read(&mut [0u8; 1]).map_err(io)? != 0 {
        return Err(IngestError::io(path, changed(std::io::ErrorKind::FileTooLarge.into())));
    }
    let digest = digest.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    Ok(HashedFile { bytes, sha256: hex::encode(digest) })
}

/// A pipe or a device (`<(iconv …)`, `/dev/stdin`): its size is known only once read, so
/// it is read up to one byte past the limit, then hashed.
fn read_stream(file: std::fs::File, path: &Path, max_file_bytes: u64) -> Result<HashedFile, IngestError> {
    let mut bytes = Vec::new();
    file.take(max_file_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| IngestError::io(path, e))?;
    crate::check_size(path, bytes.len() as u64, max_file_bytes)?;
    let sha256 = crate::sha256_hex(&bytes);
    Ok(HashedFile { bytes, sha256 })
}

/// An error for a file whose size changed while it was read.
fn changed(e: std::io::Error) -> std::io::Error {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::FileTooLarge => {
            std::io::Error::other("文件在读取时大小发生变化（仍在复制或写入？），请等文件写完再导入")
        }
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_the_sha256_of_the_whole_file() {
        let dir = tempfile::tempdir().expect("dir");
        // Several blocks and a partial one, with a different byte in each block.
        let mut content = vec![b'x'; 2 * BLOCK_BYTES + 123];
        content[5] = b'a';
        content[BLOCK_BYTES + 7] = b'b';
        content[2 * BLOCK_BYTES + 100] = b'c';
        for bytes in [&content[..], b"", b"a,b\n1,2\n"] {
            let path = dir.path().join("f.csv");
            std::fs::write(&path, bytes).expect("write");
            let file = read_hashed(&path, u64::MAX).expect("read");
            assert_eq!(file.bytes, bytes);
            assert_eq!(file.sha256, hex::encode(Sha256::digest(bytes)));
        }
        std::fs::write(dir.path().join("abc"), b"abc").expect("write");
        let known = read_hashed(&dir.path().join("abc"), 3).expect("read");
        assert_eq!(known.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let limit = read_hashed(&dir.path().join("f.csv"), 3).expect_err("over the limit");
        assert!(matches!(limit, IngestError::FileTooLarge { size: 8, limit: 3, .. }), "{limit}");
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
        let file = read_hashed(&fifo, 3).expect("read the pipe");
        writer.join().expect("writer");
        assert_eq!(file.bytes, b"abc");
        assert_eq!(file.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        // One byte over the limit is refused, however the pipe's size looked when opened.
        let writer = feed(b"abcd".to_vec());
        let over = read_hashed(&fifo, 3).expect_err("over the limit");
        let _ = writer.join();
        assert!(matches!(over, IngestError::FileTooLarge { size: 4, limit: 3, .. }), "{over}");
    }
}
