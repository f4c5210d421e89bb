import test from 'ava'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { AlsrecError, loadModel, loadModelSync, loadMovieLens, loadMovieLensSync, readModel, trainSync } from '../dist/index.js'
import { seriesKey } from '../dist/reader/series.js'
import { root, sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-model-file-'))
const data = loadMovieLensSync(sampleDir)
const model = trainSync(data, { factors: 12, epochs: 4, seed: 3 })
const file = path.join(dir, 'sample.alsrec')
model.saveSync(file)
const bytes = readFileSync(file)
const users = Array.from(data.userIds()).slice(0, 25)

test('save → load gives identical recommendations, predictions and metadata', async (t) => {
  const back = await loadModel(file)
  t.is(back.kind, 'genre')
  t.true(back.hasRanker, 'the default genre model ranks with its ranker, and the file keeps it')
  t.is(back.factors, 12)
  t.is(back.globalMean, model.globalMean)
  t.deepEqual(back.config, model.config)
  t.deepEqual(back.history, model.history)
  t.is(back.catalog.size, model.catalog.size)
  for (const u of users) {
    t.deepEqual(back.recommend(u, { n: 10 }), model.recommend(u, { n: 10 }))
    t.deepEqual(back.recommend(u, { n: 5, genres: ['Comedy'], diversity: 0.4 }), model.recommend(u, { n: 5, genres: ['Comedy'], diversity: 0.4 }))
  }
  const movie = model.catalog.movies[10]?.movieId ?? 0
  t.deepEqual(back.similarMovies(movie), model.similarMovies(movie))
  t.is(back.predict(users[0] ?? 0, movie), model.predict(users[0] ?? 0, movie))
  // Saving the loaded model reproduces the file byte for byte.
  const again = path.join(dir, 'again.alsrec')
  await back.save(again)
  t.true(readFileSync(again).equals(bytes))
})

test('the pure-TypeScript reader answers exactly like the native model', (t) => {
  const reader = readModel(new Uint8Array(bytes))
  t.is(reader.numUsers, model.numUsers)
  for (const u of users) {
    const native = model.recommend(u, { n: 10 })
    t.deepEqual(reader.recommend(u, { n: 10 }), native.map((r) => ({ movieId: r.movieId, title: r.title, year: r.year, genres: r.genres, score: r.score, rating: r.rating })))
    t.deepEqual(reader.recommend(u, { n: 10, minRatings: 0 }), model.recommend(u, { n: 10, minRatings: 0 }).map((r) => ({ movieId: r.movieId, title: r.title, year: r.year, genres: r.genres, score: r.score, rating: r.rating })))
    t.deepEqual(reader.recommend(u, { n: 3, excludeSeen: false }).map((r) => r.movieId), model.recommend(u, { n: 3, excludeSeen: false }).map((r) => r.movieId))
  }
  t.is(reader.popularityFloor, model.popularityFloor)
  // A model without a ranker is scored by its predicted rating, also by the reader.
  const plain = trainSync(data, { factors: 12, epochs: 4, seed: 3, ranker: null })
  const plainFile = path.join(dir, 'plain.alsrec')
  plain.saveSync(plainFile)
  const plainReader = readModel(new Uint8Array(readFileSync(plainFile)))
  for (const u of users.slice(0, 5)) t.deepEqual(plainReader.recommend(u).map((r) => [r.movieId, r.score]), plain.recommend(u).map((r) => [r.movieId, r.score]))
  for (const m of model.catalog.movies.slice(0, 20)) {
    const native = model.similarMovies(m.movieId, { n: 8 })
    t.deepEqual(reader.similarMovies(m.movieId, { n: 8 }).map((r) => [r.movieId, r.score]), native.map((r) => [r.movieId, r.score]))
  }
  t.throws(() => reader.recommend(987654321), { message: /987654321/ })
  // An unaligned copy (a Uint8Array at an odd offset) reads the same.
  const shifted = new Uint8Array(bytes.length + 1)
  shifted.set(bytes, 1)
  t.deepEqual(readModel(shifted.subarray(1)).recommend(users[0] ?? 0), reader.recommend(users[0] ?? 0))
})

test('save → load keeps the whole catalog: links, tags, genres, years, plus config and history', async (t) => {
  // The sample with links.csv and tags.csv beside it (made up here, as the sample is).
  const withLinks = mkdtempSync(path.join(tmpdir(), 'alsrec-links-'))
  for (const f of ['ratings.csv', 'movies.csv']) writeFileSync(path.join(withLinks, f), readFileSync(path.join(sampleDir, f)))
  const ids = data.catalog.movies.slice(0, 40).map((m) => m.movieId)
  writeFileSync(path.join(withLinks, 'links.csv'), 'movieId,imdbId,tmdbId\n' + ids.map((id, i) => `${id},${String(100000 + i).padStart(7, '0')},${i % 3 === 0 ? '' : 900 + i}`).join('\n') + '\n')
  writeFileSync(path.join(withLinks, 'tags.csv'), 'userId,movieId,tag,timestamp\n' + ids.slice(0, 10).flatMap((id, i) => [`1,${id},funny,1`, `2,${id},tag ${i},2`, `3,${id},funny,3`]).join('\n') + '\n')
  const linked = await loadMovieLens(withLinks)
  const m = trainSync(linked, { factors: 4, epochs: 2, ranker: null })
  const p = path.join(withLinks, 'm.alsrec')
  await m.save(p)
  const back = await loadModel(p)
  t.true(m.catalog.movies.some((x) => x.imdbId !== undefined && x.tagCount !== undefined), 'the fixture has links and tags')
  t.deepEqual(back.catalog.movies, m.catalog.movies)
  t.deepEqual(back.config, m.config)
  t.deepEqual(back.history, m.history)
  const user = linked.userIds()[0] ?? 0
  t.deepEqual(back.recommend(user, { n: 20, minRatings: 0 }), m.recommend(user, { n: 20, minRatings: 0 }))
  t.deepEqual(back.similarMovies(ids[0] ?? 0), m.similarMovies(ids[0] ?? 0))
})

test('the reader applies the series bonus exactly as the native model', (t) => {
  // A large fixed bonus, so the lists of users who liked a series do change.
  const bonused = trainSync(data, { factors: 8, epochs: 3, seed: 5, ranker: { factors: 8, epochs: 3, seriesBonus: 0.5, learnSeriesBonus: false } })
  const plain = trainSync(data, { factors: 8, epochs: 3, seed: 5, ranker: { factors: 8, epochs: 3, seriesBonus: 0, learnSeriesBonus: false } })
  const p = path.join(dir, 'bonus.alsrec')
  bonused.saveSync(p)
  const reader = readModel(new Uint8Array(readFileSync(p)))
  let changed = 0
  for (const u of Array.from(data.userIds()).slice(0, 60)) {
    const native = bonused.recommend(u, { n: 10 })
    t.deepEqual(reader.recommend(u, { n: 10 }).map((r) => [r.movieId, r.score]), native.map((r) => [r.movieId, r.score]))
    if (plain.recommend(u, { n: 10 }).map((r) => r.movieId).join() !== native.map((r) => r.movieId).join()) changed++
  }
  t.true(changed > 5, `the bonus changed ${changed} of 60 lists`)
})

test('series keys follow the rule shared with the core', (t) => {
  const cases = JSON.parse(readFileSync(path.join(root, '__test__/fixtures/series-keys.json'), 'utf8')) as Array<[string, string | null]>
  for (const [title, key] of cases) t.is(seriesKey(title), key, title)
})

function badFile(t: import('ava').ExecutionContext, name: string, content: Uint8Array, pattern: RegExp): void {
  const p = path.join(dir, name)
  writeFileSync(p, content)
  const err = t.throws(() => loadModelSync(p), { instanceOf: AlsrecError })
  t.is(err?.code, 'ALSREC_BAD_MODEL_FILE')
  t.regex(err?.message ?? '', pattern)
  t.true(err?.message.includes(name), 'the error names the file')
  const r = t.throws(() => readModel(content))
  t.is((r as AlsrecError).code, 'ALSREC_BAD_MODEL_FILE')
  t.regex(r?.message ?? '', pattern)
}

test('a truncated file, a flipped byte, another format and a newer version are refused', (t) => {
  badFile(t, 'truncated.alsrec', bytes.subarray(0, bytes.length - 1000), /truncated/)
  const flipped = Uint8Array.from(bytes)
  const at = Math.floor(bytes.length * 0.6)
  flipped[at] = (flipped[at] ?? 0) ^ 0x01
  badFile(t, 'flipped.alsrec', flipped, /checksum mismatch/)
  badFile(t, 'ratings.csv', readFileSync(path.join(sampleDir, 'ratings.csv')), /not an alsrec model file/)
  const newer = Uint8Array.from(bytes)
  newer[8] = 9
  badFile(t, 'newer.alsrec', newer, /version 9 is newer/)
})

test('a nonexistent path is ALSREC_NOT_FOUND', async (t) => {
  const err = await t.throwsAsync(loadModel(path.join(dir, 'nope.alsrec')), { instanceOf: AlsrecError })
  t.is(err?.code, 'ALSREC_NOT_FOUND')
  t.regex(err?.message ?? '', /nope\.alsrec/)
})

test('an unwritable target fails cleanly and leaves the old file intact', async (t) => {
  const e1 = await t.throwsAsync(model.save(path.join(dir, 'no-such-dir', 'm.alsrec')), { instanceOf: AlsrecError })
  t.regex(e1?.message ?? '', /no-such-dir/)
  // A write that fails midway (file size limit; works as root too): the old file survives.
  if (process.platform !== 'linux') return t.pass('size-limit check needs Linux')
  const target = path.join(dir, 'keep.alsrec')
  writeFileSync(target, bytes)
  const script = `const a=require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});try{a.loadModelSync(${JSON.stringify(file)}).saveSync(${JSON.stringify(target)})}catch(e){console.log(e.code+' '+e.message);process.exit(3)}`
  const r = spawnSync('bash', ['-c', 'trap "" XFSZ; ulimit -f 64; exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' })
  t.is(r.status, 3, r.stderr)
  t.regex(r.stdout, /ALSREC_IO .*keep\.alsrec/)
  t.true(readFileSync(target).equals(bytes))
  t.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [])
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    const { chmodSync } = await import('node:fs')
    const ro = path.join(dir, 'ro')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(ro)
    writeFileSync(path.join(ro, 'm.alsrec'), bytes)
    chmodSync(ro, 0o555)
    const e2 = await t.throwsAsync(model.save(path.join(ro, 'm.alsrec')), { instanceOf: AlsrecError })
    t.is(e2?.code, 'ALSREC_IO')
    t.true(readFileSync(path.join(ro, 'm.alsrec')).equals(bytes))
    chmodSync(ro, 0o755)
  }
})

