//! Storage for factor matrices, whose rows ALS gathers at random every half-step.
//!
//! A `Vec<f32>` from malloc starts 16 bytes into a cache line, so every k = 64 row (256 bytes)
//! spans 5 lines instead of 4. Here the memory is aligned: to 2 MiB for large matrices, whose
//! pages are also advised to be huge (Linux `madvise` mode, the common default) before first
//! touch, so gathers do not also miss the TLB; to a cache line otherwise.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Matrices at least this large get huge pages (and 2 MiB alignment).
const HUGE: usize = 2 << 20;
const LINE: usize = 64;

/// An owned, aligned `[f32]` of fixed length (it derefs to a slice).
pub struct Factors {
    ptr: NonNull<f32>,
    len: usize,
}

// SAFETY: `Factors` owns its memory exclusively, as a `Vec<f32>` does.
unsafe impl Send for Factors {}
// SAFETY: shared access only reads.
unsafe impl Sync for Factors {}

impl Factors {
    /// `len` values from `value(i)`, written in order.
    pub fn from_fn(len: usize, mut value: impl FnMut(usize) -> f32) -> Self {
        let out = Self::uninit(len);
        for i in 0..len {
            // SAFETY: i < len, inside the allocation; each slot is written exactly once.
            unsafe { out.ptr.as_ptr().add(i).write(value(i)) };
        }
        out
    }

    pub fn zeroed(len: usize) -> Self {
        Self::from_fn(len, |_| 0.0)
    }

    pub fn from_slice(values: &[f32]) -> Self {
        Self::from_fn(values.len(), |i| values[i])
    }

    /// Grows or shrinks to `len`, keeping the leading values and filling new ones with `value`.
    pub fn resize(&mut self, len: usize, value: f32) {
        if len != self.len {
            *self = Self::from_fn(len, |i| self.get(i).copied().unwrap_or(value));
        }
    }

    fn layout(len: usize) -> Layout {
        let bytes = len * std::mem::size_of::<f32>();
        let align = if bytes >= 2 * HUGE { HUGE } else { LINE };
        Layout::from_size_align(bytes, align).expect("factor matrix size overflows")
    }

    /// Memory for `len` values, not yet written (callers write every slot before reading).
    fn uninit(len: usize) -> Self {
        if len == 0 {
            return Self {
                ptr: NonNull::dangling(),
                len,
            };
        }
        let layout = Self::layout(len);
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc(layout) } as *mut f32;
        let Some(ptr) = NonNull::new(raw) else {
            alloc::handle_alloc_error(layout)
        };
        if layout.align() == HUGE {
            advise_huge(raw as usize, layout.size());
        }
        Self { ptr, len }
    }
}

#[cfg(target_os = "linux")]
fn advise_huge(start: usize, bytes: usize) {
    // madvise wants page alignment: advise the whole huge pages of the allocation.
    let end = (start + bytes) / HUGE * HUGE;
    if end > start {
        // SAFETY: the range lies inside memory this process owns; MADV_HUGEPAGE only changes
        // how the kernel backs it, never its contents, and a failure is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_start: usize, _bytes: usize) {}

impl Drop for Factors {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: allocated in `uninit` with this very layout.
            unsafe { alloc::dealloc(self.ptr.as_ptr() as *mut u8, Self::layout(self.len)) };
        }
    }
}

impl std::ops::Deref for Factors {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        // SAFETY: `len` initialized values (or a dangling pointer with len 0).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl std::ops::DerefMut for Factors {
    fn deref_mut(&mut self) -> &mut [f32] {
        // SAFETY: as in `deref`, and `&mut self` is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Clone for Factors {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl PartialEq for Factors {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Factors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Factors({} values)", self.len)
    }
}

impl From<Vec<f32>> for Factors {
    fn from(values: Vec<f32>) -> Self {
        Self::from_slice(&values)
    }
}

#[cfg(test)]
mod tests {
    use super::Factors;

    #[test]
    fn rows_start_on_cache_lines_and_values_survive() {
        for len in [0usize, 1, 1000, 3 << 20] {
            let mut f = Factors::from_fn(len, |i| i as f32);
            assert_eq!(f.len(), len);
            assert!(
                len == 0 || (f.as_ptr() as usize).is_multiple_of(64),
                "len {len}"
            );
            if len > 1 {
                assert_eq!(f[len - 1], (len - 1) as f32);
            }
            let copy = f.clone();
            assert_eq!(copy, f);
            f.resize(len + 5, -1.0);
            assert_eq!(&f[..len], &copy[..]);
            assert!(f[len..].iter().all(|&v| v == -1.0));
            f.resize(len / 2, 0.0);
            assert_eq!(&f[..], &copy[..len / 2]);
        }
        assert_eq!(Factors::from(vec![1.0, 2.0]).to_vec(), vec![1.0, 2.0]);
        assert_eq!(Factors::zeroed(3).to_vec(), vec![0.0; 3]);
    }

    #[test]
    fn large_matrices_are_aligned_to_huge_pages() {
        let f = Factors::zeroed(2 << 20);
        assert_eq!(f.as_ptr() as usize % (2 << 20), 0);
    }
}
