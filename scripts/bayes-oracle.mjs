// An oracle experiment that checks scripts/bayes-bound.mjs by measurement. The (user, movie)
// pairs and the genres of a generated set are kept, the ratings are planted anew here, the way
// synth/mod.rs plants them (u ~ N(0, 0.4² I), b_u ~ N(0, 0.4²), v = 0.4 (N(0, 0.6² I) +
// Σ_g f_g/√|G|), c_i ~ N(0, 0.45²), noise 0.75, half stars clamped to [0.5, 5]), so the truth is
// known. On the bayesian bench's split (random 90/10, seed 42) it measures the test RMSE over
// the floor of: the user-side oracle (each user's posterior mean given the true movies and the
// true prior), the movie-side oracle (given the true users and genre vectors), and the sampler
// at its defaults (k = 32). The set is written to /tmp (never committed).
//   GEN=/tmp/alsrec-bench/ml2m5 node scripts/bayes-oracle.mjs
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec } from './bench/_common.mjs'

const source = process.env.GEN ?? '/tmp/alsrec-bench/ml2m5'
const dir = `${source}-oracle`
const k = 16
const K1 = k + 1
const NOISE = 0.75
const scale = 1.6 / Math.sqrt(k)

let state = 2024
const uniform = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())

const original = await alsrec.loadMovieLens(source)
const all = original.ratingTriplets()
// movies.csv: id first, genres last (a title may hold commas, never a genre).
const catalog = readFileSync(path.join(source, 'movies.csv'), 'utf8').trim().split('\n').slice(1).map((line) => [Number(line.slice(0, line.indexOf(','))), line.slice(line.lastIndexOf(',') + 1).split('|')])
const genreNames = [...new Set(catalog.flatMap(([, gs]) => gs))]
const genreVectors = genreNames.map(() => Float64Array.from({ length: k }, () => 0.5 * normal()))
// Planted movies by raw id: [v; 1], the genre part (the movie oracle's prior mean) and c.
const movies = new Map()
catalog.forEach(([id, names]) => {
  const gs = names.map((g) => genreNames.indexOf(g))
  const prior = new Float64Array(K1)
  for (const g of gs) for (let d = 0; d < k; d++) prior[d] += (genreVectors[g][d] / Math.sqrt(gs.length)) * scale
  const v = new Float64Array(K1)
  for (let d = 0; d < k; d++) v[d] = prior[d] + 0.6 * normal() * scale
  v[k] = 1
  movies.set(id, { v, prior, bias: 0.45 * normal() })
})
const users = new Map()
for (const id of original.userIds()) {
  const u = Float64Array.from({ length: K1 }, (_, d) => (d < k ? normal() * scale : 1))
  users.set(id, { u, bias: 0.4 * normal() })
}
const planted = (uid, mid) => {
  const u = users.get(uid)
  const m = movies.get(mid)
  let dot = 0
  for (let d = 0; d < k; d++) dot += u.u[d] * m.v[d]
  return 3.55 + u.bias + m.bias + dot
}
mkdirSync(dir, { recursive: true })
const lines = ['userId,movieId,rating,timestamp']
let sq = 0
for (let r = 0; r < all.userIds.length; r++) {
  const p = planted(all.userIds[r], all.movieIds[r])
  const w = Math.min(5, Math.max(0.5, Math.round((p + NOISE * normal()) * 2) / 2))
  sq += (w - p) ** 2
  lines.push(`${all.userIds[r]},${all.movieIds[r]},${w},${1_000_000_000 + r}`)
}
writeFileSync(path.join(dir, 'ratings.csv'), lines.join('\n') + '\n')
copyFileSync(path.join(source, 'movies.csv'), path.join(dir, 'movies.csv'))
const floor = Math.sqrt(sq / all.userIds.length)
const sigma2 = floor * floor

const data = await alsrec.loadMovieLens(dir)
const { train, test } = data.split({ kind: 'random', testFraction: 0.1, seed: 42 })
const tr = train.ratingTriplets()
const te = test.ratingTriplets()

