// `alsrec update` and partialFit with catalog entries (issue 18, item 11): a new movie with
// genres gets the genre prior (a non-zero genre part in explain) and its title in lists.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, loadCatalogSync, loadModelSync, loadMovieLensSync, trainSync } from '../dist/index.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-update-'))
const modelFile = path.join(dir, 'm.alsrec')
const data = loadMovieLensSync(sampleDir)
trainSync(data, { model: 'genre', factors: 8, epochs: 4 }).saveSync(modelFile)
const model = loadModelSync(modelFile)
const users = Array.from(model.userIds()).slice(0, 40)
const NEW = 888888

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), ...args], { encoding: 'utf8', timeout: 120_000 })
}

const ratingsCsv = `userId,movieId,rating,timestamp\n${users.map((u) => `${u},${NEW},5,1700000000`).join('\n')}\n990001,${NEW},4.5,1700000000\n990001,${model.catalog.movies[0]?.movieId},3,1700000000\n`
const newRatings = path.join(dir, 'new-ratings.csv')
writeFileSync(newRatings, ratingsCsv)
const moviesCsv = path.join(dir, 'new-movies.csv')
writeFileSync(moviesCsv, `movieId,title,genres\n${NEW},"Comet Over Lisbon, The (2026)",Comedy|Drama\n888889,Quiet Harbour (2026),Drama\n`)

test('partialFit with movies: titles, genres, a genre prior, and the title in lists', async (t) => {
  const ratings = { userIds: users, movieIds: users.map(() => NEW), ratings: users.map(() => 5) }
  const movies = loadCatalogSync(moviesCsv).movies
  t.is(movies.length, 2)
  const grown = await model.partialFit(ratings, { movies })
  const entry = grown.catalog.get(NEW)
  t.deepEqual([entry?.title, entry?.year, entry?.genres], ['Comet Over Lisbon, The (2026)', 2026, ['Comedy', 'Drama']])
  const e = grown.explain(users[0] ?? 0, NEW)
  t.true(Math.abs(e.genrePart) > 1e-4, `genre part ${e.genrePart}`)
  const other = model.userIds()[100] ?? 0
  const list = grown.recommend(other, { candidates: [NEW], minRatings: 0 })
  t.deepEqual(
    list.map((r) => r.title),
    ['Comet Over Lisbon, The (2026)'],
  )
  // The unrated listed movie joins too, found by title.
  t.is(grown.catalog.findOne('Quiet Harbour').movieId, 888889)
  t.true(Array.from(grown.movieIds()).includes(888889))
  // Without entries the movie has no title and no genre part: what the movies file fixes.
  const bare = model.partialFitSync(ratings)
  t.is(bare.catalog.describe(NEW).title, `movie ${NEW}`)
  t.is(bare.explain(users[0] ?? 0, NEW).genrePart, 0)
  // Checked: an unknown genre, a bad entry.
  const polka = await t.throwsAsync(model.partialFit(ratings, { movies: [{ movieId: NEW, title: 'Polka (2026)', genres: ['Polka'] }] }), { instanceOf: AlsrecError })
  t.is(polka?.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(polka?.message ?? '', /movie 888888.*unknown genre 'Polka'/)
  t.throws(() => model.partialFitSync(ratings, { movies: [{ movieId: -1, title: 'x', genres: [] }] }), { instanceOf: AlsrecError })
  t.throws(() => model.partialFitSync(ratings, { movies: 'movies.csv' as never }), { message: /array of \{ movieId, title, genres \}/ })
  t.throws(() => model.partialFitSync(ratings, { movie: [] } as never), { message: /unknown key `movie`/ })
})

test('alsrec update folds a ratings file in, with --movies, and keeps the old model', (t) => {
  const before = readFileSync(modelFile)
  const out = path.join(dir, 'm2.alsrec')
  const r = cli('update', '--model', modelFile, '--ratings', newRatings, '--movies', moviesCsv, '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const s = JSON.parse(r.stdout) as { ratings: number; users: { before: number; after: number; new: number; refitted: number }; movies: { before: number; after: number; newRated: number; catalogAdded: number; withoutEntry: number[]; entriesIgnored: number } }
  t.is(s.ratings, users.length + 2)
  t.deepEqual(s.users, { before: model.numUsers, after: model.numUsers + 1, new: 1, refitted: users.length + 1 })
  t.deepEqual(s.movies, { before: model.numMovies, after: model.numMovies + 2, newRated: 1, catalogAdded: 2, withoutEntry: [], entriesIgnored: 0 })
  // An entry for a movie the model lists is not applied, and the summary says so.
  const known = model.catalog.movies[0]
  const withKnown = path.join(dir, 'movies-with-known.csv')
  writeFileSync(withKnown, `movieId,title,genres\n${known?.movieId},Renamed (2026),Drama\n${NEW},"Comet Over Lisbon, The (2026)",Comedy|Drama\n`)
  const knownRun = cli('update', '--model', modelFile, '--ratings', newRatings, '--movies', withKnown, '--out', path.join(dir, 'm-known.alsrec'))
  t.is(knownRun.status, 0, knownRun.stderr)
  t.regex(knownRun.stdout, /note: 1 entry of .*movies-with-known\.csv named movies the model already lists \(\d+\); their titles and genres were left as the model has them/)
  t.deepEqual(readFileSync(modelFile), before, 'the input model is untouched')
  // The updated model names the new movie and explains it with a genre part.
  const e = cli('explain', '--model', out, '--user', String(users[0]), '--movie', 'The Comet Over Lisbon', '--json')
  t.is(e.status, 0, e.stderr)
  const ex = JSON.parse(e.stdout) as { movie: { movieId: number; genres: string[] }; genrePart: number }
  t.deepEqual([ex.movie.movieId, ex.movie.genres], [NEW, ['Comedy', 'Drama']])
  t.true(Math.abs(ex.genrePart) > 1e-4)
  const rec = cli('recommend', '--model', out, '--user', '990001', '--candidates', String(NEW), '--min-ratings', '0', '--include-seen', '--json')
  t.is(rec.status, 0, rec.stderr)
  t.is((JSON.parse(rec.stdout) as { recommendations: Array<{ title: string }> }).recommendations[0]?.title, 'Comet Over Lisbon, The (2026)')
  // Without --movies: a warning names the movies left without title or genres.
  const bareOut = path.join(dir, 'm3.alsrec')
  const bare = cli('update', '--model', modelFile, '--ratings', newRatings, '--out', bareOut)
  t.is(bare.status, 0, bare.stderr)
  t.regex(bare.stdout, /users: .* \(1 new, 41 refitted\)/)
  t.regex(bare.stderr, /warning: 1 new movie\(s\) have no catalog entry \(888888\).*give --movies/)
  // An existing --out needs --force; a bad ratings file is an error and writes nothing.
  const again = cli('update', '--model', modelFile, '--ratings', newRatings, '--out', out)
  t.is(again.status, 2)
  t.regex(again.stderr, /exists; add --force/)
  t.is(cli('update', '--model', modelFile, '--ratings', newRatings, '--out', out, '--force').status, 0)
  const off = path.join(dir, 'off.csv')
  writeFileSync(off, `userId,movieId,rating,timestamp\n1,1,9,1\n`)
  const offOut = path.join(dir, 'm4.alsrec')
  const o = cli('update', '--model', modelFile, '--ratings', off, '--out', offOut, '--json')
  t.is(o.status, 1, o.stderr)
  t.regex((JSON.parse(o.stderr) as { error: { code: string; message: string } }).error.message, /off\.csv line 2: rating 9 is outside the scale/)
  t.false(existsSync(offOut))
})
