// Argument checks for the public API. The native layer converts JavaScript numbers with
// truncation and wrap-around (1.7 → 1, NaN → 0, -1 → 4294967295 as a u32) and never sees keys
// it does not know, so anything it would coerce or ignore is refused here, with the name of
// the argument in the message.
import { invalidArgument } from './errors.js'

const U32_MAX = 0xffffffff
const I32_MIN = -0x80000000
const I32_MAX = 0x7fffffff

/** A short, unambiguous rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (value === null) return 'null'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `the bigint ${value}n`
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`
  if (typeof value === 'object') return 'an object'
  return String(value)
}

/** A check of one option value; `name` is how the message refers to it. */
export type Check = (value: unknown, name: string) => void

/**
 * One check per key of a generated option type (index.d.ts). A table declared with
 * `satisfies ChecksOf<Native.X>` fails to compile when the napi type gains or loses a key, so
 * the table's keys, which `checkOptions` allows, are the napi type's.
 */
export type ChecksOf<T> = { [K in keyof Required<T>]: Check }

/**
 * The values of a generated string union (a `#[napi(string_enum)]`), in the order given. A
 * `Record` over the union must name each value once, so tsc keeps the list complete.
 */
export function valuesOf<T extends string>(all: Record<T, true>): T[] {
  return Object.keys(all) as T[]
}

/** `check`, or null (the option's "none", e.g. `threads: null` for all cores). */
export function nullable(check: Check): Check {
  return (value, name) => {
    if (value !== null) check(value, name)
  }
}

/** For values checked where they are converted (large id arrays are checked while copied). */
export const checkedLater: Check = () => {}

/**
 * `options` as an object with only the keys of `checks`, each value passing its check (named
 * `prefix` + key). An absent options argument and keys set to undefined count as not given,
 * so defaults apply.
 */
export function checkOptions(what: string, options: unknown, checks: Record<string, Check>, prefix = ''): void {
  if (options === undefined) return
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidArgument(`${what} must be an object (got ${describe(options)})`)
  for (const key of Object.keys(options)) {
    const check = checks[key]
    if (!check) throw invalidArgument(`${what}: unknown key \`${key}\`; allowed keys: ${Object.keys(checks).join(', ')}`)
    const value = (options as Record<string, unknown>)[key]
    if (value !== undefined) check(value, `${prefix}${key}`)
  }
}

/** A whole number in [min, max]; `max` defaults to the u32 range the native layer takes. */
export function int(min: number, max = U32_MAX): Check {
  return (value, name) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return
    const tooBig = typeof value === 'number' && value > max && value !== Infinity
    const range = max === U32_MAX && !tooBig ? `≥ ${min}` : `from ${min} to ${max}`
    throw invalidArgument(`${name} must be a whole number ${range} (got ${describe(value)})`)
  }
}

/** A finite number in [min, max]. */
export function finite(min = -Infinity, max = Infinity): Check {
  return (value, name) => {
    if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return
    if (min === -Infinity && max === Infinity) throw invalidArgument(`${name} must be a finite number (got ${describe(value)})`)
    const range = max === Infinity ? `a finite number ≥ ${min}` : min === -Infinity ? `a finite number ≤ ${max}` : `a number from ${min} to ${max}`
    throw invalidArgument(`${name} must be ${range} (got ${describe(value)})`)
  }
}

export const boolean: Check = (value, name) => {
  if (typeof value !== 'boolean') throw invalidArgument(`${name} must be true or false (got ${describe(value)})`)
}

export const string: Check = (value, name) => {
  if (typeof value !== 'string') throw invalidArgument(`${name} must be a string (got ${describe(value)})`)
}

export function oneOf(...values: string[]): Check {
  return (value, name) => {
    if (typeof value === 'string' && values.includes(value)) return
    throw invalidArgument(`${name} must be ${values.map((v) => `'${v}'`).join(' or ')} (got ${describe(value)})`)
  }
}

