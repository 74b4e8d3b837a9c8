//! Finding every delimiter and line feed of a plain CSV text. A ledger's cells are short
//! (about seven bytes), so a search that starts again after each hit (`memchr2_iter`)
//! pays its start-up per cell; here 64 bytes are compared at a time into a bit mask and
//! the hits are read off the mask.

/// Blocks of 64 bytes whose hits one call to the vector code finds: one call per 4 KiB,
/// so that `f` (called per hit, tens of millions of times) is inlined into the loop here
/// instead of being called from inside the vector code.
const BLOCKS_PER_CALL: usize = 64;

/// Calls `f` with the position of every `a` or `b` byte in `bytes`, in order.
pub(crate) fn for_each_either(bytes: &[u8], a: u8, b: u8, mut f: impl FnMut(usize)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        let mut masks = [0u64; BLOCKS_PER_CALL];
        let whole = bytes.len() - bytes.len() % 64;
        for (n, span) in bytes[..whole].chunks(64 * BLOCKS_PER_CALL).enumerate() {
            // SAFETY: the CPU has AVX2, checked just above.
            let blocks = unsafe { avx2::masks(span, a, b, &mut masks) };
            let base = n * 64 * BLOCKS_PER_CALL;
            for (k, &mask) in masks[..blocks].iter().enumerate() {
                let mut mask = mask;
                while mask != 0 {
                    f(base + k * 64 + mask.trailing_zeros() as usize);
                    mask &= mask - 1;
                }
            }
        }
        return scalar(bytes, whole, a, b, f);
    }
    scalar(bytes, 0, a, b, f)
}

/// The bytes from `from` on, one at a time.
fn scalar(bytes: &[u8], from: usize, a: u8, b: u8, mut f: impl FnMut(usize)) {
    for (i, &byte) in bytes.iter().enumerate().skip(from) {
        if byte == a || byte == b {
            f(i);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };

    /// For each whole 64-byte block of `span` (at most `masks.len()` of them), a mask with
    /// bit i set where byte i of the block is `a` or `b`; returns the number of blocks.
    #[target_feature(enable = "avx2")]
    pub(super) fn masks(span: &[u8], a: u8, b: u8, masks: &mut [u64]) -> usize {
        let (va, vb) = (_mm256_set1_epi8(a as i8), _mm256_set1_epi8(b as i8));
        let hits = |half: &[u8]| {
            // SAFETY: `half` is 32 bytes (a `chunks_exact(64)` block split in two), and
            // the load has no alignment requirement.
            let v = unsafe { _mm256_loadu_si256(half.as_ptr().cast::<__m256i>()) };
            _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, va), _mm256_cmpeq_epi8(v, vb))) as u32
        };
        let mut count = 0;
        for (block, mask) in span.chunks_exact(64).zip(masks.iter_mut()) {
            let (low, high) = block.split_at(32);
            *mask = u64::from(hits(low)) | (u64::from(hits(high)) << 32);
            count += 1;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_a_byte_by_byte_search_finds() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for len in (0..300).chain([1 << 12, (1 << 12) + 37, 3 << 12, (5 << 12) + 64 + 5]) {
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b',', b'\n', b'a', 0xE6, b'\r', b'"'][(seed % 6) as usize]
                })
                .collect();
            let expected: Vec<usize> = (0..len).filter(|&i| text[i] == b',' || text[i] == b'\n').collect();
            let mut found = Vec::new();
            for_each_either(&text, b',', b'\n', |i| found.push(i));
            assert_eq!(found, expected, "length {len}");
            // The fallback of CPUs without AVX2, on its own.
            found.clear();
            scalar(&text, 0, b',', b'\n', |i| found.push(i));
            assert_eq!(found, expected, "length {len}, byte by byte");
        }
    }
}
