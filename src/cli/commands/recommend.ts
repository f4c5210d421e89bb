import { type Command } from 'commander'
import { existsSync } from 'node:fs'
import path from 'node:path'

import { AlsrecError, invalidArgument } from '../../errors.js'
import { csvCell, writeAtomicAsync } from '../../experiment/atomic.js'
import type { Model, RecommendAllResult, RecommendOptions } from '../../index.js'
import { EXIT_INTERRUPTED } from '../shared/exit-codes.js'
import { idList, parseYears } from '../shared/id-lists.js'
import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { commaList, optionalWholeNumber, wholeNumber } from '../shared/options.js'
import { printJson, printMovies, thousands } from '../shared/output.js'
import { abortOnSigint, ProgressBar } from '../shared/progress.js'
import { TitleResolver } from '../shared/titles.js'

interface RecommendCliOptions extends ModelSourceOptions {
  user?: string
  users?: string
  rate: string[]
  like?: string
  n: string
  genres?: string
  diversity: string
  minRatings?: string
  years?: string
  candidates?: string
  includeSeen?: boolean
  pickFirst?: boolean
  out?: string
  format?: string
  force?: boolean
}

type BatchFormat = 'csv' | 'jsonl'

function parseRating(text: string, titles: TitleResolver): { movie: number; rating: number } {
  const at = text.lastIndexOf('=')
  if (at <= 0) throw invalidArgument(`--rate takes "movie=rating" (got '${text}')`)
  const rating = Number(text.slice(at + 1))
  if (text.slice(at + 1).trim() === '' || !Number.isFinite(rating)) throw invalidArgument(`--rate: '${text.slice(at + 1)}' is not a rating`)
  return { movie: titles.id(text.slice(0, at).trim()), rating }
}

function diversityOf(value: string): number {
  const w = Number(value)
  if (value.trim() === '' || !Number.isFinite(w) || w < 0 || w > 1) throw invalidArgument(`--diversity must be a number from 0 to 1 (got '${value}')`)
  return w
}

/** The batch file's format: --format, else the extension of --out (.csv; .jsonl, .ndjson, .json). */
function batchFormat(out: string, format: string | undefined): BatchFormat {
  if (format !== undefined) {
    const f = format.toLowerCase()
    if (f === 'csv') return 'csv'
    if (f === 'jsonl' || f === 'ndjson' || f === 'json') return 'jsonl'
    throw invalidArgument(`--format must be csv or jsonl (got '${format}')`)
  }
  const ext = path.extname(out).toLowerCase()
  if (ext === '.csv') return 'csv'
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl'
  throw invalidArgument(`--out ${out}: give a .csv or .jsonl name, or --format csv|jsonl`)
}

export function registerRecommend(program: Command): void {
  addModelSource(
    program
      .command('recommend')
      .description("top-N movies for a user, for a new user from a few ratings (--rate) and liked genres (--like), or for many users into a file (--users … --out)")
      .option('--user <id>', 'a user id known to the model')
      .option('--rate <movie=rating>', "a new user's rating, movie by title or id (repeatable)", (v: string, acc: string[]) => [...acc, v], [])
      .option('--like <genres>', "a new user's liked genres, comma-separated")
      .option('--users <file|all>', 'batch mode: every user of the model ("all"), a file of user ids (one per line, or a CSV with a userId column) or comma-separated ids; needs --out')
      .option('--out <file>', 'batch mode: the file to write (.csv or .jsonl); never replaced without --force')
      .option('--format <csv|jsonl>', 'batch mode: the file format (default: from the --out extension)')
      .option('--force', 'batch mode: replace an existing --out file')
      .option('--n <n>', 'how many movies', '10')
      .option('--genres <list>', 'only movies of these genres, comma-separated')
      .option('--years <from-to>', 'only movies from these years, e.g. 1990-1999, 1995, 1990- or -1999 (movies without a year are left out)')
      .option('--candidates <file|ids>', 'only these movies: a file of movie ids (one per line, or a CSV with a movieId column) or comma-separated ids')
      .option('--diversity <w>', 'genre diversity re-ranking weight, 0 to 1', '0')
      .option('--min-ratings <n>', "only movies with at least n training ratings (default: the model's popularity floor; 0 for all)")
      .option('--include-seen', 'keep movies the user already rated')
      .option('--pick-first', 'a --rate title that matches several movies takes the first match (the output says which) instead of failing'),
  )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ alsrec recommend --user 1',
        '  $ alsrec recommend --model movies.alsrec --rate "Toy Story (1995)=5" --rate "Heat=4" --like Comedy',
        '  $ alsrec recommend --model movies.alsrec --user 42 --genres Drama --years 1990-1999 --min-ratings 20 --json',
        '  $ alsrec recommend --model movies.alsrec --users all --n 20 --out recs.csv',
        '  $ alsrec recommend --model movies.alsrec --users users.txt --candidates 1,2,3 --out recs.jsonl',
      ].join('\n'),
    )
    .action(async (o: RecommendCliOptions) => runRecommend(o))
}

