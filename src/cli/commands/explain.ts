import { type Command } from 'commander'

import { addModelSource, modelFrom, type ModelSourceOptions } from '../shared/model-source.js'
import { wholeNumber } from '../shared/options.js'
import { formatTable, printJson } from '../shared/output.js'
import { TitleResolver } from '../shared/titles.js'

interface ExplainCliOptions extends ModelSourceOptions {
  user: string
  movie: string
  top: string
  pickFirst?: boolean
}

export function registerExplain(program: Command): void {
  addModelSource(
    program
      .command('explain')
      .description("a user's predicted score for a movie, split into its terms and the rated movies behind it")
      .requiredOption('--user <id>', 'a user id known to the model')
      .requiredOption('--movie <title|id>', 'the movie, by title or id')
      .option('--top <n>', 'how many contributing movies to list', '5')
      .option('--pick-first', 'a title that matches several movies takes the first match (the output says which) instead of failing'),
  )
    .addHelpText('after', '\nExamples:\n  $ alsrec explain --user 1 --movie 10\n  $ alsrec explain --model movies.alsrec --user 1 --movie "Heat (1995)" --json')
    .action(async (o: ExplainCliOptions) => {
      const model = await modelFrom(o)
      const titles = new TitleResolver(model, o.pickFirst === true)
      const e = model.explain(Number(o.user), titles.id(o.movie), { top: wholeNumber('--top', o.top, 1) })
      if (o.json) return printJson({ ...e, resolved: titles.resolved })
      for (const note of titles.notes()) console.log(note)
      console.log(`User ${e.userId} × ${e.movie.title}: predicted ${e.score.toFixed(3)}`)
      console.log(
        formatTable(
          ['  term', 'points'],
          [
            ['  global mean', e.globalMean.toFixed(3)],
            ['  user bias', e.userBias.toFixed(3)],
            ['  movie bias', e.movieBias.toFixed(3)],
            ['  genre part u·p', e.genrePart.toFixed(3)],
            ['  latent part u·(v−p)', e.latentPart.toFixed(3)],
          ],
        ),
      )
      console.log('\nRated movies that weigh most:')
      console.log(formatTable(['  movie', 'rating', 'points', 'share'], e.contributions.map((c) => [`  ${c.title}`, c.rating.toFixed(1), c.points.toFixed(3), `${(c.share * 100).toFixed(1)}%`])))
    })
}
