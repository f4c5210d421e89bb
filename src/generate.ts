import { call, callAsync } from './errors.js'
import { native } from './native.js'
import { linkSignal } from './signal.js'

export interface GenerateOptions {
  users?: number
  movies?: number
  ratings?: number
  seed?: number
  /** Rank of the planted tastes. */
  factors?: number
  /** Standard deviation of the rating noise. */
  noise?: number
  minUserRatings?: number
  /** Genre names with weights, e.g. read from a real catalog. */
  genres?: Array<[string, number]>
  /** A real movies.csv whose genre mix to copy, e.g. ml-25m's. */
  catalog?: string
  threads?: number
}

export interface GenerateReport {
  users: number
  movies: number
  ratings: number
  seed: number
  factors: number
  noise: number
  globalMean: number
  /** The best test RMSE any model can reach on this data. */
  noiseFloorRmse: number
  seconds: number
}

/** Writes a synthetic MovieLens-format set (ratings.csv, movies.csv, truth.json) into `outDir`. */
export async function generate(outDir: string, options: GenerateOptions = {}, signal?: AbortSignal): Promise<GenerateReport> {
  const { token, done } = linkSignal(signal)
  try {
    return JSON.parse(await callAsync(() => native.generate(outDir, JSON.stringify(options), token))) as GenerateReport
  } finally {
    done()
  }
}

export function generateSync(outDir: string, options: GenerateOptions = {}): GenerateReport {
  return JSON.parse(call(() => native.generateSync(outDir, JSON.stringify(options)))) as GenerateReport
}
