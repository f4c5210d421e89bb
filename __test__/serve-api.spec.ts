// The serve API through fastify's inject (no socket): every route's answer against the model's
// own calls, its validation (400 naming the field), its 404s and its limits; then a real
// server on a free port for --watch reloads and the CLI command.
/* eslint-disable @typescript-eslint/no-explicit-any -- the JSON bodies under test are read loosely, field by field */
import test, { type ExecutionContext } from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { loadMovieLensSync, serve, trainSync } from '../dist/index.js'
import { buildApp } from '../dist/serve/app.js'
import { EXPORT_LIMIT_BYTES, exportWeb } from '../dist/serve/export-web.js'
import { loadServedModel } from '../dist/serve/state.js'
import { sampleDir } from './helpers.js'

const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-serve-api-'))
const modelFile = path.join(dir, 'sample.alsrec')
const data = loadMovieLensSync(sampleDir)
const model = trainSync(data, { factors: 12, epochs: 6, seed: 3 })
model.saveSync(modelFile)
const userIds = Array.from(data.userIds())
const user = userIds[0] ?? 1
const movies = model.catalog.movies
let served: Awaited<ReturnType<typeof loadServedModel>>
let app: Awaited<ReturnType<typeof buildApp>>

test.before(async () => {
  served = await loadServedModel(modelFile)
  app = await buildApp(() => served)
})

test.after.always(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

async function get(url: string): Promise<{ status: number; body: any }> {
  const r = await app.inject({ method: 'GET', url })
  return { status: r.statusCode, body: r.headers['content-type']?.toString().includes('json') ? r.json() : r.body }
}

async function post(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const r = await app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } })
  return { status: r.statusCode, body: r.json() }
}

/** A 400/404 in the documented shape, naming the field. */
function refused(t: ExecutionContext, r: { status: number; body: any }, status: number, field: string): void {
  t.is(r.status, status, JSON.stringify(r.body))
  t.is(r.body.error.code, status === 404 ? 'ALSREC_NOT_FOUND' : 'ALSREC_INVALID_ARGUMENT')
  t.is(r.body.error.field, field)
  t.true(r.body.error.message.length > 0)
}

const ids = (list: Array<{ movieId: number }>): number[] => list.map((m) => m.movieId)

test('GET /health and /api/model describe the served model with its training metrics', async (t) => {
  const health = await get('/health')
  t.is(health.status, 200)
  t.is(health.body.status, 'ok')
  t.is(health.body.model, 'sample.alsrec')
  const m = (await get('/api/model')).body
  t.is(m.kind, model.kind)
  t.is(m.k, 12)
  t.is(m.users, model.numUsers)
  t.is(m.movies, model.numMovies)
  t.deepEqual(m.genres, [...model.catalog.genreNames])
  t.deepEqual(m.ratingRange, model.ratingRange())
  t.is(m.training.epoch, model.keptEpoch)
  t.is(m.training.trainRmse, model.history.find((h) => h.epoch === model.keptEpoch)?.trainRmse)
  t.is(m.config.factors, 12)
  t.is(m.limits.maxN, 100)
  t.deepEqual((await get('/model')).body, m)
})

