/** The codes of every error alsrec throws on purpose; anything else is a bug. */
export type AlsrecErrorCode =
  | 'ALSREC_INVALID_DATA'
  | 'ALSREC_INVALID_ARGUMENT'
  | 'ALSREC_NOT_FOUND'
  | 'ALSREC_IO'
  | 'ALSREC_BAD_MODEL_FILE'
  | 'ALSREC_ABORTED'
  | 'ALSREC_INTERNAL'

export class AlsrecError extends Error {
  readonly code: AlsrecErrorCode
  constructor(code: AlsrecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AlsrecError'
    this.code = code
  }
}

const CODED = /^\[(ALSREC_[A-Z_]+)\] ([\s\S]*)$/

/** The napi-rs statuses of a JavaScript value that does not convert to the Rust type. */
const NAPI_ARGUMENT_STATUSES = new Set<unknown>(['InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected', 'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected', 'ArrayBufferExpected'])

/**
 * The native layer encodes the code as a "[ALSREC_…] " message prefix (napi-rs fixes `code` to
 * its own status names); this moves it to `err.code`. Aborts become a DOMException-style
 * AbortError, as fetch and timers do.
 */
export function fromNative(err: unknown): Error {
  if (!(err instanceof Error)) return new AlsrecError('ALSREC_INTERNAL', String(err))
  const match = CODED.exec(err.message)
  // napi-rs refuses an argument it cannot convert (a value the checks in validate.ts let
  // through) with one of its own status codes: still the caller's mistake, so still coded.
  if (!match) return NAPI_ARGUMENT_STATUSES.has((err as Error & { code?: unknown }).code) ? new AlsrecError('ALSREC_INVALID_ARGUMENT', err.message, { cause: err }) : err
  const code = match[1] as AlsrecErrorCode
  const message = match[2] ?? ''
  if (code === 'ALSREC_ABORTED') return abortError(message)
  return new AlsrecError(code, message)
}

export function abortError(message = 'The operation was aborted'): Error {
  const e = new Error(message)
  e.name = 'AbortError'
  ;(e as Error & { code: string }).code = 'ABORT_ERR'
  return e
}

/** Calls a native function and rethrows its error in our shape. */
export function call<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw fromNative(err)
  }
}

/** Awaits a native promise and rethrows its error in our shape. */
export async function callAsync<T>(promise: () => Promise<T>): Promise<T> {
  try {
    return await promise()
  } catch (err) {
    throw fromNative(err)
  }
}

export function invalidArgument(message: string): AlsrecError {
  return new AlsrecError('ALSREC_INVALID_ARGUMENT', message)
}