async function runRecommend(o: RecommendCliOptions): Promise<void> {
  const n = wholeNumber('--n', o.n, 1)
  const minRatings = optionalWholeNumber('--min-ratings', o.minRatings)
  const years = o.years === undefined ? undefined : parseYears('--years', o.years)
  const candidates = o.candidates === undefined ? undefined : await idList('--candidates', o.candidates, 'movieId')
  const options: RecommendOptions = {
    n,
    diversity: diversityOf(o.diversity),
    excludeSeen: o.includeSeen !== true,
    ...(o.genres === undefined ? {} : { genres: commaList(o.genres) ?? [] }),
    ...(minRatings === undefined ? {} : { minRatings }),
    ...(years === undefined ? {} : { years }),
    ...(candidates === undefined ? {} : { candidates }),
  }
  const forNewUser = o.rate.length > 0 || o.like !== undefined
  const modes = [forNewUser, o.user !== undefined, o.users !== undefined].filter(Boolean).length
  if (modes !== 1) throw invalidArgument('give one of --user, --rate/--like (a new user) or --users (batch)')
  if (o.users === undefined && (o.out !== undefined || o.format !== undefined || o.force === true)) throw invalidArgument('--out, --format and --force go with --users (batch mode)')
  if (o.users !== undefined) return runBatch(o, options)

  const model = await modelFrom(o)
  const titles = new TitleResolver(model, o.pickFirst === true)
  let userId: number | null = null
  let recs
  if (forNewUser) {
    const ratings = o.rate.map((r) => parseRating(r, titles))
    recs = model.recommendForNewUser({ ratings, genres: commaList(o.like) }, options)
  } else {
    userId = userIdOf(o.user ?? '')
    recs = model.recommend(userId, options)
  }
  if (o.json) return printJson({ user: userId, resolved: titles.resolved, recommendations: recs })
  for (const note of titles.notes()) console.log(note)
  printMovies(recs, 'score')
}

function userIdOf(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw invalidArgument(`--user must be a user id, a whole number ≥ 0 (got '${text}')`)
  return Number(text)
}

/** Users per recommendMany call: small enough for a smooth progress bar, large enough for the blocked product. */
const CHUNK = 1024

async function runBatch(o: RecommendCliOptions, options: RecommendOptions): Promise<void> {
  if (o.out === undefined) throw invalidArgument('--users needs --out <file> (.csv or .jsonl)')
  const out = o.out
  const format = batchFormat(out, o.format)
  if (existsSync(out) && o.force !== true) throw invalidArgument(`${out} exists; add --force to replace it`)
  const model = await modelFrom(o)
  const users = o.users === 'all' ? Array.from(model.userIds()) : await idList('--users', o.users ?? '', 'userId')
  const sigint = abortOnSigint()
  const bar = new ProgressBar(process.stderr.isTTY === true && o.json !== true)
  let rows = 0
  let short = 0
  // Streamed to the temp file chunk by chunk (memory stays one chunk's lists at any size), then
  // renamed over `out` only when every list is written.
  const fill = async (write: (piece: string) => Promise<void>): Promise<void> => {
    if (format === 'csv') await write('userId,rank,movieId,title,year,genres,score,rating\n')
    for (let start = 0; start < users.length; start += CHUNK) {
      const chunk = users.slice(start, start + CHUNK)
      const lists = await model.recommendMany(chunk, { ...options, signal: sigint.signal })
      const written = render(model, lists, format)
      await write(written.text)
      rows += written.rows
      short += written.short
      const done = Math.min(users.length, start + CHUNK)
      bar.update('recommend', done / users.length, `${thousands(done)}/${thousands(users.length)} users`, done === users.length)
    }
    // Checked again: the file may have appeared while the lists were computed.
    if (existsSync(out) && o.force !== true) throw invalidArgument(`${out} exists; add --force to replace it`)
  }
  try {
    await writeAtomicAsync(out, fill)
  } catch (err) {
    bar.done()
    if (sigint.interrupted()) {
      process.exitCode = EXIT_INTERRUPTED
      console.error(`alsrec: interrupted; ${out} was not written`)
      return
    }
    if (err instanceof AlsrecError) throw err
    const e = err as NodeJS.ErrnoException
    throw new AlsrecError('ALSREC_IO', `cannot write ${out}: ${e.message}`)
  } finally {
    sigint.dispose()
  }
  bar.done()
  const summary = { out, format, users: users.length, n: options.n ?? 10, rows, shortLists: short }
  if (o.json) return printJson(summary)
  const shortNote = short > 0 ? ` (${thousands(short)} users had fewer than ${summary.n} candidates)` : ''
  console.log(`Wrote ${thousands(rows)} recommendations for ${thousands(users.length)} users to ${out} (${format})${shortNote}`)
}

const f32 = (x: number): number => Number(x.toPrecision(7))

/** One chunk of lists as CSV rows or JSON lines; NaN padding of short lists is left out. */
function render(model: Model, lists: RecommendAllResult, format: BatchFormat): { text: string; rows: number; short: number } {
  const lines: string[] = []
  let rows = 0
  let short = 0
  const n = lists.n
  for (let r = 0; r < lists.userIds.length; r++) {
    const userId = lists.userIds[r] ?? 0
    const recs: Array<{ rank: number; movieId: number; title: string; year: number | null; genres: string[]; score: number; rating: number | null }> = []
    for (let j = 0; j < n; j++) {
      const movieId = lists.movieIds[r * n + j] ?? Number.NaN
      if (Number.isNaN(movieId)) continue
      const m = model.catalog.describe(movieId)
      const rating = lists.ratings[r * n + j] ?? Number.NaN
      // f32 values, written with the 7 significant digits they hold.
      recs.push({ rank: recs.length + 1, movieId, title: m.title, year: m.year, genres: m.genres, score: f32(lists.scores[r * n + j] ?? Number.NaN), rating: Number.isNaN(rating) ? null : f32(rating) })
    }
    if (recs.length < n) short++
    rows += recs.length
    if (format === 'jsonl') lines.push(`${JSON.stringify({ userId, recommendations: recs })}\n`)
    else for (const x of recs) lines.push(`${[userId, x.rank, x.movieId, csvCell(x.title), x.year ?? '', csvCell(x.genres.join('|')), x.score, x.rating ?? ''].join(',')}\n`)
  }
  return { text: lines.join(''), rows, short }
}
