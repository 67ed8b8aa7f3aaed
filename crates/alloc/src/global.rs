//! The global allocator: mimalloc's plain entry points wherever a plain block already has the
//! alignment asked for.
//!
//! Written here rather than taken from the `mimalloc` crate because that crate's `MiMalloc`
//! sends every allocation through `mi_malloc_aligned`. In mimalloc 3 that call takes its fast
//! path only while the size class's page has a free block, and otherwise falls into a generic
//! path that, for any block size that is not a power of two, over-allocates by the alignment
//! into a larger size class. In a page-10 S3 -> S3 request callgrind counted 15 of those
//! over-allocations per request, and the aligned entry points were 4 % of its instructions
//! (`tests/load/peers.py --instructions --keep-profiles`, BENCHMARKS.md).
//!
//! Every mimalloc block is a multiple of 8 bytes from a page start aligned to at least 16
//! (`MI_PAGE_MIN_START_BLOCK_ALIGN`), so any block is 8-aligned, and a block of at least the
//! alignment's size can satisfy an alignment of up to 8 (the rule of the standard library's
//! own `System` allocator, with mimalloc's word in place of `max_align_t`). Larger alignments
//! keep going to the aligned entry points.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as ffi;

/// The alignment every mimalloc block has, whatever its size.
const PLAIN_ALIGN: usize = 8;

/// mimalloc as the process allocator. Use as `#[global_allocator]`.
pub struct MiMalloc;

/// Whether a plain block of `size` bytes is aligned enough for `align`.
#[inline(always)]
const fn plain(size: usize, align: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: each method hands mimalloc's result back unchanged. Plain entry points are used only
// where `plain` holds, which the module documentation shows gives an aligned block; the aligned
// ones honour any alignment. Blocks of either kind are freed by `mi_free`, which takes both.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions accept any size and alignment.
        unsafe {
            if plain(layout.size(), layout.align()) {
                ffi::mi_malloc(layout.size()).cast()
            } else {
                ffi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.size(), layout.align()) {
                ffi::mi_zalloc(layout.size()).cast()
            } else {
                ffi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator (the caller's contract), so from mimalloc.
        unsafe { ffi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`; the new block must have
        // `layout`'s alignment at `new_size`, which `plain` checks for the plain call.
        unsafe {
            if plain(new_size, layout.align()) {
                ffi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                ffi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size up to a few pages at every alignment up to a page: the block is aligned,
    /// holds what was written, and keeps it through growing and shrinking reallocations,
    /// including ones that cross from the plain to the aligned entry points.
    #[test]
    #[allow(unsafe_code)]
    fn blocks_are_aligned_and_keep_their_contents() {
        let sizes = (1..=256).chain((257..=20_000).step_by(61));
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap_or_else(|e| panic!("{e}"));
                // SAFETY: the layout is non-zero-sized; the block is written within its size,
                // reallocated with the layout it has, and freed once.
                unsafe {
                    let mut p = MiMalloc.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    p.write_bytes(0xA5, size);
                    for new_size in [size / 2 + 1, size * 3 + 5] {
                        let q = MiMalloc.realloc(p, layout, new_size);
                        assert!(!q.is_null());
                        assert_eq!(
                            q as usize % align,
                            0,
                            "realloc to {new_size}, align {align}"
                        );
                        let kept = size.min(new_size);
                        assert!(
                            (0..kept).all(|i| *q.add(i) == 0xA5),
                            "size {size} -> {new_size}"
                        );
                        let grown = Layout::from_size_align(new_size, align)
                            .unwrap_or_else(|e| panic!("{e}"));
                        MiMalloc.dealloc(q, grown);
                        p = MiMalloc.alloc(layout);
                        assert!(!p.is_null());
                        p.write_bytes(0xA5, size);
                    }
                    let z = MiMalloc.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    MiMalloc.dealloc(z, layout);
                    MiMalloc.dealloc(p, layout);
                }
            }
        }
    }
}
