// `npm run bench peers`: alsrec against peer libraries on the same data, threads and workloads,
// so that every speed claim is a ratio measured in one run. Peers (each skipped with a one-line
// message when its Python venv cannot be made, see peer-venv.sh): `implicit` (implicit ALS and
// its top-N queries) and LensKit 0.14 (BiasedMF and ImplicitMF). Workloads:
//   explicit k=32, k=64   alsrec 'biased' (ranker: null) vs LensKit BiasedMF
//   implicit k=64         alsrec 'implicit' vs implicit's AlternatingLeastSquares and LensKit ImplicitMF
//   queries (on the implicit k=64 models)  one user at a time (p50/p99 over USERS random users),
//                         a batch of those users in one call, all users; seen movies excluded
// Each repeat runs alsrec then each peer (interleaved, so that load on this shared machine hits
// both alike); medians over repeats are reported, with the ratio peer / alsrec (how many times
// faster alsrec is). Each peer runs in one peers.py process for the whole benchmark, fed the
// ratings once as .npy files and warmed up (numba compiles) before anything is timed; both
// sides time only the library calls.
//
// Environment: ALSREC_PEERS_DATA=<MovieLens dir> (default: the 25M generated set, made once by
// ensureMl25m, at ALSREC_BENCH_DATA if set) or ALSREC_PEERS_RATINGS=<n> (a generated set of n ratings shaped like the 25M
// one, for quick runs); ALSREC_PEERS_REPEATS (3), ALSREC_PEERS_EPOCHS (2: LensKit's first epoch
// also does its setup, so a second is needed for an update time), ALSREC_PEERS_USERS (1000),
// ALSREC_PEERS_ONLY=implicit|lenskit to run one peer.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'

import { alsrec, ensureMl25m, machine, median, ML25M, root, writeResult } from './_common.mjs'

const out = process.argv[2] ?? 'bench-results/peers.json'
const env = process.env
const REPEATS = positive('ALSREC_PEERS_REPEATS', 3)
const EPOCHS = positive('ALSREC_PEERS_EPOCHS', 2)
const USERS = positive('ALSREC_PEERS_USERS', 1000)
const THREADS = 2
const N = 10
const ONLY = env.ALSREC_PEERS_ONLY ?? null
const benchDir = path.join(root, 'scripts', 'bench')

function positive(name, fallback) {
  const v = env[name] === undefined ? fallback : Number(env[name])
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${env[name]}`)
  return v
}

const seconds = (t) => Number(process.hrtime.bigint() - t) / 1e9
const round = (x, d = 4) => (x === null || x === undefined ? null : Number(x.toFixed(d)))
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]

async function dataDir() {
  if (env.ALSREC_PEERS_DATA) return { dir: env.ALSREC_PEERS_DATA, generated: null }
  if (env.ALSREC_PEERS_RATINGS) {
    const ratings = positive('ALSREC_PEERS_RATINGS', 0)
    const f = ratings / ML25M.ratings
    const spec = { ...ML25M, ratings, users: Math.max(10, Math.round(ML25M.users * f)), movies: Math.max(10, Math.round(ML25M.movies * f)) }
    const dir = path.join(tmpdir(), 'alsrec-bench', `peers-${ratings}`)
    const truth = path.join(dir, 'truth.json')
    if (!(existsSync(truth) && JSON.parse(readFileSync(truth, 'utf8')).ratings === ratings)) await alsrec.generate(dir, spec)
    return { dir, generated: spec }
  }
  const { report } = await ensureMl25m()
  return { dir: process.env.ALSREC_BENCH_DATA ?? '/tmp/alsrec-bench/ml25m', generated: report }
}

/** A 1-D little-endian .npy file (format 1.0), readable by numpy.load with mmap. */
function writeNpy(file, array) {
  const descr = array instanceof Float64Array ? '<f8' : array instanceof Float32Array ? '<f4' : null
  if (!descr) throw new Error('writeNpy: Float64Array or Float32Array only')
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${array.length},), }`
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n'
  const pre = Buffer.alloc(10)
  pre.write('\x93NUMPY', 0, 'latin1')
  pre[6] = 1
  pre[7] = 0
  pre.writeUInt16LE(header.length, 8)
  const fd = openSync(file, 'w')
  try {
    writeSync(fd, pre)
    writeSync(fd, Buffer.from(header, 'latin1'))
    const bytes = Buffer.from(array.buffer, array.byteOffset, array.byteLength)
    for (let o = 0; o < bytes.length; o += 1 << 26) writeSync(fd, bytes, o, Math.min(1 << 26, bytes.length - o))
  } finally {
    closeSync(fd)
  }
}

