//! Turning a file's bytes into UTF-8 text without asking the user which encoding it has.
//!
//! Excel's "CSV UTF-8" writes a BOM; Excel on Chinese Windows writes plain CSV as
//! GBK/GB18030; "Unicode text" is UTF-16 with a BOM. UTF-8 is tried first because a
//! GB18030 decoder accepts almost any byte sequence, while valid UTF-8 is rarely an
//! accident for Chinese text.

use std::borrow::Cow;
use std::path::Path;

use crate::errors::IngestError;

/// The encoding a file was found to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16,
    Gb18030,
}

/// Decodes `bytes` as UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030.
/// Binary content (NUL bytes, control characters) is refused before any decoding.
pub fn decode<'a>(bytes: &'a [u8], path: &Path) -> Result<(Cow<'a, str>, TextEncoding), IngestError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        reject_binary(rest, path)?;
        return utf8(rest, path).map(|t| (Cow::Borrowed(t), TextEncoding::Utf8Bom));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, had_errors) = encoding_rs::UTF_16LE.decode(bytes);
        if had_errors {
            return Err(IngestError::Encoding { path: path.to_path_buf(), offset: 0 });
        }
        return Ok((Cow::Owned(text.into_owned()), TextEncoding::Utf16));
    }
    reject_binary(bytes, path)?;
    match checked_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), TextEncoding::Utf8)),
        Err(_) => gb18030(bytes, path).map(|t| (Cow::Owned(t), TextEncoding::Gb18030)),
    }
}

fn utf8<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str, IngestError> {
    checked_utf8(bytes).map_err(|e| IngestError::Encoding { path: path.to_path_buf(), offset: e.valid_up_to() + 3 })
}

/// The text of `bytes` if they are UTF-8. SIMD-checked (simdutf8 reads gigabytes a
/// second, `std::str::from_utf8` about a third of that: ~0.1 CPU s for a 264 MB ledger);
/// invalid input is checked again by the standard library, whose error says where the
/// first bad byte is.
fn checked_utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    simdutf8::basic::from_utf8(bytes).or_else(|_| std::str::from_utf8(bytes))
}

fn gb18030(bytes: &[u8], path: &Path) -> Result<String, IngestError> {
    let decoded = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes);
    match decoded {
        Some(text) => Ok(text.into_owned()),
        None => {
            let offset = std::str::from_utf8(bytes).err().map(|e| e.valid_up_to()).unwrap_or(0);
            Err(IngestError::Encoding { path: path.to_path_buf(), offset })
        }
    }
}

/// A text table has no NUL bytes and next to no C0 control characters besides tab,
/// CR and LF. Only the first 64 KiB are looked at: enough to catch an image or an
/// archive renamed to `.csv`.
fn reject_binary(bytes: &[u8], path: &Path) -> Result<(), IngestError> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let is_control = |b: &u8| *b < 0x20 && !matches!(*b, b'\t' | b'\n' | b'\r' | 0x0C);
    if let Some(offset) = head.iter().position(|b| *b == 0) {
        return Err(IngestError::Binary { path: path.to_path_buf(), offset });
    }
    let controls = head.iter().filter(|b| is_control(b)).count();
    if controls > 8 && controls * 100 > head.len() {
        let offset = head.iter().position(is_control).unwrap_or(0);
        return Err(IngestError::Binary { path: path.to_path_buf(), offset });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("t.csv")
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let (t, e) = decode("社区代码\n".as_bytes(), p()).expect("utf8");
        assert_eq!((t.as_ref(), e), ("社区代码\n", TextEncoding::Utf8));
        let bom = [&[0xEF, 0xBB, 0xBF][..], "社区代码".as_bytes()].concat();
        let (t, e) = decode(&bom, p()).expect("bom");
        assert_eq!((t.as_ref(), e), ("社区代码", TextEncoding::Utf8Bom));
    }

    #[test]
    fn gb18030_is_detected() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("议题名称,办理状态\r\n");
        let (t, e) = decode(&bytes, p()).expect("gb18030");
        assert_eq!((t.as_ref(), e), ("议题名称,办理状态\r\n", TextEncoding::Gb18030));
    }

    #[test]
    fn large_files_are_checked_and_the_first_bad_byte_found() {
        let text = "社区,议题\n".repeat(5 << 20);
        assert_eq!(checked_utf8(text.as_bytes()).expect("valid").len(), text.len());
        let mut bad = text.into_bytes();
        let at = bad.len() / 2 + 1;
        bad[at] = 0xFF;
        let expected = std::str::from_utf8(&bad).map_err(|e| e.valid_up_to());
        assert!(expected.is_err_and(|e| e <= at && e + 3 > at));
        assert_eq!(checked_utf8(&bad).map_err(|e| e.valid_up_to()), expected);
    }

    #[test]
    fn binary_is_refused() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D];
        assert!(matches!(decode(&png, p()), Err(IngestError::Binary { offset: 8, .. })));
    }
}