test('GET /api/search: prefix, accents, moved articles and an optional year', async (t) => {
  const search = async (q: string): Promise<Array<{ movieId: number; title: string; year: number | null; ratingCount: number }>> => (await get(`/api/search?q=${encodeURIComponent(q)}`)).body.movies
  const prefix = await search('silent ec')
  t.true(prefix.length > 0)
  t.true(prefix.every((m) => m.title.toLowerCase().includes('silent ec')))
  t.deepEqual(ids(await search('SÍLENT ÉCHO')), ids(await search('silent echo')), 'accents and case do not matter')
  // "Silent Echo, The (2011)" and "(2014)": found by the title as people say it.
  const moved = await search('The Silent Echo')
  t.deepEqual(ids(moved).slice(0, 2).sort((a, b) => a - b), [1, 1471])
  t.is((await search('The Silent Echo (2014)'))[0]?.movieId, 1471, 'the year ranks its movie first')
  t.is((await search('The Silent Echo (2011)'))[0]?.movieId, 1)
  // Among equal matches the most rated comes first.
  const counts = prefix.filter((m) => !m.title.toLowerCase().startsWith('silent echo,')).map((m) => m.ratingCount)
  t.true(counts.length > 0 && counts.every((c) => Number.isInteger(c)))
  t.is((await get('/api/search?q=silent&limit=3')).body.movies.length, 3)
  // The typeahead keeps only the best `limit` of a broad query: the same as sorting every match.
  const broad = served.model.catalog.search('e', Infinity, { ratingCounts: served.ratingCounts }).slice(0, 10)
  t.deepEqual(ids(await search('e')), ids(broad))
  t.deepEqual((await get('/api/search?q=zzzzqqq')).body.movies, [])
  refused(t, await get('/api/search'), 400, 'query.q')
  refused(t, await get('/api/search?q='), 400, 'query.q')
  refused(t, await get(`/api/search?q=${'a'.repeat(201)}`), 400, 'query.q')
  refused(t, await get('/api/search?q=a&limit=51'), 400, 'query.limit')
  refused(t, await get('/api/search?q=a&lmit=5'), 400, 'query.lmit')
})

test('GET /api/movies/:id: genres, year, links, and the rating count and mean of the training data', async (t) => {
  const movie = movies.find((m) => (served.ratingCounts.get(m.movieId) ?? 0) > 5) ?? movies[0]
  if (!movie) return t.fail('no movie')
  const ratings: number[] = []
  for (const u of userIds) {
    const r = data.userRatings(u)
    r.movieIds.forEach((id, i) => (id === movie.movieId ? ratings.push(r.ratings[i] ?? 0) : undefined))
  }
  const r = await get(`/api/movies/${movie.movieId}`)
  t.is(r.status, 200)
  t.is(r.body.title, movie.title)
  t.is(r.body.year, movie.year)
  t.deepEqual(r.body.genres, movie.genres)
  t.is(r.body.ratingCount, ratings.length)
  t.true(Math.abs(r.body.meanRating - ratings.reduce((a, b) => a + b, 0) / ratings.length) < 1e-5)
  t.is(r.body.links.movielens, `https://movielens.org/movies/${movie.movieId}`)
  refused(t, await get('/api/movies/99999999'), 404, 'params.movieId')
  refused(t, await get('/api/movies/abc'), 400, 'params.movieId')
  refused(t, await get('/api/movies/-3'), 400, 'params.movieId')
})

test('GET /api/movies/:id/similar is the model’s similarMovies, with its filters', async (t) => {
  const id = movies[0]?.movieId ?? 1
  const r = await get(`/api/movies/${id}/similar?n=7`)
  t.is(r.status, 200)
  t.deepEqual(ids(r.body.similar), ids(model.similarMovies(id, { n: 7 })))
  const drama = await get(`/api/movies/${id}/similar?n=5&genres=drama&years=1990-2005&minRatings=20`)
  t.deepEqual(ids(drama.body.similar), ids(model.similarMovies(id, { n: 5, genres: ['Drama'], years: [1990, 2005], minRatings: 20 })))
  t.true(drama.body.similar.every((m: { genres: string[] }) => m.genres.includes('Drama')))
  refused(t, await get(`/api/movies/${id}/similar?genres=Nope`), 400, 'query.genres')
  refused(t, await get(`/api/movies/${id}/similar?diversity=0.5`), 400, 'query.diversity')
  refused(t, await get('/api/movies/99999999/similar'), 404, 'params.movieId')
})