function venv(flag) {
  const r = spawnSync('bash', [path.join(benchDir, 'peer-venv.sh'), ...(flag ? [flag] : [])], { encoding: 'utf8' })
  if (r.status !== 0) return { skip: (r.stderr || 'peer venv unavailable').trim().split('\n').at(-1) }
  return { python: r.stdout.trim().split('\n').at(-1) }
}

/**
 * A peers.py --serve process: it reads the data and compiles once, then answers runs one at a
 * time, so that its start-up is never inside a timed section of either side.
 */
class Peer {
  constructor(name, py, args) {
    this.name = name
    this.stderr = ''
    this.lines = []
    this.waiting = null
    this.exited = null
    this.child = spawn(py, [path.join(benchDir, 'peers.py'), ...args, '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)))
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = null
        w.resolve(line)
      } else this.lines.push(line)
    })
    this.child.on('exit', (code, signal) => {
      this.exited = `peers.py (${name}) exited ${code ?? signal}: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`
      if (this.waiting) this.waiting.reject(new Error(this.exited))
    })
  }

  /** Resolves with the first line, {"ready": true, ...}, once the data are read and compiled. */
  ready() {
    return this.next()
  }

  async run(request) {
    if (this.exited) throw new Error(this.exited)
    this.child.stdin.write(JSON.stringify(request) + '\n')
    return this.next()
  }

  async next() {
    if (this.exited && !this.lines.length) throw new Error(this.exited)
    const line = this.lines.length ? this.lines.shift() : await new Promise((resolve, reject) => (this.waiting = { resolve, reject }))
    return JSON.parse(line)
  }

  close() {
    this.child.stdin.end()
  }
}

// ---- data, ids and the hand-off (outside every timed section)
const { dir, generated } = await dataDir()
let t = process.hrtime.bigint()
const data = await alsrec.loadMovieLens(dir)
const loadSeconds = seconds(t)
console.log(`peers: ${data.numRatings.toLocaleString('en')} ratings, ${data.numUsers} users, ${data.numMovies} movies from ${dir} (loaded in ${loadSeconds.toFixed(1)} s)`)

const peers = {}
for (const [name, flag] of [['implicit', null], ['lenskit', '--lenskit']]) {
  if (ONLY && ONLY !== name) {
    peers[name] = { skip: `not run (ALSREC_PEERS_ONLY=${ONLY})` }
  } else {
    peers[name] = venv(flag)
  }
  if (peers[name].skip) console.log(`peers: skipping ${name}: ${peers[name].skip}`)
}
const anyPeer = Object.values(peers).some((p) => p.python)

const hand = mkdtempSync(path.join(tmpdir(), 'alsrec-peers-'))
process.on('exit', () => rmSync(hand, { recursive: true, force: true }))
const userIds = data.userIds()
let seed = 12345
const queryUsers = []
for (let i = 0; i < Math.min(USERS, userIds.length); i++) {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  queryUsers.push(userIds[seed % userIds.length])
}
writeFileSync(path.join(hand, 'users.txt'), queryUsers.join('\n') + '\n')
if (anyPeer) {
  t = process.hrtime.bigint()
  const triplets = data.ratingTriplets()
  writeNpy(path.join(hand, 'users.npy'), triplets.userIds)
  writeNpy(path.join(hand, 'items.npy'), triplets.movieIds)
  writeNpy(path.join(hand, 'ratings.npy'), triplets.ratings)
  console.log(`peers: hand-off written in ${seconds(t).toFixed(1)} s`)
}
// Each peer reads the hand-off and warms up now, one after the other and before anything is timed.
for (const [name, p] of Object.entries(peers)) {
  if (!p.python) continue
  t = process.hrtime.bigint()
  const args = ['--data', hand, '--lib', name, '--threads', String(THREADS), '--n', String(N)]
  if (name === 'implicit') args.push('--queries', path.join(hand, 'users.txt'))
  p.worker = new Peer(name, p.python, args)
  try {
    const r = await p.worker.ready()
    p.readySeconds = round(seconds(t), 1)
    console.log(`peers: ${name} ready in ${p.readySeconds} s${r.readySeconds ? ` (${r.readySeconds.toFixed(1)} s reading and compiling)` : ''}`)
  } catch (e) {
    p.skip = e.message
    p.python = null
    console.log(`peers: skipping ${name}: ${e.message}`)
  }
}

