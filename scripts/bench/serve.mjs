// `npm run bench serve`: HTTP load on `alsrec serve` over loopback (autocannon), on a k = 64
// biased model of the generated 25M set (162,541 users × 62,423 movies; the model of the query
// bench). For each worker count (ALSREC_BENCH_SERVE_WORKERS, default "1,2"):
// - known-user top-10, 32 connections, closed loop (each connection sends its next request as
//   soon as the last is answered) for 60 s, sampling the servers' RSS every second: the most
//   the server answers, and its latency when saturated;
// - the same requests offered at a fixed 1,000 req/s (evenly spaced, open loop: _open_loop.mjs)
//   over up to 32 connections for 20 s: the latency at the target rate, which a closed
//   loop cannot show (there, latency is connections ÷ throughput by construction);
// - new-user top-10 (POST, 5 ratings, with the "because" lines), closed loop, 20 s.
// Target: ≥ 1,000 req/s with p99 ≤ 10 ms, memory steady. The model is trained once and kept
// at ALSREC_BENCH_SERVE_MODEL (default /tmp/alsrec-bench/serve-k64.alsrec).
// ALSREC_BENCH_SECONDS shortens the closed-loop known-user run. Writes JSON to argv[2].
import autocannon from 'autocannon'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { alsrec, ensureMl25m, ML25M_DIR, root, writeResult } from './_common.mjs'
import { openLoop } from './_open_loop.mjs'

const out = process.argv[2] ?? 'bench-results/serve.json'
const seconds = Number(process.env.ALSREC_BENCH_SECONDS ?? 60)
const modelFile = process.env.ALSREC_BENCH_SERVE_MODEL ?? '/tmp/alsrec-bench/serve-k64.alsrec'
const workerCounts = (process.env.ALSREC_BENCH_SERVE_WORKERS ?? '1,2').split(',').map(Number)
const targetRate = 1000

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

function startServer(workers) {
  const server = spawn(process.execPath, [path.join(root, 'bin', 'alsrec.js'), 'serve', '--model', modelFile, '--port', '0', '--log-level', 'warn', '--workers', String(workers)], { stdio: ['ignore', 'ignore', 'pipe'] })
  const url = new Promise((resolve, reject) => {
    let text = ''
    server.stderr.on('data', (b) => {
      text += b.toString()
      const m = /explorer at (http:\/\/127\.0\.0\.1:\d+)\//.exec(text)
      if (m) resolve(m[1])
    })
    server.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${text}`)))
    setTimeout(() => reject(new Error(`serve did not start: ${text}`)), 300_000)
  })
  return { server, url }
}

const rssOf = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}
/** The RSS of the server and of its worker processes, MB. */
const treeRssMb = (pid) => {
  let total = rssOf(pid)
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim()
    for (const child of children === '' ? [] : children.split(' ')) total += rssOf(Number(child))
  }
  return total
}

let seed = 12345
const random = (n) => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed % n
}

function run(url, opts) {
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

const knownUser = [{ setupRequest: (req) => ({ ...req, path: `/api/users/${userIds[random(userIds.length)]}/recommendations?n=10` }) }]
const newUser = [
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
]

const byWorkers = {}
for (const workers of workerCounts) {
  const { server, url: started } = startServer(workers)
  try {
    const url = await started
    // Warm-up: the first queries build each worker's query index.
    await run(url, { duration: 3 + workers, requests: knownUser })
    const rss = []
    const sampler = setInterval(() => rss.push(treeRssMb(server.pid)), 1000)
    const closed = await run(url, { duration: seconds, requests: knownUser })
    clearInterval(sampler)
    const atRate = await openLoop({ url, rate: targetRate, seconds: 20, connections: 32, path: () => `/api/users/${userIds[random(userIds.length)]}/recommendations?n=10` })
    const fresh = await run(url, { duration: 20, requests: newUser })
    const tenth = rss[Math.min(9, rss.length - 1)] ?? null
    byWorkers[workers] = {
      knownUserTop10: summary(closed),
      knownUserTop10At1000: atRate,
      newUserTop10: summary(fresh),
      serverRssMb: { atStart: rss[0] ?? null, after10s: tenth, atEnd: rss.at(-1) ?? null, max: Math.max(...rss), growthAfter10sMb: tenth === null ? null : (rss.at(-1) ?? 0) - tenth, samples: rss.length },
    }
    const r = byWorkers[workers]
    console.log(`workers ${workers}: known closed ${r.knownUserTop10.requestsPerSecond.toFixed(0)} req/s p50 ${r.knownUserTop10.latencyMs.p50} p99 ${r.knownUserTop10.latencyMs.p99} ms; at ${targetRate}/s p50 ${r.knownUserTop10At1000.latencyMs.p50} p99 ${r.knownUserTop10At1000.latencyMs.p99} ms; new user ${r.newUserTop10.requestsPerSecond.toFixed(0)} req/s p99 ${r.newUserTop10.latencyMs.p99} ms; RSS ${r.serverRssMb.atStart?.toFixed(0)} → ${r.serverRssMb.atEnd?.toFixed(0)} MB`)
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
}

writeResult(out, {
  benchmark: 'serve',
  note: 'loopback, autocannon with 32 connections; client and server share the machine. Closed loop: each connection waits for its answer; At1000: 1,000 req/s offered on a fixed schedule, latency from the scheduled start.',
  model: { kind: model.kind, factors: model.factors, users: model.numUsers, movies: model.numMovies, file: modelFile, trainSeconds },
  target: { requestsPerSecond: targetRate, p99Ms: 10 },
  byWorkers,
})
