// A strict, typed JSON reader for the model header that accepts exactly what the native loader's
// serde_json (1.x with `float_roundtrip`) + serde derive accept, byte for byte:
//
// - the grammar of RFC 8259 (no BOM, no trailing commas, only ' ', \t, \n, \r as whitespace);
// - numbers are typed the way serde_json types them: an integer literal is u64 (≤ 2^64 − 1) or,
//   negative, i64 (≥ −2^63); `-0`, a fraction, an exponent or a longer integer is a float, so
//   `1.0`, `1e3` and `-0` are not integers; integer targets check their range (usize/u64, i64,
//   i32, u32, u16); an f64 target refuses a literal that overflows to ±∞, an f32 target parses
//   the literal straight to f32 (correctly rounded, refused if it overflows);
// - strings that are read (keys of typed objects, string values) must be valid UTF-8 with paired
//   \u surrogates; strings inside ignored values only need valid escapes (no control bytes);
// - structs accept both serde forms, an object `{"key": …}` and a sequence `[v1, v2, …]` in field
//   order; a repeated field is refused; unknown keys are ignored unless the struct denies them;
//   missing fields take the field default, else the container default, else (objects only)
//   null for Option fields, else are refused;
// - unit enums accept `"variant"` and `{"variant": null}`.
// Ignored values are skipped iteratively (serde_json puts no depth limit on them), so no input
// can overflow the stack; typed values are at most six levels deep.
//
// Every failure is a JsonError; the caller turns it into ALSREC_BAD_MODEL_FILE.

export class JsonError extends Error {}

/** An i64: a number when it lies in [−2^53, 2^53), where doubles are exact, else a bigint. */
export type Id = number | bigint

const U64_MAX = 18446744073709551615n
const I64_MIN = -9223372036854775808n
const I64_MAX = 9223372036854775807n

