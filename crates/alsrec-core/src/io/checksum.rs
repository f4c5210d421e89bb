//! CRC-32C (Castagnoli), the model file's checksum. x86-64 computes it with the SSE4.2 `crc32`
//! instruction (several GB/s, so a 260 MB model loads in well under a second); elsewhere a
//! slicing-by-8 table does. The pure-TypeScript reader implements the same table.

const POLY: u32 = 0x82F6_3B78; // reflected Castagnoli polynomial

const fn tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut j = 0;
        while j < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            j += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

static TABLES: [[u32; 256]; 8] = tables();

/// CRC-32C of `data` (initial value and final xor 0xFFFF_FFFF, as in iSCSI and ext4).
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c_update(0, data)
}

/// Extends a CRC-32C: `crc32c_update(crc32c(a), b) == crc32c(a ++ b)`, so a file can be
/// checksummed while it is streamed out (start from 0).
pub fn crc32c_update(crc: u32, data: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU supports SSE4.2, checked just above.
            return unsafe { crc32c_sse42(crc, data) };
        }
    }
    crc32c_table(crc, data)
}

fn crc32c_table(crc: u32, data: &[u8]) -> u32 {
    let t = &TABLES;
    let mut crc = !crc;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xFF) as usize]
            ^ t[6][((lo >> 8) & 0xFF) as usize]
            ^ t[5][((lo >> 16) & 0xFF) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xFF) as usize]
            ^ t[2][((hi >> 8) & 0xFF) as usize]
            ^ t[1][((hi >> 16) & 0xFF) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = (crc >> 8) ^ t[0][((crc ^ b as u32) & 0xFF) as usize];
    }
    !crc
}

/// # Safety
/// The CPU must support SSE4.2 (checked by the caller). Slice accesses are checked.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
unsafe fn crc32c_sse42(crc: u32, data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let mut crc = (!crc) as u64;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let word = u64::from_le_bytes(c.try_into().expect("chunk of 8"));
        crc = _mm_crc32_u64(crc, word);
    }
    let mut crc = crc as u32;
    for &b in chunks.remainder() {
        crc = _mm_crc32_u8(crc, b);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_check_value_on_both_paths() {
        // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c_table(0, b"123456789"), 0xE306_9283);
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        assert_eq!(crc32c(&data), crc32c_table(0, &data));
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn extends_incrementally_on_both_paths() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 253) as u8).collect();
        for cut in [0, 1, 7, 8, 13, 500, 1000] {
            let (a, b) = data.split_at(cut);
            assert_eq!(crc32c_update(crc32c(a), b), crc32c(&data));
            assert_eq!(crc32c_table(crc32c_table(0, a), b), crc32c(&data));
        }
    }
}