// ---- one sample of each side
async function alsrecTrain(config) {
  global.gc?.()
  const t0 = process.hrtime.bigint()
  const model = await alsrec.train(data, { epochs: EPOCHS, tolerance: 0, seed: 1, threads: THREADS, ...config })
  const wall = seconds(t0)
  return { model, epochSeconds: model.history.map((h) => h.seconds), wallSeconds: wall }
}

async function alsrecQueries(model) {
  const opts = { n: N, minRatings: 0 }
  model.recommend(queryUsers[0], opts) // the first call builds the query index
  const single = []
  for (const u of queryUsers) {
    const s = process.hrtime.bigint()
    model.recommend(u, opts)
    single.push(seconds(s) * 1e3)
  }
  let s = process.hrtime.bigint()
  const batch = await model.recommendMany(queryUsers, opts)
  const batchSeconds = seconds(s)
  s = process.hrtime.bigint()
  const all = await model.recommendAll(opts)
  const allSeconds = seconds(s)
  if (batch.userIds.length !== queryUsers.length || all.userIds.length !== model.numUsers) throw new Error('recommendMany/All returned the wrong users')
  return { singleMs: single, batchSeconds, batchUsers: queryUsers.length, allSeconds, allUsers: model.numUsers }
}

function peerSample(name, model, k, queries) {
  return peers[name].worker.run({ model, factors: k, epochs: EPOCHS, queries })
}

// ---- the workloads, interleaved
const trainSummary = (samples) => ({
  epochSeconds: samples.some((s) => s.epochSeconds.length) ? round(median(samples.filter((s) => s.epochSeconds.length).map((s) => median(s.epochSeconds)))) : null,
  wallPerEpochSeconds: round(median(samples.map((s) => s.wallSeconds / EPOCHS))),
})
const querySummary = (samples) => ({
  singleP50Ms: round(median(samples.map((q) => pct([...q.singleMs].sort((a, b) => a - b), 0.5)))),
  singleP99Ms: round(median(samples.map((q) => pct([...q.singleMs].sort((a, b) => a - b), 0.99)))),
  batchSeconds: round(median(samples.map((q) => q.batchSeconds))),
  allSeconds: round(median(samples.map((q) => q.allSeconds))),
})
const trimTrain = (s) => ({
  epochSeconds: s.epochSeconds.map((x) => round(x)),
  wallSeconds: round(s.wallSeconds),
  ...(s.firstEpochWithSetupSeconds === undefined ? {} : { firstEpochWithSetupSeconds: round(s.firstEpochWithSetupSeconds) }),
})
const trimQuery = (q) => ({
  singleP50Ms: round(pct([...q.singleMs].sort((a, b) => a - b), 0.5)),
  singleP99Ms: round(pct([...q.singleMs].sort((a, b) => a - b), 0.99)),
  batchSeconds: round(q.batchSeconds),
  allSeconds: round(q.allSeconds),
})

const workloads = [
  { name: 'explicit k=32', k: 32, alsrec: { model: 'biased', factors: 32, ranker: null }, peers: [['lenskit', 'explicit']] },
  { name: 'explicit k=64', k: 64, alsrec: { model: 'biased', factors: 64, ranker: null }, peers: [['lenskit', 'explicit']] },
  { name: 'implicit k=64', k: 64, alsrec: { model: 'implicit', factors: 64 }, peers: [['implicit', 'implicit'], ['lenskit', 'implicit']], queries: 'implicit' },
]

