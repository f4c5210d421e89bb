import { type Command } from 'commander'
import { existsSync } from 'node:fs'

import { invalidArgument } from '../../errors.js'
import { loadCatalog, loadModel, loadRatings, type Catalog } from '../../index.js'
import { printJson, thousands } from '../shared/output.js'

interface UpdateOptions {
  model: string
  ratings: string
  movies?: string
  out: string
  force?: boolean
  json?: boolean
}

export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('fold new ratings into a saved model without retraining (partialFit): new users and movies get vectors, users with new ratings are refitted')
    .requiredOption('--model <file>', 'the model file to update (left as it is)')
    .requiredOption('--ratings <file>', 'the new ratings: a MovieLens ratings file (userId,movieId,rating[,timestamp])')
    .option('--movies <file>', "catalog entries of new movies (MovieLens movies.csv, movies.dat or u.item): their titles and genres, so the genre model starts them from their genres' prior")
    .requiredOption('--out <file>', 'where to write the updated model; never replaced without --force')
    .option('--force', 'replace an existing --out file')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ alsrec update --model m.alsrec --ratings new-ratings.csv --out m2.alsrec\n  $ alsrec update --model m.alsrec --ratings new-ratings.csv --movies new-movies.csv --out m2.alsrec --json',
    )
    .action(async (o: UpdateOptions) => runUpdate(o))
}

async function runUpdate(o: UpdateOptions): Promise<void> {
  if (existsSync(o.out) && o.force !== true) throw invalidArgument(`${o.out} exists; add --force to replace it`)
  const t0 = performance.now()
  const model = await loadModel(o.model)
  const data = await loadRatings(o.ratings)
  const ratings = data.ratingTriplets()
  const entries: Catalog | undefined = o.movies === undefined ? undefined : await loadCatalog(o.movies)
  const updated = await model.partialFit(ratings, entries === undefined ? {} : { movies: entries.movies })

  const knownUsers = new Set(Array.from(model.userIds()))
  const knownMovies = new Set(Array.from(model.movieIds()))
  const raters = new Set(Array.from(ratings.userIds))
  const rated = new Set(Array.from(ratings.movieIds))
  const newMovies = [...rated].filter((id) => !knownMovies.has(id))
  const unnamed = newMovies.filter((id) => updated.catalog.get(id) === undefined)
  const catalogAdded = updated.catalog.size - model.catalog.size
  // The model's own entries stay as they are: an entry for a movie it lists is not applied.
  const ignoredEntries = entries === undefined ? [] : entries.movies.filter((m) => model.catalog.get(m.movieId) !== undefined).map((m) => m.movieId)
  if (existsSync(o.out) && o.force !== true) throw invalidArgument(`${o.out} exists; add --force to replace it`)
  await updated.save(o.out)
  const summary = {
    model: o.model,
    out: o.out,
    ratings: ratings.ratings.length,
    users: { before: model.numUsers, after: updated.numUsers, new: [...raters].filter((u) => !knownUsers.has(u)).length, refitted: raters.size },
    movies: {
      before: model.numMovies,
      after: updated.numMovies,
      newRated: newMovies.length,
      catalogAdded,
      /** New rated movies with no catalog entry: no title and no genres (so no genre prior). */
      withoutEntry: unnamed,
      /** --movies entries of movies the model already lists: not applied (the model keeps its own). */
      entriesIgnored: ignoredEntries.length,
    },
    seconds: (performance.now() - t0) / 1000,
  }
  if (o.json) return printJson(summary)
  console.log(`Updated ${o.model} → ${o.out} with ${thousands(summary.ratings)} ratings in ${summary.seconds.toFixed(2)} s`)
  console.log(`  users: ${thousands(summary.users.before)} → ${thousands(summary.users.after)} (${thousands(summary.users.new)} new, ${thousands(summary.users.refitted)} refitted)`)
  console.log(`  movies: ${thousands(summary.movies.before)} → ${thousands(summary.movies.after)} (${thousands(summary.movies.newRated)} new with ratings; ${thousands(catalogAdded)} catalog entries added)`)
  if (ignoredEntries.length > 0) {
    const shown = ignoredEntries.slice(0, 5).join(', ')
    console.log(`  note: ${thousands(ignoredEntries.length)} ${ignoredEntries.length === 1 ? 'entry' : 'entries'} of ${o.movies ?? ''} named movies the model already lists (${shown}${ignoredEntries.length > 5 ? ', …' : ''}); their titles and genres were left as the model has them`)
  }
  if (unnamed.length > 0) {
    const shown = unnamed.slice(0, 5).join(', ')
    console.error(
      `alsrec: warning: ${unnamed.length} new movie(s) have no catalog entry (${shown}${unnamed.length > 5 ? ', …' : ''}): they have no title or genres${o.movies === undefined ? '; give --movies with their titles and genres' : ` in ${o.movies}`}`,
    )
  }
}
