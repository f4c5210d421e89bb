import { type Command } from 'commander'

import { invalidArgument } from '../../errors.js'
import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { commaList, movieRef, optionalWholeNumber, wholeNumber } from '../shared/options.js'
import { printJson, printMovies } from '../shared/output.js'

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
  return { movie: movieRef(movie), rating }
}

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
      const n = wholeNumber('--n', o.n, 1)
      const diversity = Number(o.diversity)
      const minRatings = optionalWholeNumber('--min-ratings', o.minRatings)
      const options = { n, genres: commaList(o.genres), diversity, excludeSeen: o.includeSeen !== true, ...(minRatings === undefined ? {} : { minRatings }) }
      const forNewUser = o.rate.length > 0 || o.like !== undefined
      if (forNewUser === (o.user !== undefined)) throw invalidArgument('give either --user, or --rate/--like for a new user')
      const model = await modelFrom(o)
      const recs = forNewUser
        ? model.recommendForNewUser({ ratings: o.rate.map(parseRating), genres: commaList(o.like) }, options)
        : model.recommend(Number(o.user), options)
      if (o.json) printJson({ user: o.user === undefined ? null : Number(o.user), recommendations: recs })
      else printMovies(recs, 'score')
    })
}