const results = []
const started = process.hrtime.bigint()
for (const w of workloads) {
  const mine = { train: [], queries: [] }
  const theirs = Object.fromEntries(w.peers.filter(([p]) => peers[p].python).map(([p]) => [p, { train: [], queries: [], raw: null, error: null }]))
  if (Object.keys(theirs).length === 0) {
    console.log(`peers: ${w.name}: no peer to compare with, not run`)
    results.push({ workload: w.name, skipped: w.peers.map(([p]) => `${p}: ${peers[p].skip}`).join('; ') })
    continue
  }
  for (let r = 0; r < REPEATS; r++) {
    const a = await alsrecTrain(w.alsrec)
    mine.train.push(a)
    if (w.queries) mine.queries.push(await alsrecQueries(a.model))
    if (r === 0) mine.config = a.model.config
    console.log(`peers: ${w.name} #${r + 1} alsrec ${median(a.epochSeconds).toFixed(3)} s/epoch (wall ${(a.wallSeconds / EPOCHS).toFixed(3)})`)
    for (const [p, model] of w.peers) {
      const slot = theirs[p]
      if (!slot || slot.error) continue
      try {
        const s = await peerSample(p, model, w.k, w.queries === p)
        slot.train.push(s)
        if (s.queries) slot.queries.push(s.queries)
        slot.raw ??= s
        const epoch = s.epochSeconds.length ? median(s.epochSeconds) : s.wallSeconds / EPOCHS
        console.log(`peers: ${w.name} #${r + 1} ${p} ${epoch.toFixed(3)} s/epoch (wall ${(s.wallSeconds / EPOCHS).toFixed(3)})`)
      } catch (e) {
        slot.error = e.message
        console.log(`peers: ${w.name}: ${p} failed, skipped: ${e.message}`)
      }
    }
  }
  const aTrain = trainSummary(mine.train)
  const aQueries = w.queries ? querySummary(mine.queries) : null
  const entry = {
    workload: w.name,
    alsrec: {
      config: mine.config,
      ...aTrain,
      ...(aQueries ? { queries: aQueries } : {}),
      samples: mine.train.map(trimTrain),
      ...(aQueries ? { querySamples: mine.queries.map(trimQuery) } : {}),
    },
    peers: {},
  }
  for (const [p] of w.peers) {
    const slot = theirs[p]
    if (!slot) {
      entry.peers[p] = { skipped: peers[p].skip }
      continue
    }
    if (slot.train.length === 0) {
      entry.peers[p] = { skipped: slot.error }
      continue
    }
    const pTrain = trainSummary(slot.train)
    const pQueries = slot.queries.length ? querySummary(slot.queries) : null
    const ratio = (x, y) => (x && y ? round(x / y, 2) : null)
    entry.peers[p] = {
      library: slot.raw.library,
      algorithm: slot.raw.algorithm,
      version: slot.raw.version,
      call: slot.raw.call,
      params: slot.raw.params,
      env: slot.raw.env,
      ...pTrain,
      ...(pQueries ? { queries: pQueries } : {}),
      samples: slot.train.map(trimTrain),
      ...(pQueries ? { querySamples: slot.queries.map(trimQuery) } : {}),
      ...(slot.error ? { error: slot.error } : {}),
      ratio: {
        epochSeconds: ratio(pTrain.epochSeconds, aTrain.epochSeconds),
        wallPerEpochSeconds: ratio(pTrain.wallPerEpochSeconds, aTrain.wallPerEpochSeconds),
        ...(pQueries && aQueries
          ? {
              singleP50Ms: ratio(pQueries.singleP50Ms, aQueries.singleP50Ms),
              singleP99Ms: ratio(pQueries.singleP99Ms, aQueries.singleP99Ms),
              batchSeconds: ratio(pQueries.batchSeconds, aQueries.batchSeconds),
              allSeconds: ratio(pQueries.allSeconds, aQueries.allSeconds),
            }
          : {}),
      },
    }
  }
  results.push(entry)
}
const benchSeconds = seconds(started)
for (const p of Object.values(peers)) p.worker?.close()