test('GET /api/users/:id/recommendations is recommend with every filter; n is capped', async (t) => {
  const r = await get(`/api/users/${user}/recommendations`)
  t.is(r.status, 200)
  t.deepEqual(ids(r.body.recommendations), ids(model.recommend(user, { n: 10 })))
  t.true(r.body.recommendations.every((x: { rating?: number; score: number }) => typeof x.score === 'number'))
  const candidates = movies.slice(0, 300).map((m) => m.movieId)
  const cases: Array<[string, Parameters<typeof model.recommend>[1]]> = [
    ['n=5&genres=Comedy,Drama', { n: 5, genres: ['Comedy', 'Drama'] }],
    ['n=6&years=1990-1999&minRatings=30', { n: 6, years: [1990, 1999], minRatings: 30 }],
    ['n=4&years=2010-', { n: 4, years: [2010, 32767] }],
    [`n=5&candidates=${candidates.join(',')}`, { n: 5, candidates }],
    ['n=10&diversity=0.7', { n: 10, diversity: 0.7 }],
    ['n=8&includeSeen=true', { n: 8, excludeSeen: false }],
  ]
  for (const [query, options] of cases) {
    const got = await get(`/api/users/${user}/recommendations?${query}`)
    t.is(got.status, 200, query)
    t.deepEqual(ids(got.body.recommendations), ids(model.recommend(user, options)), query)
  }
  refused(t, await get(`/api/users/${user}/recommendations?n=101`), 400, 'query.n')
  refused(t, await get(`/api/users/${user}/recommendations?n=0`), 400, 'query.n')
  refused(t, await get(`/api/users/${user}/recommendations?n=ten`), 400, 'query.n')
  refused(t, await get(`/api/users/${user}/recommendations?diversity=2`), 400, 'query.diversity')
  refused(t, await get(`/api/users/${user}/recommendations?years=1999-1990`), 400, 'query.years')
  refused(t, await get(`/api/users/${user}/recommendations?years=soon`), 400, 'query.years')
  refused(t, await get(`/api/users/${user}/recommendations?candidates=1,x`), 400, 'query.candidates')
  refused(t, await get(`/api/users/${user}/recommendations?genre=Drama`), 400, 'query.genre')
  refused(t, await get(`/api/users/${user}/recommendations?includeSeen=maybe`), 400, 'query.includeSeen')
  refused(t, await get('/api/users/987654321/recommendations'), 404, 'params.userId')
  refused(t, await get('/api/users/1.5/recommendations'), 400, 'params.userId')
})

test('GET /api/users/:id/explain/:movieId is explain, with a one-line reason', async (t) => {
  const movie: number = model.recommend(user, { n: 1 })[0]?.movieId ?? 1
  const r = await get(`/api/users/${user}/explain/${movie}?top=3`)
  t.is(r.status, 200)
  const e = model.explain(user, movie, { top: 3 })
  t.is(r.body.score, e.score)
  t.deepEqual(ids(r.body.contributions), ids(e.contributions))
  const top = [...e.contributions].sort((a, b) => b.points - a.points)[0]
  if (top && top.points > 0) t.true(r.body.because.includes(top.title), r.body.because)
  refused(t, await get(`/api/users/987654321/explain/${movie}`), 404, 'params.userId')
  refused(t, await get(`/api/users/${user}/explain/99999999`), 404, 'params.movieId')
  refused(t, await get(`/api/users/${user}/explain/${movie}?top=0`), 400, 'query.top')
})

