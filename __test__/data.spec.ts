import test from 'ava'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, generate, loadMovieLens, loadMovieLensSync, loadRatings, loadSplit, normalizeTitle } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, root, sampleDir } from './helpers.js'

const tmp = mkdtempSync(path.join(tmpdir(), 'alsrec-data-'))
test.after.always(() => rmSync(tmp, { recursive: true, force: true }))

let fileNo = 0
/** A fresh directory holding the given files. */
function dirWith(files: Record<string, string | Buffer>): string {
  const dir = path.join(tmp, `d${fileNo++}`)
  mkdirSync(dir)
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), body)
  return dir
}

const HEADER = 'userId,movieId,rating,timestamp\n'

test('ml-latest-small loads with the exact counts, titles, links and tags', async (t) => {
  if (!hasMlSmall) return t.pass(MISSING_ML_SMALL)
  // The official file has 100,836 ratings, all of cataloged movies. Rows beyond those (the
  // shared copy may carry extra ones) must show up as uncataloged, never silently.
  const raw = await loadMovieLens(mlSmallDir)
  t.is(raw.numRatings, 100836 + raw.report.ratingsNotInCatalog)
  const data = await loadMovieLens(mlSmallDir, { catalogOnly: true })
  t.is(data.numRatings, 100836)
  t.is(data.numUsers, 610)
  t.is(data.numMovies, 9724)
  t.is(data.catalog.size, 9742)
  const r = data.report
  t.like(r, { format: 'movielens-csv', rowsKept: 100836, rowsSkipped: 0, duplicates: 0, users: 610, movies: 9724, catalogMovies: 9742, minRating: 0.5, maxRating: 5, hasTimestamps: true })
  t.is(r.rowsRead, 100836 + raw.report.ratingsNotInCatalog)
  t.is(r.filteredRatings, raw.report.ratingsNotInCatalog)
  t.true(Math.abs(r.density - 100836 / (610 * 9724)) < 1e-12)
  // Quoted titles with commas and doubled quotes.
  t.is(data.catalog.get(11)?.title, 'American President, The (1995)')
  t.is(data.catalog.get(7789)?.title, '11\'09"01 - September 11 (2002)')
  t.deepEqual(data.catalog.get(1)?.genres, ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'])
  t.like(data.catalog.get(1), { year: 1995, imdbId: 114709, tmdbId: 862 })
  t.true((data.catalog.get(60756)?.tagCount ?? 0) > 0)
  t.true(data.movieTags(60756).some((x) => x.tag === 'funny'))
  // Id lookups both ways.
  const userIds = data.userIds()
  const movieIds = data.movieIds()
  t.is(userIds.length, 610)
  t.is(movieIds.length, 9742)
  t.is(data.userIndex(userIds[17] ?? -1), 17)
  t.is(data.movieIndex(movieIds[9730] ?? -1), 9730)
  t.is(data.userIndex(99999), undefined)
})

test('title search tolerates case, accents, a moved article and a missing year', (t) => {
  if (!hasMlSmall) return t.pass(MISSING_ML_SMALL)
  const catalog = loadMovieLensSync(mlSmallDir).catalog
  t.is(catalog.findOne('lord of the rings the fellowship of the ring').movieId, 4993)
  t.is(catalog.findOne('The Lord of the Rings: The Fellowship of the Ring (2001)').movieId, 4993)
  t.is(catalog.findOne('Amelie').movieId, 4973)
  t.is(catalog.findOne('amélie').movieId, 4973)
  t.is(catalog.findOne('AMERICAN PRESIDENT').movieId, 11)
  t.is(normalizeTitle('Lord of the Rings, The (1978)'), normalizeTitle('the lord of the rings'))
  t.is(catalog.findOne('The Lord of the Rings').movieId, 2116)
  t.true(catalog.search('lord of the rings').length >= 4)
  const err = t.throws(() => catalog.findOne('star wars'), { instanceOf: AlsrecError })
  t.regex(err?.message ?? '', /several movies/)
})

test('each bad row is an error naming file, line and text', async (t) => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['wrong column count', `${HEADER}1,2,3.5,100\n1,3,4\n`, /ratings\.csv line 3: expected 4 fields, found 3: "1,3,4"/],
    ['non-numeric rating', `${HEADER}1,2,great,100\n`, /line 2: rating is not a number \("great"\)/],
    ['NaN rating', `${HEADER}1,2,NaN,100\n`, /line 2: rating is not a finite number/],
    ['rating outside the scale', `${HEADER}1,2,6,100\n`, /line 2: rating 6 is outside the scale 0\.5 to 5/],
    ['negative id', `${HEADER}-1,2,3,100\n`, /line 2: user id negative id/],
    ['non-integer id', `${HEADER}1,2.5,3,100\n`, /line 2: movie id id is not a whole number/],
    ['empty file', '', /the file is empty/],
    ['missing header', '1,2,3.5,100\n', /line 1: expected the header userId,movieId,rating/],
    ['truncated last line', `${HEADER}1,2,3.5,100\n1,3,`, /line 3: .*may be truncated/],
    ['non-UTF-8 byte', Buffer.concat([Buffer.from(`${HEADER}1,2,3.5,100\n1,`), Buffer.from([0xe9]), Buffer.from('3,4,100\n')]), /line 3: text is not valid UTF-8/],
  ]
  for (const [what, body, message] of cases) {
    const dir = dirWith({ 'ratings.csv': body })
    const err = await t.throwsAsync(loadMovieLens(dir), { instanceOf: AlsrecError }, what)
    t.is(err?.code, 'ALSREC_INVALID_DATA', what)
    t.regex(err?.message ?? '', message, what)
  }
  const none = await t.throwsAsync(loadMovieLens(dirWith({ 'movies.csv': 'movieId,title,genres\n' })), { instanceOf: AlsrecError })
  t.is(none?.code, 'ALSREC_NOT_FOUND')
  t.regex(none?.message ?? '', /no ratings file found \(expected one of ratings\.csv, ratings\.dat, u\.data\)/)
})

