// Query speed on an ml-25m-shaped model (162,541 users × 62,423 movies, k = 64): one recommend
// (p50/p99 over 1,000 users), recommendMany of those 1,000, recommendAll — each for the default
// list and over every movie — recommendForNewUser from 5 ratings, save and load of the model file.
// The model is trained for a few epochs on the generated 25M set (ensureMl25m); set
// ALSREC_BENCH_EPOCHS to change how many. ALSREC_BENCH_MODEL=<file> reuses the model saved
// there by an earlier run (trained and saved on the first), to skip training while iterating.
// Writes JSON to the path given as argv[2].
import { existsSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { alsrec, ensureMl25m, ML25M_DIR, median, timeIt, writeResult } from './_common.mjs'

const out = process.argv[2] ?? 'bench-results/query.json'
const epochs = Number(process.env.ALSREC_BENCH_EPOCHS ?? 3)
await ensureMl25m()
let t = process.hrtime.bigint()
const data = await alsrec.loadMovieLens(ML25M_DIR)
const loadDataSeconds = Number(process.hrtime.bigint() - t) / 1e9
const cached = process.env.ALSREC_BENCH_MODEL
const reused = Boolean(cached && existsSync(cached))
t = process.hrtime.bigint()
const model = reused
  ? await alsrec.loadModel(cached)
  : await alsrec.train(data, { model: 'biased', factors: 64, epochs, tolerance: 0, seed: 1, ranker: null })
const trainSeconds = Number(process.hrtime.bigint() - t) / 1e9
if (cached && !reused) await model.save(cached)
console.log(`${reused ? `loaded ${cached}` : `trained k=64 for ${epochs} epochs`} in ${trainSeconds.toFixed(1)} s`)

const userIds = model.userIds()
// 1,000 random users, the same in every run.
const users = []
let seed = 12345
for (let i = 0; i < 1000; i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  users.push(userIds[seed % userIds.length])
}
const percentiles = (samples) => {
  const s = [...samples].sort((a, b) => a - b)
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s.at(-1) }
}
/** Milliseconds per call of `fn(user)` over the 1,000 users, after a warm-up pass. */
function perUser(fn) {
  for (const u of users.slice(0, 100)) fn(u)
  return users.map((u) => {
    const s = process.hrtime.bigint()
    fn(u)
    return Number(process.hrtime.bigint() - s) / 1e6
  })
}
// The default list (movies below the popularity floor left out, as every caller gets them) and
// the list over every movie (minRatings 0), which is the workload `implicit` is measured on.
const scopes = { default: { n: 10 }, allMovies: { n: 10, minRatings: 0 } }
model.recommend(users[0], { n: 10 })
const recommendMs = {}
const recommendManySeconds = {}
const recommendAllSeconds = {}
for (const [name, options] of Object.entries(scopes)) {
  recommendMs[name] = { ...percentiles(perUser((u) => model.recommend(u, options))), target50: 0.25, target99: 0.5 }
  const many = await timeIt(() => model.recommendMany(users, options), 5)
  recommendManySeconds[name] = { ...many, users: users.length, target: 0.1 }
  const all = await timeIt(() => model.recommendAll(options), 2)
  recommendAllSeconds[name] = { ...all, target: 8 }
}

const favourites = model.catalog.movies.slice(0, 5).map((m) => ({ movie: m.movieId, rating: 4.5 }))
model.recommendForNewUser({ ratings: favourites })
const newUser = []
for (let i = 0; i < 1000; i++) {
  const s = process.hrtime.bigint()
  model.recommendForNewUser({ ratings: favourites }, { n: 10 })
  newUser.push(Number(process.hrtime.bigint() - s) / 1e6)
}

const file = path.join(tmpdir(), `alsrec-bench-${process.pid}.alsrec`)
const save = await timeIt(() => model.save(file), 3)
const bytes = statSync(file).size
const load = await timeIt(() => alsrec.loadModel(file), 3)
rmSync(file)

writeResult(out, {
  benchmark: 'query',
  model: { kind: 'biased', factors: 64, epochs, users: model.numUsers, movies: model.numMovies, ratings: data.numRatings, trainSeconds: reused ? null : trainSeconds, reusedModel: reused ? cached : null, loadDataSeconds },
  popularityFloor: model.popularityFloor,
  recommendMs,
  recommendManySeconds,
  recommendAllSeconds,
  recommendForNewUserMs: { median: median(newUser), ...percentiles(newUser), target99: 1 },
  saveSeconds: { median: save.median, samples: save.samples, target: 1 },
  loadSeconds: { median: load.median, samples: load.samples, target: 1 },
  fileMb: bytes / 2 ** 20,
})