/** Solves (P) x = b for symmetric positive definite P of size K1 (Cholesky, in place). */
function solve(P, b) {
  for (let j = 0; j < K1; j++) {
    for (let p = 0; p < j; p++) P[j * K1 + j] -= P[j * K1 + p] ** 2
    P[j * K1 + j] = Math.sqrt(P[j * K1 + j])
    for (let i = j + 1; i < K1; i++) {
      for (let p = 0; p < j; p++) P[i * K1 + j] -= P[i * K1 + p] * P[j * K1 + p]
      P[i * K1 + j] /= P[j * K1 + j]
    }
  }
  for (let i = 0; i < K1; i++) {
    for (let p = 0; p < i; p++) b[i] -= P[i * K1 + p] * b[p]
    b[i] /= P[i * K1 + i]
  }
  for (let i = K1 - 1; i >= 0; i--) {
    for (let p = i + 1; p < K1; p++) b[i] -= P[p * K1 + i] * b[p]
    b[i] /= P[i * K1 + i]
  }
  return b
}
/**
 * Each row's posterior mean given the other side's true x̃ (rows of `byRow`): prior N(m₀, diag(1/π))
 * over [x; bias], target the rating less μ and the other side's bias.
 */
function oracle(rowIds, otherIds, ratings, other, priorPrecision, priorMean, otherBias) {
  const systems = new Map()
  for (let r = 0; r < rowIds.length; r++) {
    let s = systems.get(rowIds[r])
    if (!s) {
      s = { P: new Float64Array(K1 * K1), b: new Float64Array(K1) }
      systems.set(rowIds[r], s)
    }
    const x = other(otherIds[r])
    const t = ratings[r] - 3.55 - otherBias(otherIds[r])
    for (let a = 0; a < K1; a++) {
      s.b[a] += (t * x[a]) / sigma2
      for (let c = 0; c < K1; c++) s.P[a * K1 + c] += (x[a] * x[c]) / sigma2
    }
  }
  const means = new Map()
  for (const [id, s] of systems) {
    const m0 = priorMean(id)
    for (let a = 0; a < K1; a++) {
      s.P[a * K1 + a] += priorPrecision[a]
      s.b[a] += priorPrecision[a] * m0[a]
    }
    means.set(id, solve(s.P, s.b))
  }
  return means
}
const zero = new Float64Array(K1)
const userTheta = oracle(tr.userIds, tr.movieIds, tr.ratings, (m) => movies.get(m).v, Float64Array.from({ length: K1 }, (_, a) => (a < k ? 1 / scale ** 2 : 1 / 0.16)), () => zero, (m) => movies.get(m).bias)
const movieTheta = oracle(tr.movieIds, tr.userIds, tr.ratings, (u) => users.get(u).u, Float64Array.from({ length: K1 }, (_, a) => (a < k ? 1 / (0.6 * scale) ** 2 : 1 / 0.45 ** 2)), (m) => movies.get(m).prior, (u) => users.get(u).bias)
let userSq = 0
let movieSq = 0
let testFloorSq = 0
for (let r = 0; r < te.userIds.length; r++) {
  const uid = te.userIds[r]
  const mid = te.movieIds[r]
  const w = te.ratings[r]
  const m = movies.get(mid)
  const u = users.get(uid)
  const th = userTheta.get(uid)
  let pu = 3.55 + m.bias
  for (let a = 0; a < K1; a++) pu += th[a] * m.v[a]
  const ph = movieTheta.get(mid)
  let pm = 3.55 + u.bias
  if (ph) for (let a = 0; a < K1; a++) pm += ph[a] * u.u[a]
  else for (let d = 0; d < k; d++) pm += m.prior[d] * u.u[d]
  userSq += (w - pu) ** 2
  movieSq += (w - pm) ** 2
  testFloorSq += (w - planted(uid, mid)) ** 2
}
const n = te.userIds.length
const testFloor = Math.sqrt(testFloorSq / n)
const model = await alsrec.train(train, { model: 'bayesian', factors: 32, ranker: null, seed: 1 }, { testSet: test })
const sampler = model.history.at(-1).testRmse
console.log(JSON.stringify({
  set: path.basename(dir),
  floor: Number(floor.toFixed(4)),
  testFloor: Number(testFloor.toFixed(4)),
  userOracleRatio: Number((Math.sqrt(userSq / n) / floor).toFixed(4)),
  movieOracleRatio: Number((Math.sqrt(movieSq / n) / floor).toFixed(4)),
  bothSidesEstimate: Number(Math.sqrt((userSq + movieSq) / n / sigma2 - 1).toFixed(4)),
  samplerRatio: Number((sampler / floor).toFixed(4)),
}))
