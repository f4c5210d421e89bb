import { type Command } from 'commander'

import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { optionalWholeNumber, wholeNumber } from '../shared/options.js'
import { printJson, printMovies } from '../shared/output.js'
import { TitleResolver } from '../shared/titles.js'

interface SimilarCliOptions extends ModelSourceOptions {
  movie: string
  n: string
  minRatings?: string
  pickFirst?: boolean
}

export function registerSimilar(program: Command): void {
  addModelSource(
    program
      .command('similar')
      .description('movies nearest to a movie by cosine similarity of their vectors')
      .requiredOption('--movie <title|id>', 'the movie, by title or id')
      .option('--n <n>', 'how many movies', '10')
      .option('--min-ratings <n>', "only movies with at least this many training ratings (default: the model's popularity floor; 0 for all)")
      .option('--pick-first', 'a title that matches several movies takes the first match (the output says which) instead of failing'),
  )
    .addHelpText('after', '\nExamples:\n  $ alsrec similar --movie 1\n  $ alsrec similar --model movies.alsrec --movie "Toy Story (1995)" --min-ratings 20 --json')
    .action(async (o: SimilarCliOptions) => {
      const n = wholeNumber('--n', o.n, 1)
      const minRatings = optionalWholeNumber('--min-ratings', o.minRatings)
      const model = await modelFrom(o)
      const titles = new TitleResolver(model, o.pickFirst === true)
      const movie = titles.id(o.movie)
      const similar = model.similarMovies(movie, { n, ...(minRatings === undefined ? {} : { minRatings }) })
      if (o.json) return printJson({ movie, resolved: titles.resolved, similar })
      for (const note of titles.notes()) console.log(note)
      printMovies(similar, 'cosine')
    })
}