// ---- the README-ready table
const fmtS = (x) => (x === null ? '–' : x < 0.1 ? `${(x * 1e3).toFixed(1)} ms` : `${x.toFixed(2)} s`)
const fmtMs = (x) => (x === null ? '–' : `${x.toFixed(x < 1 ? 3 : 2)} ms`)
const fmtR = (x) => (x === null || x === undefined ? '–' : `${x.toFixed(1)}×`)
const lines = [
  `| ${data.numRatings.toLocaleString('en')} ratings, ${THREADS} threads | alsrec | peer | peer / alsrec |`,
  '| --- | ---: | ---: | ---: |',
]
for (const e of results) {
  for (const s of Object.values(e.peers ?? {})) {
    if (!s.ratio) continue
    const who = `${s.library} ${s.version} ${s.algorithm}`
    lines.push(`| ${e.workload}, time per epoch (update / wall), vs ${who} | ${fmtS(e.alsrec.epochSeconds)} / ${fmtS(e.alsrec.wallPerEpochSeconds)} | ${fmtS(s.epochSeconds)} / ${fmtS(s.wallPerEpochSeconds)} | ${fmtR(s.ratio.epochSeconds)} / ${fmtR(s.ratio.wallPerEpochSeconds)} |`)
    if (s.queries) {
      const a = e.alsrec.queries
      const q = s.queries
      lines.push(`| top-10 for one user, p50 / p99 (${USERS} users), vs ${who} | ${fmtMs(a.singleP50Ms)} / ${fmtMs(a.singleP99Ms)} | ${fmtMs(q.singleP50Ms)} / ${fmtMs(q.singleP99Ms)} | ${fmtR(s.ratio.singleP50Ms)} / ${fmtR(s.ratio.singleP99Ms)} |`)
      lines.push(`| top-10 for ${USERS} users in one call, vs ${who} | ${fmtS(a.batchSeconds)} | ${fmtS(q.batchSeconds)} | ${fmtR(s.ratio.batchSeconds)} |`)
      lines.push(`| top-10 for all ${data.numUsers.toLocaleString('en')} users, vs ${who} | ${fmtS(a.allSeconds)} | ${fmtS(q.allSeconds)} | ${fmtR(s.ratio.allSeconds)} |`)
    }
  }
}
const skipped = Object.entries(peers).filter(([, p]) => p.skip).map(([n, p]) => `${n}: ${p.skip}`)

writeResult(out, {
  benchmark: 'peers',
  data: { dir, ratings: data.numRatings, users: data.numUsers, movies: data.numMovies, generated, loadSeconds: round(loadSeconds, 2) },
  threads: THREADS,
  epochsPerSample: EPOCHS,
  repeats: REPEATS,
  queryUsers: USERS,
  versions: {
    alsrec: JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version,
    ...Object.fromEntries(results.flatMap((e) => Object.values(e.peers ?? {})).filter((s) => s.version).map((s) => [s.library, { version: s.version, ...s.env }])),
  },
  skipped,
  peerStartSeconds: Object.fromEntries(Object.entries(peers).filter(([, p]) => p.readySeconds).map(([n, p]) => [n, p.readySeconds])),
  results,
  workloadSeconds: round(benchSeconds, 1),
  totalSeconds: round(process.uptime(), 1),
  note: 'epochSeconds: median over repeats of the median per-epoch update time (alsrec history seconds; implicit fit callback; LensKit fit_iters steps after the first). wallPerEpochSeconds: the whole train/fit call / epochs. Ratios > 1: alsrec faster.',
})
const m = machine()
lines.push(
  '',
  `Medians of ${REPEATS} interleaved repeats of ${EPOCHS} epochs each (\`npm run bench peers\`, ${new Date().toISOString().slice(0, 10)}), ` +
    `${m.cpus} × ${m.cpuModel}, ${m.memGb} GB, Node ${m.node}. Update: the library's own per-epoch time; wall: the whole train/fit call / epochs. ` +
    `Queries: top-${N}, seen movies excluded, over all ${data.numMovies.toLocaleString('en')} movies.`,
)
console.log(lines.length > 4 ? `\n${lines.join('\n')}\n` : '\npeers: no peer ran, nothing to compare\n')
if (skipped.length) console.log(`skipped: ${skipped.join('; ')}`)
