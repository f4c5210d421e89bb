// The generated napi-rs loader, typed by the generated index.d.ts. Everything else in src/
// goes through this module, so the addon is loaded in one place.
import type * as Native from '../index.js'

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const native: typeof Native = require('../binding.js')
export type { Native }