test("onBadRow: 'skip' skips and counts each bad row by reason; ratingScale widens the check", async (t) => {
  const dir = dirWith({ 'ratings.csv': `${HEADER}1,2,3.5,100\n1,3,4\n2,2,x,100\n2,5,7,100\n1,2,4,200\n3,4,NaN,1\n` })
  const data = await loadMovieLens(dir, { onBadRow: 'skip' })
  t.is(data.numRatings, 1)
  t.like(data.report, { rowsRead: 6, rowsKept: 1, rowsSkipped: 4, duplicates: 1 })
  t.deepEqual(data.report.skippedReasons, [
    ['wrong number of fields', 1],
    ['rating is not a number', 1],
    ['rating outside the scale', 1],
    ['rating is not a finite number', 1],
  ])
  t.is(data.userRatings(1).ratings[0], 4)
  const wide = await loadMovieLens(dir, { onBadRow: 'skip', ratingScale: [0, 10] })
  t.is(wide.numRatings, 2)
  const bad = t.throws(() => loadMovieLensSync(dir, { ratingScale: [5, 1] }), { instanceOf: AlsrecError })
  t.is(bad?.code, 'ALSREC_INVALID_ARGUMENT')
})

test('the other MovieLens layouts, a mapped file and a predefined split', async (t) => {
  const dat = dirWith({
    'ratings.dat': '1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978300000\n',
    'movies.dat': Buffer.from('1193::Am\xe9lie (2001)::Comedy\n661::James and the Giant Peach (1996)::Animation|Children\'s\n', 'latin1'),
  })
  const d = await loadMovieLens(dat)
  t.like(d.report, { format: 'movielens-dat', rowsKept: 3 })
  t.is(d.catalog.get(1193)?.title, 'Amélie (2001)')
  t.deepEqual(d.catalog.get(661)?.genres, ['Animation', 'Children'])
  const k100 = dirWith({
    'u.data': '196\t242\t3\t881250949\n186\t302\t3\t891717742\n',
    'u1.base': '196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t242\t1\t878887116\n',
    'u1.test': '196\t302\t4\t881250950\n99\t242\t2\t881250951\n196\t1\t5\t881250952\n',
    'u.item': '242|Kolya (1996)|24-Jan-1997||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n',
  })
  t.is((await loadMovieLens(k100)).report.format, 'movielens-100k')
  const s = await loadSplit(path.join(k100, 'u1.base'), path.join(k100, 'u1.test'))
  t.deepEqual(s.report, { trainRows: 3, testRows: 3, coldUserRows: 1, coldMovieRows: 1, coldRows: 2, dropped: 0 })
  t.is(s.train.userIndex(99), s.test.userIndex(99))
  t.deepEqual(s.train.catalog.get(242)?.genres, ['Comedy'])
  const dropped = await loadSplit(path.join(k100, 'u1.base'), path.join(k100, 'u1.test'), undefined, { coldStart: 'drop' })
  t.is(dropped.test.numRatings, 1)
  const mapped = dirWith({ 'plays.tsv': 'who\twhat\twhen\tscore\nana\t1\t5\t0.25\nbo\t1\t6\t0.75\n' })
  const err = await t.throwsAsync(loadRatings(path.join(mapped, 'plays.tsv'), { delimiter: '\t', user: 'who', movie: 'what', rating: 'score' }), { instanceOf: AlsrecError })
  t.regex(err?.message ?? '', /plays\.tsv line 2: user id id is not a whole number/)
  const ok = dirWith({ 'plays.tsv': 'who\twhat\twhen\tscore\n7\t1\t5\t0.25\n8\t1\t6\t0.75\n' })
  const p = await loadRatings(path.join(ok, 'plays.tsv'), { delimiter: '\t', user: 'who', movie: 'what', rating: 'score', timestamp: 'when' })
  t.like(p.report, { format: 'mapped', rowsKept: 2, hasTimestamps: true, minRating: 0.25, maxRating: 0.75 })
  // `item`, the old name of the movie column, is still read (deprecated); both at once is refused.
  const legacy = await loadRatings(path.join(ok, 'plays.tsv'), { delimiter: '\t', user: 'who', item: 'what', rating: 'score' })
  t.deepEqual(legacy.movieIds(), p.movieIds())
  await t.throwsAsync(loadRatings(path.join(ok, 'plays.tsv'), { delimiter: '\t', user: 'who', movie: 'what', item: 'what', rating: 'score' } as never), { message: /mapping\.movie only/ })
})

