// How close to the noise floor can any estimator of the planted model get on a generated set?
// The floor (truth.json) is the RMSE of the planted ratings against the written ones; a model
// must also *estimate* each user's and movie's k + 1 parameters from its training ratings, and
// that estimation error adds to every test rating's squared error. This script estimates the
// excess of the Bayes-optimal estimator of each side in an oracle experiment: the user side
// given the true movie vectors and biases (and the true priors), the movie side given the true
// users (and the true genre vectors, so each movie's prior mean is known). For a row with n
// training ratings the posterior covariance is Σ = (Σ₀⁻¹ + X̃ᵀX̃/σ²)⁻¹ and the expected excess of
// a test rating is tr(Σ E[x̃x̃ᵀ]), with x̃ = [x; 1] drawn like the generator draws the other
// side (synth/mod.rs: u ~ N(0, 0.16 I), b_u ~ N(0, 0.4²); v = 0.4 (N(0, 0.6² I) + Σ_g f_g/√|G|),
// f_g ~ N(0, 0.5² I), c_i ~ N(0, 0.45²)) and σ² the floor². X̃ᵀX̃ is sampled (Monte Carlo) for
// rows with up to 300 ratings and replaced by its mean beyond. The excesses are averaged over
// the test ratings of the bayesian bench's split (random 90/10, seed 42) with each rating's
// own user's and movie's training counts, and the bound is floor·√(1 + (e_U + e_V)/floor²)
// (the two sides add to first order; the joint problem can only be harder). It is an estimate,
// not a proof: the posterior is taken as Gaussian, the other side's draws as independent of the
// row's popularity, and the clamp credit below is a first-order correction.
//   GEN=/tmp/alsrec-bench/ml2m5 node scripts/bayes-bound.mjs
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec } from './bench/_common.mjs'

const dir = process.env.GEN ?? '/tmp/alsrec-bench/ml2m5'
const truth = JSON.parse(readFileSync(path.join(dir, 'truth.json'), 'utf8'))
const k = truth.factors
const data = await alsrec.loadMovieLens(dir)
const { train, test } = data.split({ kind: 'random', testFraction: 0.1, seed: 42 })
const floor = truth.noiseFloorRmse
const sigma2 = floor * floor

// mulberry32 and Box–Muller: a seeded stream, so the estimate is reproducible.
let state = 12345
const uniform = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform())

const GENRE_WEIGHTS = [0.205, 0.137, 0.072, 0.063, 0.063, 0.058, 0.049, 0.044, 0.036, 0.033, 0.025, 0.025, 0.023, 0.023, 0.013, 0.01, 0.008, 0.003, 0.001]
const genreVectors = GENRE_WEIGHTS.map(() => Array.from({ length: k }, () => 0.5 * normal()))
const drawGenre = () => {
  let x = uniform() * GENRE_WEIGHTS.reduce((a, b) => a + b, 0)
  for (let g = 0; g < GENRE_WEIGHTS.length; g++) if ((x -= GENRE_WEIGHTS[g]) < 0) return g
  return 0
}
const scale = 1.6 / Math.sqrt(k)
/** A movie as the generator draws it: [v; 1] and its genre part (the oracle's prior mean). */
function movie() {
  const count = 1 + Math.floor(uniform() * uniform() * 3.5)
  const gs = [...new Set(Array.from({ length: count }, drawGenre))]
  const prior = new Float64Array(k)
  for (const g of gs) for (let d = 0; d < k; d++) prior[d] += (genreVectors[g][d] / Math.sqrt(gs.length)) * scale
  const v = new Float64Array(k + 1)
  for (let d = 0; d < k; d++) v[d] = prior[d] + 0.6 * normal() * scale
  v[k] = 1
  return v
}
function user() {
  const u = new Float64Array(k + 1)
  for (let d = 0; d < k; d++) u[d] = normal() * scale
  u[k] = 1
  return u
}

