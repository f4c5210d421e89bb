import { existsSync } from 'node:fs'
import path from 'node:path'

// ava runs test files with the project root as working directory.
export const root = process.cwd()
export const sampleDir = path.join(root, 'data', 'sample')
/** The real MovieLens small set, beside the repository (never inside it). */
export const mlSmallDir = path.resolve(root, '..', 'shared', 'data', 'ml-latest-small')
export const hasMlSmall = existsSync(path.join(mlSmallDir, 'ratings.csv'))
export const MISSING_ML_SMALL = `skipped: ${mlSmallDir} is absent (the real ml-latest-small data lives in ../shared beside the repo)`
