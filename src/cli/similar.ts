import { type Command } from 'commander'

import { invalidArgument } from '../errors.js'
import { addModelSource, modelFrom, positive, printMovies, type ModelSourceOptions } from './recommend.js'

interface SimilarCliOptions extends ModelSourceOptions {
  movie: string
  n: string
  minRatings?: string
}

export function registerSimilar(program: Command): void {
  addModelSource(
    program
      .command('similar')
      .description('movies nearest to a movie by cosine similarity of their vectors')
      .requiredOption('--movie <title|id>', 'the movie, by title or id')
      .option('--n <n>', 'how many movies', '10')
      .option('--min-ratings <n>', "only movies with at least this many training ratings (default: the model's popularity floor; 0 for all)"),
  )
    .addHelpText('after', '\nExamples:\n  $ alsrec similar --movie 1\n  $ alsrec similar --model movies.alsrec --movie "Toy Story (1995)" --min-ratings 20 --json')
    .action(async (o: SimilarCliOptions) => {
      const model = await modelFrom(o)
      const movie = /^\d+$/.test(o.movie) ? Number(o.movie) : o.movie
      const minRatings = o.minRatings === undefined ? undefined : Number(o.minRatings)
      if (minRatings !== undefined && !(Number.isInteger(minRatings) && minRatings >= 0)) throw invalidArgument(`--min-ratings must be a whole number ≥ 0 (got '${o.minRatings ?? ''}')`)
      const similar = model.similarMovies(movie, { n: positive('--n', o.n), ...(minRatings === undefined ? {} : { minRatings }) })
      if (o.json) console.log(JSON.stringify({ movie, similar }, null, 2))
      else printMovies(similar, 'cosine')
    })
}
