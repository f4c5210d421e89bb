import { type Command } from 'commander'
import { stat } from 'node:fs/promises'
import path from 'node:path'

import { moviePopularity } from '../../experiment/data.js'
import { AlsrecError, loadModel, loadMovieLens, type Dataset } from '../../index.js'
import { wholeNumber } from '../shared/options.js'
import { fmt, formatBytes, formatTable, printJson, thousands } from '../shared/output.js'

interface InfoOptions {
  json?: boolean
  genres: string
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description("summarize a dataset folder (ratings, users, movies, scale, density, top genres) or a model file")
    .argument('<path>', 'a MovieLens folder (ratings.csv + movies.csv) or a saved model file')
    .option('--genres <n>', 'how many top genres to list', '10')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExamples:\n  $ alsrec info data/sample\n  $ alsrec info ~/.cache/alsrec/ml-latest-small --json\n  $ alsrec info runs/biased-k32/model.alsrec')
    .action(async (target: string, o: InfoOptions) => {
      const kind = await stat(target).then(
        (s) => (s.isDirectory() ? 'dir' : 'file'),
        () => {
          throw new AlsrecError('ALSREC_NOT_FOUND', `${target}: no such file or folder`)
        },
      )
      const top = wholeNumber('--genres', o.genres, 0)
      if (kind === 'dir') await datasetInfo(target, top, o.json === true)
      else await modelInfo(target, o.json === true)
    })
}

interface GenreCount {
  genre: string
  movies: number
  ratings: number
}

/** Movies per genre in the catalog and ratings per genre in the data, most rated first. */
function genreCounts(data: Dataset): GenreCount[] {
  const counts = new Map<string, GenreCount>()
  const entry = (genre: string): GenreCount => {
    let c = counts.get(genre)
    if (!c) counts.set(genre, (c = { genre, movies: 0, ratings: 0 }))
    return c
  }
  for (const m of data.catalog.movies) for (const g of m.genres) entry(g).movies++
  for (const [movieId, n] of moviePopularity(data)) for (const g of data.catalog.describe(movieId).genres) entry(g).ratings += n
  return [...counts.values()].sort((a, b) => b.ratings - a.ratings || b.movies - a.movies || a.genre.localeCompare(b.genre))
}

interface UnknownMovie {
  movieId: number
  ratings: number
  /** The first (at most 5) users who rated it, in file order. */
  users: number[]
}

/** Rated movies the catalog does not list, most rated first. */
function moviesNotInCatalog(data: Dataset): UnknownMovie[] {
  if (data.catalog.size === 0) return []
  const found = new Map<number, UnknownMovie>()
  const t = data.ratingTriplets()
  for (let j = 0; j < t.movieIds.length; j++) {
    const movieId = t.movieIds[j] ?? 0
    if (data.catalog.get(movieId) !== undefined) continue
    let m = found.get(movieId)
    if (!m) found.set(movieId, (m = { movieId, ratings: 0, users: [] }))
    m.ratings++
    if (m.users.length < 5) m.users.push(t.userIds[j] ?? 0)
  }
  return [...found.values()].sort((a, b) => b.ratings - a.ratings || a.movieId - b.movieId)
}