test('POST /api/recommendations is recommendForNewUser, each with the rated film adding most to it (explainForNewUser)', async (t) => {
  const rated = movies.slice(0, 3).map((m, i) => ({ movieId: m.movieId, rating: [5, 4.5, 1][i] ?? 3 }))
  const r = await post('/api/recommendations', { ratings: rated, n: 8 })
  t.is(r.status, 200, JSON.stringify(r.body))
  const expected = model.recommendForNewUser({ ratings: rated.map((x) => ({ movie: x.movieId, rating: x.rating })) }, { n: 8 })
  t.deepEqual(ids(r.body.recommendations), ids(expected))
  const ratedIds = new Set(rated.map((x) => x.movieId))
  t.true(r.body.recommendations.every((x: { movieId: number }) => !ratedIds.has(x.movieId)), 'rated films are left out')
  // The reason is the rated film adding the most points in the visitor's explanation.
  const profile = { ratings: rated.map((x) => ({ movie: x.movieId, rating: x.rating })) }
  for (const rec of r.body.recommendations as Array<{ movieId: number; because: { movieId: number; title: string; rating: number; points: number } | null }>) {
    const e = model.explainForNewUser(profile, rec.movieId, { top: 3 })
    t.is(e.contributions.length, 3)
    const sum = e.contributions.reduce((a, c) => a + c.points, 0)
    t.true(Math.abs(sum - e.refitPersonal) < 1e-3, `${sum} vs ${e.refitPersonal}`)
    const top = [...e.contributions].sort((a, b) => b.points - a.points)[0]
    if (top === undefined || !(top.points > 0)) {
      t.is(rec.because, null)
      continue
    }
    t.deepEqual(rec.because, { movieId: top.movieId, title: top.title, rating: top.rating, points: top.points })
  }
  t.true(r.body.recommendations.some((x: { because: unknown }) => x.because !== null), 'the reasons are given')
  const filtered = await post('/api/recommendations', { ratings: rated, n: 5, genres: ['Comedy'], years: [1980, 2010], minRatings: 10, diversity: 0.5 })
  t.deepEqual(ids(filtered.body.recommendations), ids(model.recommendForNewUser({ ratings: rated.map((x) => ({ movie: x.movieId, rating: x.rating })) }, { n: 5, genres: ['Comedy'], years: [1980, 2010], minRatings: 10, diversity: 0.5 })))
  const byGenre = await post('/api/recommendations', { likedGenres: ['horror'] })
  t.is(byGenre.status, 200)
  t.deepEqual(ids(byGenre.body.recommendations), ids(model.recommendForNewUser({ genres: ['Horror'] })))
  t.true(byGenre.body.recommendations.some((x: { because: { genres?: string[] } | null }) => x.because?.genres?.includes('Horror') === true))
})

test('POST /api/recommendations refuses bad bodies with the field, and large ones', async (t) => {
  const id = movies[0]?.movieId ?? 1
  refused(t, await post('/api/recommendations', {}), 400, 'body.ratings')
  refused(t, await post('/api/recommendations', { ratings: [{ movieId: id, rating: 9 }] }), 400, 'body.ratings[0].rating')
  refused(t, await post('/api/recommendations', { ratings: [{ movieId: id, rating: 'five' }] }), 400, 'body.ratings[0].rating')
  refused(t, await post('/api/recommendations', { ratings: [{ movieId: id }] }), 400, 'body.ratings[0].rating')
  refused(t, await post('/api/recommendations', { ratings: [{ movieId: 99999999, rating: 4 }] }), 404, 'body.ratings[0].movieId')
  refused(t, await post('/api/recommendations', { ratings: [{ movieId: id, rating: 4 }, { movieId: id, rating: 3 }] }), 400, 'body.ratings[1].movieId')
  refused(t, await post('/api/recommendations', { likedGenres: ['Nope'] }), 400, 'body.likedGenres')
  refused(t, await post('/api/recommendations', { likedGenres: ['Drama'], n: 1000 }), 400, 'body.n')
  refused(t, await post('/api/recommendations', { likedGenres: ['Drama'], years: [2000, 1990] }), 400, 'body.years')
  refused(t, await post('/api/recommendations', { likedGenres: ['Drama'], extra: 1 }), 400, 'body.extra')
  refused(t, await post('/api/recommendations', '{"ratings": ['), 400, 'body')
  const many = Array.from({ length: 501 }, (_, i) => ({ movieId: i + 1, rating: 3 }))
  refused(t, await post('/api/recommendations', { ratings: many }), 400, 'body.ratings')
  const huge = await post('/api/recommendations', { likedGenres: ['Drama'], pad: 'x'.repeat(70 * 1024) })
  t.is(huge.status, 413)
  t.is(huge.body.error.field, 'body')
  const text = await app.inject({ method: 'POST', url: '/api/recommendations', payload: '<a/>', headers: { 'content-type': 'application/xml' } })
  t.is(text.statusCode, 415)
})

