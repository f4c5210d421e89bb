// `alsrec export-web`: the explorer as a static folder that answers in the browser (the model
// file is read by the pure-TypeScript reader in the page; the map is computed here, natively).
// Any static file server can host it; no alsrec process runs behind it.
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'

import { invalidArgument } from '../errors.js'
import { loadServedModel } from './state.js'

/**
 * The largest model file exported. The page downloads the whole file and parses it (checksum,
 * every section's checks) on the main thread before it can answer. Measured on this 2-core
 * machine under load: the reader takes 8.5 s for a 252 MiB model (k = 64, 25M ratings), about
 * 30 MiB/s, and the sample's 2.2 MiB model opens in the browser in about 1 s all told. 64 MiB
 * (ml-latest-small-sized models are a few MiB) is a download of that size plus about 2 s of
 * parsing: about what a page can ask of a visitor. Larger models belong behind `alsrec serve`.
 */
export const EXPORT_LIMIT_BYTES = 64 * 1024 * 1024

export interface ExportWebOptions {
  model: string
  out: string
  /** Replace the files of an existing non-empty folder. */
  force?: boolean
}

export interface ExportWebResult {
  out: string
  files: string[]
  modelBytes: number
  movies: number
}

export async function exportWeb(options: ExportWebOptions): Promise<ExportWebResult> {
  const size = (await stat(options.model)).size
  if (size > EXPORT_LIMIT_BYTES) {
    const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`
    throw invalidArgument(`${options.model} is ${mib(size)}; a static export reads the whole model in the visitor's browser and is usable up to ${mib(EXPORT_LIMIT_BYTES)} (docs/serve.md). Serve this model with: alsrec serve --model ${options.model}`)
  }
  const existing = await readdir(options.out).catch(() => [] as string[])
  if (existing.length > 0 && options.force !== true) throw invalidArgument(`${options.out} is not empty; add --force to write into it`)
  const served = await loadServedModel(options.model)
  const m = served.model
  const web = path.join(__dirname, '..', 'web')
  const staticScript = path.join(__dirname, '..', 'web-static', 'app.js')
  await mkdir(path.join(options.out, 'assets'), { recursive: true })
  await mkdir(path.join(options.out, 'data'), { recursive: true })
  await copyFile(path.join(web, 'index.html'), path.join(options.out, 'index.html'))
  await copyFile(path.join(web, 'app.css'), path.join(options.out, 'assets', 'app.css'))
  await copyFile(staticScript, path.join(options.out, 'assets', 'app.js'))
  await copyFile(options.model, path.join(options.out, 'data', 'model.alsrec'))
  await writeFile(path.join(options.out, 'data', 'map.bin'), served.mapBinary)
  const movies = m.catalog.movies
  const genreIndex = new Map(m.catalog.genreNames.map((g, i) => [g, i]))
  const offsets = [0]
  const indices: number[] = []
  for (const movie of movies) {
    for (const g of movie.genres) indices.push(genreIndex.get(g) ?? 0)
    offsets.push(indices.length)
  }
  const catalog = {
    ids: movies.map((x) => x.movieId),
    titles: movies.map((x) => x.title),
    years: movies.map((x) => x.year ?? 0),
    genreOffsets: offsets,
    genreIndices: indices,
    genreNames: m.catalog.genreNames,
    imdbIds: movies.map((x) => x.imdbId ?? null),
    tmdbIds: movies.map((x) => x.tmdbId ?? null),
    tagCounts: movies.map((x) => x.tagCount ?? 0),
    info: { kind: m.kind, k: m.factors, users: m.numUsers, movies: m.numMovies, genres: m.catalog.genreNames, ratingRange: m.ratingRange() },
  }
  await writeFile(path.join(options.out, 'data', 'catalog.json'), JSON.stringify(catalog))
  return { out: options.out, files: ['index.html', 'assets/app.css', 'assets/app.js', 'data/model.alsrec', 'data/map.bin', 'data/catalog.json'], modelBytes: size, movies: m.numMovies }
}
