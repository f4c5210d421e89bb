// CRC-32C (Castagnoli) by slicing-by-8 tables: the model file's checksum, in plain TypeScript
// so the reader runs without the native addon (browsers, edge workers).

const POLY = 0x82f63b78

const TABLES: Uint32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256))
  const t0 = t[0] as Uint32Array
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let j = 0; j < 8; j++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1
    t0[i] = c >>> 0
  }
  for (let s = 1; s < 8; s++) {
    const prev = t[s - 1] as Uint32Array
    const cur = t[s] as Uint32Array
    for (let i = 0; i < 256; i++) {
      const p = prev[i] as number
      cur[i] = ((p >>> 8) ^ (t0[p & 0xff] as number)) >>> 0
    }
  }
  return t
})()

/** CRC-32C of `bytes` (initial value and final xor 0xFFFFFFFF), as an unsigned 32-bit number. */
export function crc32c(bytes: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = 0xffffffff
  const n = bytes.length
  const end8 = n - (n % 8)
  let i = 0
  for (; i < end8; i += 8) {
    const lo = (crc ^ ((bytes[i] as number) | ((bytes[i + 1] as number) << 8) | ((bytes[i + 2] as number) << 16) | ((bytes[i + 3] as number) << 24))) >>> 0
    crc =
      (t7[lo & 0xff] as number) ^
      (t6[(lo >>> 8) & 0xff] as number) ^
      (t5[(lo >>> 16) & 0xff] as number) ^
      (t4[lo >>> 24] as number) ^
      (t3[bytes[i + 4] as number] as number) ^
      (t2[bytes[i + 5] as number] as number) ^
      (t1[bytes[i + 6] as number] as number) ^
      (t0[bytes[i + 7] as number] as number)
  }
  for (; i < n; i++) crc = (crc >>> 8) ^ (t0[(crc ^ (bytes[i] as number)) & 0xff] as number)
  return (crc ^ 0xffffffff) >>> 0
}