test('GET /api/map pages agree with the binary map; limits hold', async (t) => {
  const first = (await get('/api/map?limit=50')).body
  t.is(first.total, served.mapPage(0, 0).total)
  t.is(first.points.length, 50)
  t.is(first.explained.length, 2)
  const second = (await get('/api/map?offset=50&limit=50')).body
  t.notDeepEqual(ids(first.points), ids(second.points))
  const bin = await app.inject({ method: 'GET', url: '/api/map.bin' })
  t.is(bin.headers['content-type'], 'application/octet-stream')
  const buf = bin.rawPayload
  t.is(buf.subarray(0, 8).toString('latin1'), 'ALSRMAP1')
  const n = buf.readUInt32LE(8)
  t.is(n, first.total)
  t.is(buf.readUInt32LE(12), model.catalog.genreNames.length)
  t.is(buf.length, 16 + n * 21)
  for (let i = 0; i < 50; i++) {
    t.is(buf.readDoubleLE(16 + 8 * i), first.points[i].movieId)
    t.is(buf.readFloatLE(16 + 8 * n + 4 * i), first.points[i].x)
    t.is(buf.readUInt32LE(16 + 16 * n + 4 * i), first.points[i].ratingCount)
  }
  // Main genre: one of the movie's own genres.
  for (const p of first.points as Array<{ movieId: number; genre: number | null }>) {
    const genres = model.catalog.get(p.movieId)?.genres ?? []
    if (p.genre === null) t.is(genres.length, 0)
    else t.true(genres.includes(model.catalog.genreNames[p.genre] ?? ''))
  }
  refused(t, await get('/api/map?limit=10001'), 400, 'query.limit')
  refused(t, await get('/api/map?offset=-1'), 400, 'query.offset')
})

test('OpenAPI docs list every route; unknown routes and long URLs are refused in the same shape', async (t) => {
  const spec = (await get('/api/docs/json')).body
  for (const route of ['/health', '/api/model', '/api/search', '/api/movies/{movieId}', '/api/movies/{movieId}/similar', '/api/users/{userId}/recommendations', '/api/users/{userId}/explain/{movieId}', '/api/recommendations', '/api/map', '/api/map.bin']) {
    t.truthy(spec.paths[route], route)
  }
  t.is(spec.paths['/api/users/{userId}/recommendations'].get.parameters.find((p: { name: string }) => p.name === 'n').schema.maximum, 100)
  const ui = await app.inject({ method: 'GET', url: '/api/docs/' })
  t.is(ui.statusCode, 200)
  t.regex(ui.body, /swagger/i)
  refused(t, await get('/api/nothing'), 404, 'url')
  refused(t, await get(`/api/search?q=${'a'.repeat(15 * 1024)}`), 414, 'url')
})

test('the explorer page and its bundled assets are served, same-origin only', async (t) => {
  const page = await app.inject({ method: 'GET', url: '/' })
  t.is(page.statusCode, 200)
  t.regex(page.headers['content-type']?.toString() ?? '', /text\/html/)
  t.regex(page.headers['content-security-policy']?.toString() ?? '', /default-src 'self'/)
  const scripts = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '').filter((s) => !s.startsWith('data:'))
  t.true(scripts.length >= 2)
  for (const s of scripts) {
    t.false(/^(https?:)?\/\//.test(s), `${s} must be bundled, not fetched from elsewhere`)
    t.is((await app.inject({ method: 'GET', url: `/${s}` })).statusCode, 200, s)
  }
  refused(t, await get('/assets/..%2Fpackage.json'), 400, 'params.file')
  refused(t, await get('/assets/nothing.js'), 404, 'url')
})

