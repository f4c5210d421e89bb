import test from 'ava'

import { fromNative } from '../dist/errors.js'
import { native } from '../dist/native.js'

test('a panic in a synchronous export becomes an ALSREC_INTERNAL error', (t) => {
  const err = t.throws(() => {
    try {
      native.__panicForTest('boom in sync')
    } catch (e) {
      throw fromNative(e)
    }
  })
  t.is((err as Error & { code?: string }).code, 'ALSREC_INTERNAL')
  t.regex(err?.message ?? '', /boom in sync/)
})

test('a panic inside an async task rejects instead of killing Node', async (t) => {
  const err = await t.throwsAsync(native.__panicInTaskForTest('boom in task').catch((e: unknown) => Promise.reject(fromNative(e))))
  t.is((err as Error & { code?: string }).code, 'ALSREC_INTERNAL')
  t.regex(err?.message ?? '', /boom in task/)
  // The process is alive and the addon still works.
  t.is(typeof new native.CancelToken().cancelled, 'boolean')
})