test('factors export to .npy and CSV', (t) => {
  const out = path.join(dir, 'export')
  const files = model.exportFactors(out, { format: 'npy' })
  t.true(files.includes('movie_factors.npy') && files.includes('user_ids.npy'))
  const npy = readFileSync(path.join(out, 'movie_factors.npy'))
  t.is(npy.subarray(0, 6).toString('latin1'), '\x93NUMPY')
  const headerLen = npy.readUInt16LE(8)
  const header = npy.subarray(10, 10 + headerLen).toString('latin1')
  t.is((10 + headerLen) % 64, 0)
  t.regex(header, new RegExp(`'descr': '<f4'.*'shape': \\(${model.numMovies}, 12\\)`))
  t.is(npy.length - 10 - headerLen, model.numMovies * 12 * 4)
  model.exportFactors(out, { format: 'csv' })
  const lines = readFileSync(path.join(out, 'users.csv'), 'utf8').trim().split('\n')
  t.is(lines[0], ['userId', 'bias', ...Array.from({ length: 12 }, (_, i) => `f${i}`)].join(','))
  t.is(lines.length, model.numUsers + 1)
  t.true(existsSync(path.join(out, 'movies.csv')))
  const e = t.throws(() => model.exportFactors(out, { format: 'xls' as 'csv' }), { instanceOf: AlsrecError })
  t.is(e?.code, 'ALSREC_INVALID_ARGUMENT')
})