test('ratingTriplets holds every rating once, as typed arrays that agree with userRatings', async (t) => {
  const data = await loadMovieLens(sampleDir)
  const { userIds, movieIds, ratings } = data.ratingTriplets()
  t.true(userIds instanceof Float64Array && movieIds instanceof Float64Array && ratings instanceof Float32Array)
  t.is(userIds.length, data.numRatings)
  t.is(movieIds.length, data.numRatings)
  t.is(ratings.length, data.numRatings)
  const byUser = new Map<number, Map<number, number>>()
  for (let j = 0; j < userIds.length; j++) {
    const row = byUser.get(userIds[j] ?? -1) ?? new Map<number, number>()
    t.false(row.has(movieIds[j] ?? -1), 'each (user, movie) pair once')
    row.set(movieIds[j] ?? -1, ratings[j] ?? Number.NaN)
    byUser.set(userIds[j] ?? -1, row)
  }
  t.is(byUser.size, data.numUsers)
  for (const userId of data.userIds().slice(0, 40)) {
    const { movieIds: rated, ratings: values } = data.userRatings(userId)
    t.is(byUser.get(userId)?.size, rated.length)
    rated.forEach((m, i) => t.is(byUser.get(userId)?.get(m), values[i]))
  }
  // The parts of a split hold the whole set's ratings between them, in raw ids.
  const { train, test: held } = data.split({ testFraction: 0.25, seed: 9 })
  const a = train.ratingTriplets()
  const b = held.ratingTriplets()
  t.is(a.ratings.length + b.ratings.length, data.numRatings)
  t.is(b.ratings.length, held.numRatings)
  for (let j = 0; j < 200; j++) t.is(byUser.get(b.userIds[j] ?? -1)?.get(b.movieIds[j] ?? -1), b.ratings[j])
})

