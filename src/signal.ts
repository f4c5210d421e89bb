import { abortError } from './errors.js'
import { native, type Native } from './native.js'

/**
 * Bridges an AbortSignal to a native cancel token that running Rust loops poll. Returns the
 * token and a function that detaches the listener once the work has settled.
 */
export function linkSignal(signal: AbortSignal | undefined): { token: Native.CancelToken; done: () => void } {
  const token = new native.CancelToken()
  if (!signal) return { token, done: () => {} }
  if (signal.aborted) throw abortError()
  const onAbort = (): void => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  return { token, done: () => signal.removeEventListener('abort', onAbort) }
}