export const stringArray: Check = (value, name) => {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of strings (got ${describe(value)})`)
  value.forEach((v, i) => {
    if (typeof v !== 'string') throw invalidArgument(`${name}[${i}] must be a string (got ${describe(v)})`)
  })
}

/** [a, b], both passing `element`. */
export function pair(element: Check, what: string): Check {
  return (value, name) => {
    if (!Array.isArray(value) || value.length !== 2) throw invalidArgument(`${name} must be ${what} (got ${Array.isArray(value) ? `${value.length} values` : describe(value)})`)
    element(value[0], `${name}[0]`)
    element(value[1], `${name}[1]`)
  }
}

/** Whole numbers in the i32 range (years). */
export const i32 = int(I32_MIN, I32_MAX)

export const func: Check = (value, name) => {
  if (typeof value !== 'function') throw invalidArgument(`${name} must be a function (got ${describe(value)})`)
}

/** An AbortSignal, or anything with the members linkSignal uses. */
export const abortSignal: Check = (value, name) => {
  if (value instanceof AbortSignal) return
  const s = value as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null
  if (s !== null && typeof s === 'object' && typeof s.aborted === 'boolean' && typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function') return
  throw invalidArgument(`${name} must be an AbortSignal (got ${describe(value)})`)
}

/** An instance of `type` (a Dataset, a Model), by its class name in the message. */
export function instanceOf(type: abstract new (...args: never[]) => unknown): Check {
  return (value, name) => {
    if (!(value instanceof type)) throw invalidArgument(`${name} must be a ${type.name} (got ${describe(value)})`)
  }
}

/**
 * A user or movie id. The core keys ids by i64 and JavaScript numbers are exact only up to
 * 2^53, so anything but a safe integer (1.7, NaN, 2^60, '1') would be a different id there.
 */
export function checkId(name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  throw invalidArgument(`${name} must be a whole number id (a safe integer; got ${describe(value)})`)
}

function lengthOf(name: string, values: unknown, what: string): number {
  if (values === null || typeof values !== 'object') throw invalidArgument(`${name} must be an array or typed array of ${what} (got ${describe(values)})`)
  const length = (values as { length?: unknown }).length
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw invalidArgument(`${name} must be an array or typed array of ${what} (got ${describe(values)})`)
  return length
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array]

function badId(name: string, i: number, v: unknown): Error {
  return invalidArgument(`${name}[${i}] must be a whole number id (a safe integer; got ${describe(v)})`)
}

/** An array-like of ids, copied and checked in one linear pass (batch calls pass millions). */
export function checkIds(name: string, values: unknown): Float64Array {
  const n = lengthOf(name, values, 'ids')
  if (values instanceof Float64Array || values instanceof Float32Array || INTEGER_ARRAYS.some((T) => values instanceof T)) {
    // A bulk copy, then a pass over one array type that the JIT keeps monomorphic.
    const out = new Float64Array(n)
    out.set(values as ArrayLike<number>)
    if (INTEGER_ARRAYS.some((T) => values instanceof T)) return out
    for (let i = 0; i < n; i++) {
      const v = out[i] as number
      if (!Number.isSafeInteger(v)) throw badId(name, i, v)
    }
    return out
  }
  const source = values as ArrayLike<unknown>
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const v = source[i]
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badId(name, i, v)
    out[i] = v
  }
  return out
}

/** An array-like of finite ratings, checked and copied in one pass. */
export function checkRatings(name: string, values: unknown): Float32Array {
  const n = lengthOf(name, values, 'ratings')
  const source = values as ArrayLike<unknown>
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    const v = source[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidArgument(`${name}[${i}] must be a finite number (got ${describe(v)})`)
    out[i] = v
  }
  return out
}

export function checkPath(name: string, value: unknown): string {
  if (typeof value === 'string') return value
  throw invalidArgument(`${name} must be a path string (got ${describe(value)})`)
}