const K1 = k + 1
/** Second moment E[x̃x̃ᵀ] of a side, by Monte Carlo. */
function secondMoment(draw, n = 200_000) {
  const m = new Float64Array(K1 * K1)
  for (let s = 0; s < n; s++) {
    const x = draw()
    for (let a = 0; a < K1; a++) for (let b = 0; b < K1; b++) m[a * K1 + b] += (x[a] * x[b]) / n
  }
  return m
}
/** tr(A⁻¹ M) for symmetric positive definite A (Cholesky). */
function traceInvTimes(A, M) {
  const L = Float64Array.from(A)
  for (let j = 0; j < K1; j++) {
    for (let p = 0; p < j; p++) L[j * K1 + j] -= L[j * K1 + p] ** 2
    L[j * K1 + j] = Math.sqrt(L[j * K1 + j])
    for (let i = j + 1; i < K1; i++) {
      for (let p = 0; p < j; p++) L[i * K1 + j] -= L[i * K1 + p] * L[j * K1 + p]
      L[i * K1 + j] /= L[j * K1 + j]
    }
  }
  let tr = 0
  const y = new Float64Array(K1)
  for (let c = 0; c < K1; c++) {
    // Solve A y = M[:, c] and add y[c].
    for (let i = 0; i < K1; i++) {
      let s = M[i * K1 + c]
      for (let p = 0; p < i; p++) s -= L[i * K1 + p] * y[p]
      y[i] = s / L[i * K1 + i]
    }
    for (let i = K1 - 1; i >= 0; i--) {
      let s = y[i]
      for (let p = i + 1; p < K1; p++) s -= L[p * K1 + i] * y[p]
      y[i] = s / L[i * K1 + i]
    }
    tr += y[c]
  }
  return tr
}

/** Expected excess of one side's row with n training ratings, the other side drawn by `draw`. */
function excessFor(n, priorPrecision, draw, moment) {
  const reps = n <= 300 ? Math.max(4, Math.ceil(2000 / n)) : 0
  const base = new Float64Array(K1 * K1)
  for (let a = 0; a < K1; a++) base[a * K1 + a] = priorPrecision[a]
  if (reps === 0) {
    const A = base.map((x, i) => x + (n * moment[i]) / sigma2)
    return traceInvTimes(A, moment)
  }
  let sum = 0
  for (let r = 0; r < reps; r++) {
    const A = Float64Array.from(base)
    for (let j = 0; j < n; j++) {
      const x = draw()
      for (let a = 0; a < K1; a++) for (let b = 0; b < K1; b++) A[a * K1 + b] += (x[a] * x[b]) / sigma2
    }
    sum += traceInvTimes(A, moment)
  }
  return sum / reps
}

const count = (ids) => {
  const c = new Map()
  for (const id of ids) c.set(id, (c.get(id) ?? 0) + 1)
  return c
}
const tr = train.ratingTriplets()
const writtenVariance = (() => {
  let a = 0
  let b = 0
  for (const x of tr.ratings) {
    a += x
    b += x * x
  }
  return b / tr.ratings.length - (a / tr.ratings.length) ** 2
})()
const userCounts = count(tr.userIds)
const movieCounts = count(tr.movieIds)
const te = test.ratingTriplets()
// Prior precisions: the user side's (u: 1/0.16 each, b_u: 1/0.16); the movie side's given its
// genres (v around its genre mean: 1/(0.6·0.4)², c_i: 1/0.45²).
const userPrior = Float64Array.from({ length: K1 }, (_, a) => (a < k ? 1 / scale ** 2 : 1 / 0.16))
const moviePrior = Float64Array.from({ length: K1 }, (_, a) => (a < k ? 1 / (0.6 * scale) ** 2 : 1 / 0.45 ** 2))
const movieMoment = secondMoment(movie)
const userMoment = secondMoment(user)
const memo = { user: new Map(), movie: new Map() }
const cached = (side, n) => {
  let e = memo[side].get(n)
  if (e === undefined) {
    e = side === 'user' ? excessFor(n, userPrior, movie, movieMoment) : excessFor(n, moviePrior, user, userMoment)
    memo[side].set(n, e)
  }
  return e
}
let eu = 0
let ev = 0
let cold = 0
for (let r = 0; r < te.userIds.length; r++) {
  eu += cached('user', userCounts.get(te.userIds[r]) ?? 0)
  ev += cached('movie', movieCounts.get(te.movieIds[r]) ?? 0)
  if (!movieCounts.has(te.movieIds[r])) cold++
}
eu /= te.userIds.length
ev /= te.userIds.length
const ratio = (e) => Math.sqrt(1 + e / sigma2)

