import { call, callAsync, invalidArgument } from './errors.js'
import { native, type Native } from './native.js'
import { linkSignal } from './signal.js'
import { checkOptions, checkPath, describe, finite, int, string, type Check, type ChecksOf } from './validate.js'

/** What to generate (generated from the binding's `GenerateOptions`); unknown keys and values of the wrong type are rejected. */
export type GenerateOptions = Native.GenerateOptions

/** What was written, and the best RMSE any model can reach on it (generated from the binding's `GenerateReport`). */
export type GenerateReport = Native.GenerateReport

const genres: Check = (value, name) => {
  if (!Array.isArray(value)) throw invalidArgument(`${name} must be an array of [name, weight] pairs (got ${describe(value)})`)
  value.forEach((g: unknown, i) => {
    if (!Array.isArray(g) || g.length !== 2 || typeof g[0] !== 'string' || typeof g[1] !== 'number' || !Number.isFinite(g[1]))
      throw invalidArgument(`${name}[${i}] must be a [name, weight] pair, a string and a finite number (got ${describe(g)})`)
  })
}

const GENERATE_CHECKS = {
  users: int(1),
  movies: int(1),
  ratings: int(1),
  seed: int(0, Number.MAX_SAFE_INTEGER),
  factors: int(1),
  noise: finite(),
  minUserRatings: int(0),
  genres,
  catalog: string,
  threads: int(1),
} satisfies ChecksOf<Native.GenerateOptions>

function checked(outDir: string, options: GenerateOptions): GenerateOptions {
  checkPath('outDir', outDir)
  checkOptions('generate options', options, GENERATE_CHECKS)
  return options
}

/** Writes a synthetic MovieLens-format set (ratings.csv, movies.csv, truth.json) into `outDir`. */
export async function generate(outDir: string, options: GenerateOptions = {}, signal?: AbortSignal): Promise<GenerateReport> {
  const o = checked(outDir, options)
  const { token, done } = linkSignal(signal)
  try {
    return await callAsync(() => native.generate(outDir, o, token))
  } finally {
    done()
  }
}

export function generateSync(outDir: string, options: GenerateOptions = {}): GenerateReport {
  return call(() => native.generateSync(outDir, checked(outDir, options)))
}
