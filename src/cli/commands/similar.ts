import { type Command } from 'commander'

import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { movieRef, optionalWholeNumber, wholeNumber } from '../shared/options.js'
import { printJson, printMovies } from '../shared/output.js'

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
      const n = wholeNumber('--n', o.n, 1)
      const minRatings = optionalWholeNumber('--min-ratings', o.minRatings)
      const model = await modelFrom(o)
      const movie = movieRef(o.movie)
      const similar = model.similarMovies(movie, { n, ...(minRatings === undefined ? {} : { minRatings }) })
      if (o.json) printJson({ movie, similar })
      else printMovies(similar, 'cosine')
    })
}
