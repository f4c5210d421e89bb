// A ratings source given on the command line: a MovieLens folder (ratings and catalog) or one
// ratings file.
import { statSync } from 'node:fs'

import { loadMovieLens, loadRatings, type Dataset } from '../../index.js'

export async function ratingsFrom(source: string): Promise<Dataset> {
  let dir = false
  try {
    dir = statSync(source).isDirectory()
  } catch {
    // Missing: the loader says so, with its code.
  }
  return dir ? loadMovieLens(source) : loadRatings(source)
}