// The floor itself is not the best a model can do: written ratings are rounded to half stars and
// clamped to [0.5, 5], so E[w | p] ≠ p near the ends, and a model fitted to w may shrink toward
// it. The model's form μ + b_u + c_i + u·v holds every affine a + b·p of the planted rating, so
// its floor with the parameters known is min over (a, b) of E[(w − a − b·p)²]. Planted ratings
// are drawn like the generator's (popularity's small tilt toward good movies left out), and the
// half-star bins are integrated exactly under the Gaussian noise.
const erf = (x) => {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
  const t = 1 / (1 + 0.3275911 * Math.abs(x))
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x)
  return x >= 0 ? y : -y
}
const cdf = (x) => 0.5 * (1 + erf(x / Math.SQRT2))
const noise = truth.noise
function writtenMoments(p) {
  // w = clamp(round(2(p + e))/2, 0.5, 5); bins of half a star.
  let m1 = 0
  let m2 = 0
  for (let w = 0.5; w <= 5.0001; w += 0.5) {
    const lo = w === 0.5 ? -Infinity : w - 0.25
    const hi = w === 5 ? Infinity : w + 0.25
    const q = cdf((hi - p) / noise) - cdf((lo - p) / noise)
    m1 += q * w
    m2 += q * w * w
  }
  return [m1, m2]
}
const S = 200_000
let sp = 0, spp = 0, sw = 0, swp = 0, sww = 0, sFloor = 0, sCond = 0
for (let s = 0; s < S; s++) {
  const u = user()
  const v = movie()
  let dot = 0
  for (let d = 0; d < k; d++) dot += u[d] * v[d]
  const p = 3.55 + 0.4 * normal() + 0.45 * normal() + dot
  const [m1, m2] = writtenMoments(p)
  sp += p
  spp += p * p
  sw += m1
  swp += m1 * p
  sww += m2
  sFloor += m2 - 2 * p * m1 + p * p
  sCond += m2 - m1 * m1
}
const cov = swp / S - (sw / S) * (sp / S)
const varP = spp / S - (sp / S) ** 2
const linearFloor2 = sww / S - (sw / S) ** 2 - (cov * cov) / varP
const modelFloor = Math.sqrt(linearFloor2)
console.log(JSON.stringify({
  set: path.basename(dir),
  ratings: data.numRatings,
  floor: Number(floor.toFixed(4)),
  testRatings: te.userIds.length,
  testRatingsOfUnseenMovies: cold,
  userSideExcess: Number(eu.toFixed(5)),
  movieSideExcess: Number(ev.toFixed(5)),
  userOracleRatio: Number(ratio(eu).toFixed(4)),
  movieOracleRatio: Number(ratio(ev).toFixed(4)),
  boundRatio: Number(ratio(eu + ev).toFixed(4)),
  boundRmse: Number((floor * ratio(eu + ev)).toFixed(4)),
  simulatedFloor: Number(Math.sqrt(sFloor / S).toFixed(4)),
  affineFloor: Number(modelFloor.toFixed(4)),
  affineSlope: Number((cov / varP).toFixed(4)),
  bayesFloor: Number(Math.sqrt(sCond / S).toFixed(4)),
  simulatedWrittenVariance: Number((sww / S - (sw / S) ** 2).toFixed(4)),
  writtenVariance: Number(writtenVariance.toFixed(4)),
  // Crediting the clamp: the affine floor in place of the floor (as a share of the simulated
  // floor), and the estimation error shrunk by the affine slope b (the prediction a + b·p̂).
  boundRatioClampCredit: Number(Math.sqrt(linearFloor2 / (sFloor / S) + ((cov / varP) ** 2 * (eu + ev)) / sigma2).toFixed(4)),
}))
