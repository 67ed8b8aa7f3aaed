//! Byte tests eight at a time in a `u64` ("SIMD within a register"), for the short strings of
//! a listing page, where a vector search's setup costs more than the search. By hand: what
//! `memchr` offers searches for up to three bytes and sets up vectors for every call.

pub const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Nonzero when some byte of `x` is zero. Exact as a yes or no; as a mask, a borrow can mark
/// bytes above a marked one, so only its lowest mark is exact.
#[inline(always)]
pub fn zero(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & HIGH
}

/// Nonzero when some byte of `x` is `byte`, with the same exactness as [`zero`].
#[inline(always)]
pub fn equal(x: u64, byte: u8) -> u64 {
    zero(x ^ (ONES * u64::from(byte)))
}

/// Nonzero when some byte of `x` is below `n` (at most 0x80), with the same exactness as
/// [`zero`].
#[inline(always)]
pub fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH
}

/// Whether `marks` finds nothing in any word of `b`, without a branch per word: the tail is
/// padded with `pad`, a byte `marks` must not mark.
#[inline(always)]
pub fn unmarked(b: &[u8], pad: u8, marks: impl Fn(u64) -> u64) -> bool {
    let mut chunks = b.chunks_exact(8);
    let mut found = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        found |= marks(u64::from_le_bytes(word));
    }
    let tail = chunks.remainder();
    let mut word = [pad; 8];
    word[..tail.len()].copy_from_slice(tail);
    found | marks(u64::from_le_bytes(word)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn each_test_agrees_with_a_byte_at_a_time_one(
            b in proptest::collection::vec(proptest::num::u8::ANY, 0..24),
            byte in proptest::num::u8::ANY,
            n in 0u8..=0x80,
        ) {
            let pad = byte.wrapping_add(1);
            proptest::prop_assert_eq!(unmarked(&b, pad, |x| equal(x, byte)), !b.contains(&byte));
            proptest::prop_assert_eq!(unmarked(&b, 0xff, |x| below(x, n)), !b.iter().any(|&c| c < n));
            proptest::prop_assert_eq!(unmarked(&b, 1, zero), !b.contains(&0));
        }
    }
}