test('many concurrent requests all complete, a slow search does not hold up the others', async (t) => {
  const requests = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? get('/api/search?q=e') : i % 3 === 1 ? get(`/api/users/${userIds[i] ?? user}/recommendations`) : post('/api/recommendations', { likedGenres: ['Drama'] })))
  const answers = await Promise.all(requests)
  t.true(answers.every((a) => a.status === 200))
})

test('serve --watch swaps in a replaced model file and keeps serving when the new file is bad', async (t) => {
  const file = path.join(dir, 'watched.alsrec')
  model.saveSync(file)
  const server = await serve({ model: file, port: 0, watch: true, logger: false, settleMs: 50 })
  t.teardown(() => server.close())
  t.regex(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const k = async (): Promise<number> => ((await (await fetch(`${server.url}api/model`)).json()) as { k: number }).k
  t.is(await k(), 12)
  const other = trainSync(data, { factors: 5, epochs: 2, seed: 9 })
  let reloaded = server.reloaded()
  other.saveSync(path.join(dir, 'next.alsrec'))
  renameSync(path.join(dir, 'next.alsrec'), file)
  t.true(await reloaded)
  t.is(await k(), 5)
  reloaded = server.reloaded()
  writeFileSync(path.join(dir, 'bad.alsrec'), readFileSync(file).subarray(0, 1000))
  renameSync(path.join(dir, 'bad.alsrec'), file)
  t.false(await reloaded, 'a damaged file is refused')
  t.is(await k(), 5, 'the previous model still serves')
  t.is((await fetch(`${server.url}health`)).status, 200)
})

test('alsrec serve prints its URL and serves; without --model it is a usage error', async (t) => {
  const usage = spawnSync(process.execPath, ['bin/alsrec.js', 'serve'], { encoding: 'utf8', timeout: 60_000 })
  t.is(usage.status, 2)
  t.regex(usage.stderr, /--model/)
  const child = spawn(process.execPath, ['bin/alsrec.js', 'serve', '--model', modelFile, '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGTERM'))
  const url = await new Promise<string>((resolve, reject) => {
    let text = ''
    child.stderr.on('data', (b: Buffer) => {
      text += b.toString()
      const m = /explorer at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(text)
      if (m?.[1]) resolve(m[1])
    })
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)))
    setTimeout(() => reject(new Error(`no URL printed: ${text}`)), 30_000)
  })
  const health = (await (await fetch(`${url}health`)).json()) as { status: string }
  t.is(health.status, 'ok')
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGINT')
  t.is(await exited, 0)
})

test('export-web writes a self-contained folder, refuses a model over the limit and a non-empty folder', async (t) => {
  const out = path.join(dir, 'site')
  const r = await exportWeb({ model: modelFile, out })
  for (const f of r.files) t.true(existsSync(path.join(out, f)), f)
  const html = readFileSync(path.join(out, 'index.html'), 'utf8')
  t.false(/(src|href)="(https?:)?\/\//.test(html), 'no asset from elsewhere')
  t.deepEqual(readFileSync(path.join(out, 'data', 'model.alsrec')), readFileSync(modelFile))
  await t.throwsAsync(exportWeb({ model: modelFile, out }), { code: 'ALSREC_INVALID_ARGUMENT', message: /not empty.*--force/ })
  await t.notThrowsAsync(exportWeb({ model: modelFile, out, force: true }))
  const big = path.join(dir, 'big.alsrec')
  writeFileSync(big, '')
  truncateSync(big, EXPORT_LIMIT_BYTES + 1)
  await t.throwsAsync(exportWeb({ model: big, out: path.join(dir, 'big-site') }), { code: 'ALSREC_INVALID_ARGUMENT', message: /usable up to 64\.0 MiB.*alsrec serve/ })
  t.false(existsSync(path.join(dir, 'big-site')))
})
