// `npm run bench serve`: HTTP load on `alsrec serve` over loopback (autocannon), on a k = 64
// biased model of the generated 25M set (162,541 users × 62,423 movies; the model of the query
// bench). Known-user top-10 with 32 connections for 60 s, sampling the server's RSS every
// second; then new-user top-10 (POST, 5 ratings) for 20 s. Target: ≥ 1,000 req/s, p99 ≤ 10 ms,
// memory steady. The model is trained once and kept at ALSREC_BENCH_SERVE_MODEL (default
// /tmp/alsrec-bench/serve-k64.alsrec). ALSREC_BENCH_SECONDS shortens the known-user run.
// Writes JSON to the path given as argv[2].
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec, ensureMl25m, ML25M_DIR, root, writeResult } from './_common.mjs'

const out = process.argv[2] ?? 'bench-results/serve.json'
const seconds = Number(process.env.ALSREC_BENCH_SECONDS ?? 60)
const modelFile = process.env.ALSREC_BENCH_SERVE_MODEL ?? '/tmp/alsrec-bench/serve-k64.alsrec'

let trainSeconds = null
if (!existsSync(modelFile)) {
  await ensureMl25m()
  const data = await alsrec.loadMovieLens(ML25M_DIR)
  const t = process.hrtime.bigint()
  const model = await alsrec.train(data, { model: 'biased', factors: 64, epochs: 3, tolerance: 0, seed: 1, ranker: null })
  trainSeconds = Number(process.hrtime.bigint() - t) / 1e9
  await model.save(modelFile)
  console.log(`trained k=64 in ${trainSeconds.toFixed(1)} s, saved ${modelFile}`)
}
const model = await alsrec.loadModel(modelFile)
const userIds = Array.from(model.userIds())
const movieIds = Array.from(model.movieIds()).slice(0, 2000)

const server = spawn(process.execPath, [path.join(root, 'bin', 'alsrec.js'), 'serve', '--model', modelFile, '--port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
const url = await new Promise((resolve, reject) => {
  let text = ''
  server.stderr.on('data', (b) => {
    text += b.toString()
    const m = /explorer at (http:\/\/127\.0\.0\.1:\d+)\//.exec(text)
    if (m) resolve(m[1])
  })
  server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)))
  setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 300_000)
})
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : null
}

let seed = 12345
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed % n
}

function run(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: 32, pipelining: 1, ...opts }, (err, result) => (err ? reject(err) : resolve(result)))
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false })
  })
}

function summary(r) {
  return {
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    seconds: r.duration,
  }
}

try {
  // Warm-up: the first queries build the model's query index.
  await run({ duration: 3, requests: [{ setupRequest: (req) => ({ ...req, path: `/api/users/${userIds[random(userIds.length)]}/recommendations?n=10` }) }] })
  const rss = []
  const sampler = setInterval(() => rss.push(rssMb()), 1000)
  const known = await run({ duration: seconds, requests: [{ setupRequest: (req) => ({ ...req, path: `/api/users/${userIds[random(userIds.length)]}/recommendations?n=10` }) }] })
  clearInterval(sampler)
  const newUser = await run({
    duration: 20,
    requests: [
      {
        method: 'POST',
        path: '/api/recommendations',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const ratings = Array.from({ length: 5 }, (_, i) => ({ movieId: movieIds[(random(movieIds.length) + i) % movieIds.length], rating: 1 + random(9) / 2 }))
          const unique = [...new Map(ratings.map((r) => [r.movieId, r])).values()]
          return { ...req, body: JSON.stringify({ ratings: unique, n: 10 }) }
        },
      },
    ],
  })
  const steady = rss.filter((x) => x !== null)
  const tenth = steady[Math.min(9, steady.length - 1)] ?? null
  writeResult(out, {
    benchmark: 'serve',
    note: 'loopback, autocannon with 32 connections; client and server share the machine',
    model: { kind: model.kind, factors: model.factors, users: model.numUsers, movies: model.numMovies, file: modelFile, trainSeconds },
    knownUserTop10: { ...summary(known), target: { requestsPerSecond: 1000, p99Ms: 10 } },
    newUserTop10: summary(newUser),
    serverRssMb: { atStart: steady[0] ?? null, after10s: tenth, atEnd: steady.at(-1) ?? null, max: Math.max(...steady), growthAfter10sMb: tenth === null ? null : (steady.at(-1) ?? 0) - tenth, samples: steady.length },
  })
} finally {
  server.kill('SIGTERM')
}