async function datasetInfo(dir: string, top: number, json: boolean): Promise<void> {
  const data = await loadMovieLens(dir, { onBadRow: 'skip' })
  const report = data.report
  const genres = genreCounts(data).slice(0, top)
  const unknown = moviesNotInCatalog(data)
  const warnings: string[] = []
  if (report.ratingsNotInCatalog > 0) {
    const listed = unknown
      .slice(0, 5)
      .map((m) => `movie ${m.movieId}: ${thousands(m.ratings)} rating(s), by user ${m.users.join(', ')}${m.ratings > m.users.length ? ', …' : ''}`)
      .join('; ')
    warnings.push(
      `${thousands(report.ratingsNotInCatalog)} rating(s) of ${thousands(unknown.length)} movie(s) the catalog does not list (${listed}${unknown.length > 5 ? '; …' : ''}); they are trained on unless loaded with catalogOnly: true`,
    )
  }
  if (report.rowsSkipped > 0) warnings.push(`${thousands(report.rowsSkipped)} row(s) could not be read and were skipped (${report.skippedReasons.map(([why, n]) => `${why}: ${thousands(n)}`).join('; ')})`)
  const summary = {
    kind: 'dataset' as const,
    path: dir,
    ratings: data.numRatings,
    users: data.numUsers,
    movies: data.numMovies,
    catalogMovies: data.catalog.size,
    meanRating: data.meanRating,
    minRating: report.minRating,
    maxRating: report.maxRating,
    density: report.density,
    rowsRead: report.rowsRead,
    rowsSkipped: report.rowsSkipped,
    skippedReasons: report.skippedReasons,
    duplicates: report.duplicates,
    ratingsNotInCatalog: report.ratingsNotInCatalog,
    moviesNotInCatalog: unknown,
    /** The whole load report, every count of it. */
    report,
    warnings,
    topGenres: genres,
  }
  if (json) return printJson(summary)
  const rows: Array<[string, string]> = [
    ['ratings file', `${report.ratingsFile} (${report.format}, ${formatBytes(report.bytes)})`],
    ['rows read', thousands(report.rowsRead)],
    ['rows kept', thousands(report.rowsKept)],
    ['rows skipped', thousands(summary.rowsSkipped) + summary.skippedReasons.map(([why, n]) => `; ${why}: ${thousands(n)}`).join('')],
    ['blank lines', thousands(report.blankLines)],
    ['duplicates', `${thousands(summary.duplicates)} (repeated user × movie pairs; the latest rating kept)`],
    ['filtered out', `${thousands(report.filteredRatings)} ratings, ${thousands(report.filteredUsers)} users, ${thousands(report.filteredMovies)} movies (minUserRatings / minMovieRatings)`],
    ['not in catalog', `${thousands(report.ratingsNotInCatalog)} ratings of ${thousands(unknown.length)} movies`],
    ['ratings', thousands(summary.ratings)],
    ['users', thousands(summary.users)],
    ['movies rated', thousands(summary.movies)],
    ['movies in catalog', thousands(summary.catalogMovies)],
    ['rating scale', `${summary.minRating} – ${summary.maxRating} (mean ${fmt(summary.meanRating, 3)})`],
    ['density', `${(summary.density * 100).toFixed(3)} % of the user × movie matrix`],
    ['timestamps', report.hasTimestamps ? 'yes' : 'no'],
    ['load time', `${report.seconds.toFixed(2)} s (parse ${report.parseSeconds.toFixed(2)} s)`],
  ]
  console.log(`Dataset ${dir} (${path.basename(report.ratingsFile)})`)
  console.log(formatTable(['', ''], rows, ['l', 'l']).split('\n').slice(1).map((l) => `  ${l}`).join('\n'))
  for (const w of warnings) console.error(`alsrec: warning: ${w}`)
  if (genres.length > 0) {
    console.log(`\nTop ${genres.length} genres by ratings:`)
    const total = Math.max(summary.ratings, 1)
    console.log(formatTable(['  genre', 'ratings', 'share', 'movies'], genres.map((g) => [`  ${g.genre}`, thousands(g.ratings), `${((100 * g.ratings) / total).toFixed(1)} %`, thousands(g.movies)])))
  }
}

async function modelInfo(file: string, json: boolean): Promise<void> {
  const model = await loadModel(file)
  const history = model.history
  const last = history.at(-1) ?? null
  // What the model is: under `patience` training kept its best epoch and went on a few more.
  const keptEpoch = model.keptEpoch
  const kept = history.find((h) => h.epoch === keptEpoch) ?? last
  const summary = {
    kind: 'model' as const,
    path: file,
    model: model.kind,
    factors: model.factors,
    globalMean: model.globalMean,
    catalogMovies: model.catalog.size,
    config: model.config,
    epochs: history.length,
    /** The epoch whose parameters the model holds (the best under patience, else the last). */
    keptEpoch,
    /** That epoch's record: the model's own train and test RMSE. */
    final: kept,
    last,
    history,
  }
  if (json) return printJson(summary)
  console.log(`Model ${file}`)
  console.log(`  kind ${summary.model}, k = ${summary.factors}, global mean ${fmt(summary.globalMean, 3)}, ${thousands(summary.catalogMovies)} movies in its catalog`)
  console.log(`  config ${JSON.stringify(summary.config)}`)
  if (kept && last) {
    const metrics = (h: typeof kept): string => `train RMSE ${fmt(h.trainRmse)}, test RMSE ${fmt(h.testRmse)}`
    if (kept.epoch === last.epoch) console.log(`  ${summary.epochs} epochs; kept the last: ${metrics(kept)}`)
    else console.log(`  ${summary.epochs} epochs; kept epoch ${kept.epoch} (best test RMSE, patience ${String(model.config.patience)}): ${metrics(kept)}; the last epoch trained, ${last.epoch}, had ${metrics(last)}`)
  }
}
