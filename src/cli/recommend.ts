import { type Command } from 'commander'

import { invalidArgument } from '../errors.js'
import { loadModel, loadMovieLens, samplePath, train, type Model, type Recommendation } from '../index.js'
import { formatTable } from './output.js'

/** Where a query command gets its model: a model file, or a quick training run on a folder. */
export interface ModelSourceOptions {
  model?: string
  data: string
  factors: string
  epochs: string
  json?: boolean
}

export function addModelSource(cmd: Command): Command {
  return cmd
    .option('--model <file>', 'a model file written by model.save()')
    .option('--data <dir>', 'without --model: train on this MovieLens folder first', samplePath)
    .option('--factors <k>', 'latent factors when training', '16')
    .option('--epochs <n>', 'epochs when training', '10')
    .option('--json', 'print JSON instead of a table')
}

export async function modelFrom(o: ModelSourceOptions): Promise<Model> {
  if (o.model !== undefined) return loadModel(o.model)
  const data = await loadMovieLens(o.data)
  // The default model (genre, with its ranker): what a user gets who chooses none.
  return train(data, { factors: positive('--factors', o.factors), epochs: positive('--epochs', o.epochs), seed: 42 })
}

export function positive(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw invalidArgument(`${flag} must be a whole number ≥ 1 (got '${value}')`)
  return n
}

/**
 * A list as a table: the predicted rating (on the rating scale) where the model predicts one,
 * else the score under `scoreLabel` (a preference or a cosine).
 */
export function printMovies(rows: Recommendation[], scoreLabel: string): void {
  const rated = rows.length > 0 && rows.every((r) => r.rating !== undefined)
  const value = (r: Recommendation): string => (rated ? `${(r.rating ?? 0).toFixed(2)}★` : r.score.toFixed(3))
  console.log(formatTable(['  #', 'movie', 'genres', rated ? 'predicted' : scoreLabel], rows.map((r, i) => [`  ${i + 1}`, r.title, r.genres.join('|'), value(r)])))
}

interface RecommendCliOptions extends ModelSourceOptions {
  user?: string
  rate: string[]
  like?: string
  n: string
  genres?: string
  diversity: string
  minRatings?: string
  includeSeen?: boolean
}

function parseRating(text: string): { movie: string | number; rating: number } {
  const at = text.lastIndexOf('=')
  if (at <= 0) throw invalidArgument(`--rate takes "movie=rating" (got '${text}')`)
  const movie = text.slice(0, at).trim()
  const rating = Number(text.slice(at + 1))
  if (!Number.isFinite(rating)) throw invalidArgument(`--rate: '${text.slice(at + 1)}' is not a rating`)
  return { movie: /^\d+$/.test(movie) ? Number(movie) : movie, rating }
}

const list = (s: string | undefined): string[] | undefined => (s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter((x) => x !== ''))

export function registerRecommend(program: Command): void {
  addModelSource(
    program
      .command('recommend')
      .description("top-N movies for a user, or for a new user from a few ratings (--rate) and liked genres (--like)")
      .option('--user <id>', 'a user id known to the model')
      .option('--rate <movie=rating>', 'a new user\'s rating, movie by title or id (repeatable)', (v: string, acc: string[]) => [...acc, v], [])
      .option('--like <genres>', 'a new user\'s liked genres, comma-separated')
      .option('--n <n>', 'how many movies', '10')
      .option('--genres <list>', 'only movies of these genres, comma-separated')
      .option('--diversity <w>', 'genre diversity re-ranking weight, 0 to 1', '0')
      .option('--min-ratings <n>', "only movies with at least n training ratings (default: the model's popularity floor; 0 for all)")
      .option('--include-seen', 'keep movies the user already rated'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ alsrec recommend --user 1\n  $ alsrec recommend --model movies.alsrec --rate "Toy Story (1995)=5" --rate "Heat=4" --like Comedy\n  $ alsrec recommend --model movies.alsrec --user 42 --genres Drama --diversity 0.3 --json',
    )
    .action(async (o: RecommendCliOptions) => {
      const n = positive('--n', o.n)
      const diversity = Number(o.diversity)
      const minRatings = o.minRatings === undefined ? undefined : Number(o.minRatings)
      if (minRatings !== undefined && !(Number.isInteger(minRatings) && minRatings >= 0)) throw invalidArgument(`--min-ratings must be a whole number ≥ 0 (got '${o.minRatings ?? ''}')`)
      const options = { n, genres: list(o.genres), diversity, excludeSeen: o.includeSeen !== true, ...(minRatings === undefined ? {} : { minRatings }) }
      const forNewUser = o.rate.length > 0 || o.like !== undefined
      if (forNewUser === (o.user !== undefined)) throw invalidArgument('give either --user, or --rate/--like for a new user')
      const model = await modelFrom(o)
      const recs = forNewUser
        ? model.recommendForNewUser({ ratings: o.rate.map(parseRating), genres: list(o.like) }, options)
        : model.recommend(Number(o.user), options)
      if (o.json) console.log(JSON.stringify({ user: o.user === undefined ? null : Number(o.user), recommendations: recs }, null, 2))
      else printMovies(recs, 'score')
    })
}