/** The same i64 → key rule everywhere, so ids from the header and from sections compare equal. */
export function idKey(v: bigint): Id {
  return v >= -9007199254740992n && v < 9007199254740992n ? Number(v) : v
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const ASCII = new TextDecoder('utf-8')
/** A single-byte decoding (windows-1252), where a character's index is its byte's offset: ASCII
 * runs are then sliced from it instead of decoded one by one. Null where the engine lacks it. */
const SINGLE_BYTE: { decode(bytes: Uint8Array): string } | null = (() => {
  try {
    return new TextDecoder('latin1')
  } catch {
    return null
  }
})()

const enum C {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Plus = 0x2b,
  Comma = 0x2c,
  Minus = 0x2d,
  Dot = 0x2e,
  Slash = 0x2f,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  E = 0x45,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  LowerE = 0x65,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

/** A number literal as serde_json classifies it. */
interface NumberLiteral {
  text: string
  negative: boolean
  /** The digits before any '.', without the sign. */
  int: string
  /** The digits after '.', or ''. */
  frac: string
  /** The exponent's text (sign included), or null. */
  exp: string | null
  /** serde_json's ParserNumber: U64, I64, or F64 (`-0`, fractions, exponents, > 64-bit integers). */
  kind: 'u64' | 'i64' | 'f64'
}

/** A field of a struct: its JSON key, how to read it, and what it is when missing. */
export interface Field {
  key: string
  read: (r: JsonReader) => unknown
  /** `#[serde(default)]` on the field. */
  fieldDefault?: () => unknown
  /** An `Option<T>` without `with`: missing in an object means null. */
  option?: boolean
}

export interface StructSpec {
  name: string
  fields: readonly Field[]
  /** `#[serde(deny_unknown_fields)]`. */
  denyUnknown?: boolean
  /** `#[serde(default)]` on the container: the struct's Default, read field by field. */
  defaults?: () => Record<string, unknown>
}

const F32 = new Float32Array(1)
const F32_BITS = new Uint32Array(F32.buffer)
const F64 = new Float64Array(1)
const F64_BITS = new Uint32Array(F64.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const F32_MAX = 3.4028234663852886e38
const TWO128 = 3.402823669209385e38

function f32Bits(x: number): number {
  F32[0] = x
  return F32_BITS[0] as number
}

function f32FromBits(bits: number): number {
  F32_BITS[0] = bits >>> 0
  return F32[0] as number
}

/** A positive finite double as mantissa · 2^exponent (integers). */
function decompose(x: number): [bigint, number] {
  F64[0] = x
  const lo = F64_BITS[LITTLE_ENDIAN ? 0 : 1] as number
  const hi = F64_BITS[LITTLE_ENDIAN ? 1 : 0] as number
  const e = (hi >>> 20) & 0x7ff
  const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  return e === 0 ? [mant, -1074] : [mant | (1n << 52n), e - 1075]
}

/** Compares |literal| with a positive double exactly: −1, 0 or 1. */
function compareExact(lit: NumberLiteral, m: number): number {
  let digits = (lit.int + lit.frac).replace(/^0+/, '')
  let e10 = (lit.exp === null ? 0 : Number(lit.exp)) - lit.frac.length
  const trimmed = digits.replace(/0+$/, '')
  e10 += digits.length - trimmed.length
  digits = trimmed
  if (digits === '') return -1
  const [mant, e2] = decompose(m)
  let left = BigInt(digits)
  let right = mant
  if (e10 >= 0) left *= 10n ** BigInt(e10)
  else right *= 10n ** BigInt(-e10)
  if (e2 >= 0) right <<= BigInt(e2)
  else left <<= BigInt(-e2)
  return left < right ? -1 : left > right ? 1 : 0
}

/**
 * The literal rounded once to f32 (round half to even), as Rust's `as f32` from an integer and
 * serde_json's single-precision float parser do; ±Infinity when it overflows. The double
 * nearest to the literal rounds to the same f32 unless it is exactly halfway between two f32s:
 * only then is the literal compared with that midpoint exactly.
 */
function roundToF32(lit: NumberLiteral): number {
  const d = Number(lit.text)
  const a = Math.abs(d)
  const fa = Math.fround(a)
  if (fa === a || !Number.isFinite(a)) return Math.fround(d)
  let lo: number
  let hi: number
  if (fa === Infinity) {
    lo = F32_MAX
    hi = TWO128
  } else if (fa > a) {
    hi = fa
    lo = f32FromBits(f32Bits(fa) - 1)
  } else {
    lo = fa
    hi = fa === F32_MAX ? TWO128 : f32FromBits(f32Bits(fa) + 1)
  }
  const mid = (lo + hi) / 2
  let r = fa
  if (a === mid && Math.abs((lit.exp === null ? 0 : Number(lit.exp)) - lit.frac.length) < 1e6) {
    const c = compareExact(lit, mid)
    const even = hi === TWO128 ? TWO128 : (f32Bits(lo) & 1) === 0 ? lo : hi
    r = c < 0 ? lo : c > 0 ? hi : even
    if (r === TWO128) r = Infinity
  }
  return lit.negative ? -r : r
}

/** An integer target's range, as bigints and as numbers (for literals of ≤ 15 digits). */
interface Range {
  what: string
  min: bigint
  max: bigint
  minN: number
  maxN: number
}
const range = (what: string, min: bigint, max: bigint): Range => ({ what, min, max, minN: min < -1e15 ? -Infinity : Number(min), maxN: max > 1e15 ? Infinity : Number(max) })
const USIZE = range('usize', 0n, U64_MAX)
const U32 = range('u32', 0n, 4294967295n)
const U16 = range('u16', 0n, 65535n)
const I32 = range('i32', -2147483648n, 2147483647n)
const I64 = range('i64', I64_MIN, I64_MAX)

/** A cursor over the header's bytes. */
export class JsonReader {
  private i = 0
  /** The value of the last number scanned when `number()` returned null (a short integer). */
  private small = 0
  private readonly src: string | null
  constructor(private readonly b: Uint8Array) {
    this.src = SINGLE_BYTE === null ? null : SINGLE_BYTE.decode(b)
  }

  fail(message: string): never {
    throw new JsonError(`${message} at byte ${this.i}`)
  }

  /** Skips whitespace; the next byte, or -1 at the end. */
  peek(): number {
    const b = this.b
    let i = this.i
    while (i < b.length) {
      const c = b[i] as number
      if (c !== C.Space && c !== C.Lf && c !== C.Cr && c !== C.Tab) break
      i++
    }
    this.i = i
    return i < b.length ? (b[i] as number) : -1
  }

  private expect(byte: number, what: string): void {
    if (this.peek() !== byte) this.fail(`expected ${what}`)
    this.i++
  }

  /** Only whitespace may follow the value. */
  end(): void {
    if (this.peek() !== -1) this.fail('trailing characters')
  }

  private ident(word: string): void {
    for (let j = 0; j < word.length; j++) {
      if (this.b[this.i] !== word.charCodeAt(j)) this.fail(`expected '${word}'`)
      this.i++
    }
  }

  /** `deserialize_option`: consumes a null and says so. */
  null(): boolean {
    if (this.peek() !== 0x6e) return false
    this.ident('null')
    return true
  }

  bool(): boolean {
    const c = this.peek()
    if (c === 0x74) {
      this.ident('true')
      return true
    }
    if (c === 0x66) {
      this.ident('false')
      return false
    }
    return this.fail('invalid type: expected a boolean')
  }

  /** A string value or key: valid UTF-8, escapes decoded, surrogates paired. */
  string(): string {
    if (this.peek() !== C.Quote) this.fail('invalid type: expected a string')
    this.i++
    const b = this.b
    let out = ''
    let start = this.i
    let ascii = true
    for (;;) {
      if (this.i >= b.length) this.fail('EOF while parsing a string')
      const c = b[this.i] as number
      if (c === C.Quote || c === C.Backslash) {
        out += this.text(start, this.i, ascii)
        this.i++
        if (c === C.Quote) return out
        out += this.escape()
        start = this.i
        ascii = true
        continue
      }
      if (c < 0x20) this.fail('control character while parsing a string')
      if (c >= 0x80) ascii = false
      this.i++
    }
  }

  /** Raw string bytes as text: they must be valid UTF-8 (as `str::from_utf8`). */
  private text(start: number, end: number, ascii: boolean): string {
    if (end === start) return ''
    if (ascii && this.src !== null) return this.src.slice(start, end)
    const bytes = this.b.subarray(start, end)
    try {
      return UTF8.decode(bytes)
    } catch {
      return this.fail('invalid unicode code point')
    }
  }

  private hex4(): number {
    if (this.i + 4 > this.b.length) this.fail('EOF while parsing a string')
    let v = 0
    for (let j = 0; j < 4; j++) {
      const c = this.b[this.i + j] as number
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1
      if (d < 0) this.fail('invalid escape')
      v = v * 16 + d
    }
    this.i += 4
    return v
  }

  /** One escape after its backslash, as serde_json's `parse_escape` with validation. */
  private escape(): string {
    const c = this.b[this.i]
    this.i++
    switch (c) {
      case C.Quote:
        return '"'
      case C.Backslash:
        return '\\'
      case C.Slash:
        return '/'
      case 0x62:
        return '\b'
      case 0x66:
        return '\f'
      case 0x6e:
        return '\n'
      case 0x72:
        return '\r'
      case 0x74:
        return '\t'
      case 0x75: {
        const n = this.hex4()
        if (n >= 0xdc00 && n <= 0xdfff) this.fail('lone leading surrogate in hex escape')
        if (n < 0xd800 || n > 0xdbff) return String.fromCharCode(n)
        if (this.b[this.i] !== C.Backslash || this.b[this.i + 1] !== 0x75) this.fail('unexpected end of hex escape')
        this.i += 2
        const n2 = this.hex4()
        if (n2 < 0xdc00 || n2 > 0xdfff) this.fail('lone leading surrogate in hex escape')
        return String.fromCharCode(n, n2)
      }
      default:
        return c === undefined ? this.fail('EOF while parsing a string') : this.fail('invalid escape')
    }
  }

  /** Skips a string (after its opening quote) as `ignore_str`: escapes checked, bytes not. */
  private skipString(): void {
    const b = this.b
    for (;;) {
      if (this.i >= b.length) this.fail('EOF while parsing a string')
      const c = b[this.i] as number
      this.i++
      if (c === C.Quote) return
      if (c < 0x20) this.fail('control character while parsing a string')
      if (c !== C.Backslash) continue
      const e = b[this.i]
      this.i++
      if (e === 0x75) this.hex4()
      else if (!(e === C.Quote || e === C.Backslash || e === C.Slash || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) this.fail('invalid escape')
    }
  }

  private digits(): number {
    const start = this.i
    while (this.i < this.b.length && (this.b[this.i] as number) >= C.Zero && (this.b[this.i] as number) <= C.Nine) this.i++
    return this.i - start
  }

  /** Scans a number literal with serde_json's grammar. */
  private number(): NumberLiteral | null {
    const b = this.b
    const start = this.i
    const negative = b[this.i] === C.Minus
    if (negative) this.i++
    const intStart = this.i
    const first = b[this.i]
    if (first === C.Zero) {
      this.i++
      const next = b[this.i]
      if (next !== undefined && next >= C.Zero && next <= C.Nine) this.fail('invalid number')
    } else if (first !== undefined && first >= 0x31 && first <= C.Nine) {
      this.digits()
    } else {
      this.fail('invalid number')
    }
    const intEnd = this.i
    let fracStart = this.i
    let fracEnd = this.i
    if (b[this.i] === C.Dot) {
      this.i++
      fracStart = this.i
      if (this.digits() === 0) this.fail('invalid number')
      fracEnd = this.i
    }
    let expStart = -1
    if (b[this.i] === C.LowerE || b[this.i] === C.E) {
      this.i++
      expStart = this.i
      if (b[this.i] === C.Plus || b[this.i] === C.Minus) this.i++
      if (this.digits() === 0) this.fail('invalid number')
    }
    const integer = fracStart === intEnd && expStart < 0
    const intLen = intEnd - intStart
    if (integer && intLen <= 15) {
      // The common case, without strings or objects: an integer a double holds exactly (`-0`,
      // a float to serde_json, is -0 here).
      let v = 0
      for (let j = intStart; j < intEnd; j++) v = v * 10 + ((b[j] as number) - C.Zero)
      this.small = negative ? -v : v
      return null
    }
    const text = ASCII.decode(b.subarray(start, this.i))
    const int = text.slice(intStart - start, intEnd - start)
    const frac = fracStart === intEnd ? '' : text.slice(fracStart - start, fracEnd - start)
    const exp = expStart < 0 ? null : text.slice(expStart - start)
    let kind: NumberLiteral['kind'] = 'f64'
    if (integer && intLen <= 20) {
      const mag = BigInt(int)
      // Above 2^64 − 1 an integer becomes a float; so does one below −2^63.
      if (!negative) kind = mag <= U64_MAX ? 'u64' : 'f64'
      else kind = -mag >= I64_MIN ? 'i64' : 'f64'
    }
    return { text, negative, int, frac, exp, kind }
  }

  /** A number literal, or null for an integer of at most 15 digits, whose value is in `small`. */
  private numberLiteral(what: string): NumberLiteral | null {
    const c = this.peek()
    if (c !== C.Minus && !(c >= C.Zero && c <= C.Nine)) this.fail(`invalid type: expected ${what}`)
    return this.number()
  }

  /** An integer target: the literal must be an integer (U64 or I64) within the range. */
  private integer(r: Range): bigint | number {
    const lit = this.numberLiteral(r.what)
    if (lit === null) {
      const v = this.small
      if (Object.is(v, -0)) this.fail(`invalid type: floating point \`-0\`, expected ${r.what}`)
      if (v < r.minN || v > r.maxN) this.fail(`invalid value: integer \`${v}\`, expected ${r.what}`)
      return v
    }
    if (lit.kind === 'f64') this.fail(`invalid type: floating point \`${lit.text}\`, expected ${r.what}`)
    const v = lit.negative ? -BigInt(lit.int) : BigInt(lit.int)
    if (v < r.min || v > r.max) this.fail(`invalid value: integer \`${lit.text}\`, expected ${r.what}`)
    return v
  }

  /** usize/u64: a number, exact up to 2^53 (larger values only ever fail later checks). */
  usize(): number {
    return Number(this.integer(USIZE))
  }

  u32(): number {
    return Number(this.integer(U32))
  }

  u16(): number {
    return Number(this.integer(U16))
  }

  i32(): number {
    return Number(this.integer(I32))
  }

  i64(): Id {
    const v = this.integer(I64)
    return typeof v === 'number' ? v : idKey(v)
  }

  /** f64: any number; a float literal that overflows is refused (`NumberOutOfRange`). */
  f64(): number {
    const lit = this.numberLiteral('f64')
    if (lit === null) return this.small
    const v = Number(lit.text)
    if (!Number.isFinite(v)) this.fail('number out of range')
    return v
  }

  /** f32: the literal rounded once to f32 (overflow refused), except that a negative integer
   * below −2^63 is first a double (serde_json's `-(significand as f64)`), then rounded. */
  f32(): number {
    const lit = this.numberLiteral('f32')
    // An exact double rounds to f32 once.
    if (lit === null) return Math.fround(this.small)
    let v: number
    if (lit.kind === 'f64' && lit.negative && lit.frac === '' && lit.exp === null && lit.int.length <= 20 && BigInt(lit.int) <= U64_MAX) v = Math.fround(Number(lit.text))
    else v = roundToF32(lit)
    if (!Number.isFinite(v)) this.fail('number out of range')
    return v
  }

  /** `Vec<T>`: a JSON array. */
  seq<T>(read: (r: JsonReader) => T): T[] {
    if (this.peek() !== C.OpenBracket) this.fail('invalid type: expected a sequence')
    this.i++
    const out: T[] = []
    if (this.peek() === C.CloseBracket) {
      this.i++
      return out
    }
    for (;;) {
      out.push(read(this))
      const c = this.peek()
      if (c === C.Comma) {
        this.i++
        if (this.peek() === C.CloseBracket) this.fail('trailing comma')
        continue
      }
      if (c === C.CloseBracket) {
        this.i++
        return out
      }
      this.fail('expected `,` or `]`')
    }
  }

  /** A tuple `(A, B)`: an array of exactly two values. */
  pair<A, B>(a: (r: JsonReader) => A, b: (r: JsonReader) => B): [A, B] {
    if (this.peek() !== C.OpenBracket) this.fail('invalid type: expected a tuple')
    this.i++
    if (this.peek() === C.CloseBracket) this.fail('invalid length 0, expected a tuple of size 2')
    const x = a(this)
    if (this.peek() !== C.Comma) this.fail('invalid length 1, expected a tuple of size 2')
    this.i++
    if (this.peek() === C.CloseBracket) this.fail('trailing comma')
    const y = b(this)
    this.expect(C.CloseBracket, '`]` after a tuple of size 2')
    return [x, y]
  }

  /** A unit-only enum: `"name"` or `{"name": null}`. */
  variant<T extends string>(names: readonly T[]): T {
    const c = this.peek()
    if (c === C.OpenBrace) {
      this.i++
      this.peek()
      const name = this.string()
      if (!names.includes(name as T)) this.fail(`unknown variant \`${name}\``)
      this.expect(C.Colon, '`:`')
      if (!this.null()) this.fail('invalid type: expected unit')
      this.expect(C.CloseBrace, '`}`')
      return name as T
    }
    if (c !== C.Quote) this.fail('expected a string or an object for an enum')
    const name = this.string()
    if (!names.includes(name as T)) this.fail(`unknown variant \`${name}\``)
    return name as T
  }

  /** A struct in either serde form, with serde derive's rules for missing and repeated fields. */
  struct(spec: StructSpec): Record<string, unknown> {
    const c = this.peek()
    const out: Record<string, unknown> = {}
    let defaults: Record<string, unknown> | null = null
    const missing = (f: Field, inObject: boolean): unknown => {
      if (f.fieldDefault) return f.fieldDefault()
      if (spec.defaults) {
        defaults ??= spec.defaults()
        return defaults[f.key]
      }
      if (inObject && f.option) return null
      return this.fail(inObject ? `missing field \`${f.key}\` in ${spec.name}` : `invalid length, expected struct ${spec.name}`)
    }
    if (c === C.OpenBracket) {
      this.i++
      let open = true
      spec.fields.forEach((f, index) => {
        if (open) {
          const p = this.peek()
          if (p === C.CloseBracket) open = false
          else if (index > 0) {
            if (p !== C.Comma) this.fail('expected `,` or `]`')
            this.i++
            if (this.peek() === C.CloseBracket) this.fail('trailing comma')
          }
        }
        out[f.key] = open ? f.read(this) : missing(f, false)
      })
      const p = this.peek()
      if (p === C.Comma) this.fail(`trailing characters (more than ${spec.fields.length} elements for ${spec.name})`)
      this.expect(C.CloseBracket, '`]`')
      return out
    }
    if (c !== C.OpenBrace) this.fail(`invalid type: expected struct ${spec.name}`)
    this.i++
    const byKey = new Map(spec.fields.map((f) => [f.key, f]))
    const values = new Map<string, unknown>()
    if (this.peek() === C.CloseBrace) this.i++
    else {
      for (;;) {
        if (this.peek() !== C.Quote) this.fail('key must be a string')
        const key = this.string()
        this.expect(C.Colon, '`:`')
        const f = byKey.get(key)
        if (f === undefined) {
          if (spec.denyUnknown) this.fail(`unknown field \`${key}\`, expected one of ${spec.fields.map((x) => `\`${x.key}\``).join(', ')}`)
          this.ignore()
        } else {
          if (values.has(key)) this.fail(`duplicate field \`${key}\``)
          values.set(key, f.read(this))
        }
        const p = this.peek()
        if (p === C.Comma) {
          this.i++
          continue
        }
        if (p === C.CloseBrace) {
          this.i++
          break
        }
        this.fail('expected `,` or `}`')
      }
    }
    // In declared order, as the struct serializes.
    for (const f of spec.fields) out[f.key] = values.has(f.key) ? values.get(f.key) : missing(f, true)
    return out
  }

  /** Skips any value, as serde_json's `ignore_value`: without recursion or depth limit. */
  ignore(): void {
    const stack: number[] = []
    for (;;) {
      // A value starts here.
      const c = this.peek()
      let done = true
      if (c === 0x6e) this.ident('null')
      else if (c === 0x74) this.ident('true')
      else if (c === 0x66) this.ident('false')
      else if (c === C.Minus || (c >= C.Zero && c <= C.Nine)) this.number()
      else if (c === C.Quote) {
        this.i++
        this.skipString()
      } else if (c === C.OpenBracket || c === C.OpenBrace) {
        this.i++
        const close = c === C.OpenBracket ? C.CloseBracket : C.CloseBrace
        if (this.peek() === close) this.i++
        else {
          stack.push(c)
          if (c === C.OpenBrace) this.skipKey()
          done = false
        }
      } else this.fail('expected a value')
      if (!done) continue
      // The value is complete: close what ends here, or move to the next element.
      for (;;) {
        const top = stack[stack.length - 1]
        if (top === undefined) return
        const p = this.peek()
        if (p === C.Comma) {
          this.i++
          if (top === C.OpenBrace) this.skipKey()
          break
        }
        if (p === (top === C.OpenBracket ? C.CloseBracket : C.CloseBrace)) {
          this.i++
          stack.pop()
          continue
        }
        this.fail(top === C.OpenBracket ? 'expected `,` or `]`' : 'expected `,` or `}`')
      }
    }
  }

  private skipKey(): void {
    if (this.peek() !== C.Quote) this.fail('key must be a string')
    this.i++
    this.skipString()
    this.expect(C.Colon, '`:`')
  }
}
