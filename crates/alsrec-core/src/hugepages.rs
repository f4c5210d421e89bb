//! Large factor matrices on transparent huge pages where the OS offers them on request
//! (Linux `madvise` mode, the common default). ALS gathers rows of these matrices at random, and
//! with 4 KiB pages nearly every gather is also a TLB miss, doubly costly under virtualization.

/// An empty vector with room for `len` floats, its pages advised to be huge before first touch.
/// Best effort: anywhere the advice is unavailable it is a plain `Vec::with_capacity`.
pub fn advised_vec(len: usize) -> Vec<f32> {
    let v: Vec<f32> = Vec::with_capacity(len);
    #[cfg(target_os = "linux")]
    advise(v.as_ptr() as usize, len * std::mem::size_of::<f32>());
    v
}

#[cfg(target_os = "linux")]
fn advise(start: usize, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < 2 * HUGE {
        return;
    }
    // madvise wants page alignment: advise the whole huge pages inside the allocation.
    let first = start.next_multiple_of(HUGE);
    let end = (start + bytes) / HUGE * HUGE;
    if end > first {
        // SAFETY: the range lies inside memory this process owns; MADV_HUGEPAGE only changes
        // how the kernel backs it, never its contents, and a failure is harmless.
        unsafe {
            libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn advised_vectors_behave_as_vectors() {
        let mut v = super::advised_vec(3 << 20);
        v.extend((0..3 << 20).map(|i| i as f32));
        assert_eq!(v.len(), 3 << 20);
        assert_eq!(v[12345], 12345.0);
    }
}