test('splits are seeded, partition the data and report cold rows', async (t) => {
  const data = await loadMovieLens(sampleDir)
  for (const kind of ['random', 'user', 'temporal'] as const) {
    const a = data.split({ kind, testFraction: 0.2, seed: 5 })
    const b = data.split({ kind, testFraction: 0.2, seed: 5 })
    t.is(a.train.numRatings + a.test.numRatings, 80000, kind)
    t.deepEqual(a.test.userRatings(1), b.test.userRatings(1), kind)
    t.is(a.report.testRows, a.test.numRatings, kind)
  }
  const user = data.split({ kind: 'user', testFraction: 0.2, seed: 1 })
  t.is(user.report.coldUserRows, 0)
  t.is(user.test.numUsers, 600)
  const cutoff = data.split({ kind: 'temporal', cutoff: 1_300_000_000 })
  t.true(cutoff.test.numRatings > 0 && cutoff.train.numRatings > 0)
  const folds = data.folds(5, 3)
  t.is(folds.length, 5)
  t.is(folds.reduce((n, f) => n + f.test.numRatings, 0), 80000)
  const cold = data.split({ testFraction: 0.9, coldStart: 'drop' })
  t.true(cold.report.dropped > 0)
  t.is(cold.test.numRatings, cold.report.testRows)
  t.throws(() => data.split({ kind: 'weekly' as never }), { instanceOf: AlsrecError })
  t.throws(() => data.folds(1), { instanceOf: AlsrecError })
})

test('min-ratings filters drop users and movies until stable', async (t) => {
  const data = await loadMovieLens(sampleDir, { minUserRatings: 60, minMovieRatings: 40 })
  const r = data.report
  t.true(r.filteredRatings > 0 && r.filteredUsers > 0 && r.filteredMovies > 0)
  t.is(data.numRatings, 80000 - r.filteredRatings)
  for (const id of data.userIds().slice(0, 50)) t.true(data.userRatings(id).ratings.length >= 60)
})

test('generate writes a loadable, seeded set with an honest noise floor; so does the CLI', async (t) => {
  const out = path.join(tmp, 'gen')
  const report = await generate(out, { users: 120, movies: 900, ratings: 9000, seed: 11 })
  t.true(existsSync(path.join(out, 'truth.json')))
  const truth = JSON.parse(readFileSync(path.join(out, 'truth.json'), 'utf8')) as { noiseFloorRmse: number }
  t.is(truth.noiseFloorRmse, report.noiseFloorRmse)
  // Gaussian noise of 0.6 plus half-star rounding: the floor is a little above 0.6.
  t.true(report.noiseFloorRmse > 0.55 && report.noiseFloorRmse < 0.75, String(report.noiseFloorRmse))
  const data = await loadMovieLens(out)
  t.is(data.numRatings, 9000)
  t.is(data.numUsers, 120)
  t.is(data.report.duplicates, 0)
  const cli = path.join(tmp, 'cli')
  const stdout = execFileSync(process.execPath, [path.join(root, 'bin', 'alsrec.js'), 'generate', '--out', cli, '--users', '120', '--movies', '900', '--ratings', '9000', '--seed', '11', '--noise', '0.6', '--factors', '8'], { encoding: 'utf8' })
  t.regex(stdout, /Wrote 9,000 ratings/)
  t.deepEqual(readFileSync(path.join(cli, 'ratings.csv')), readFileSync(path.join(out, 'ratings.csv')))
})
