// `npm run bench data`: the data layer at ml-25m scale. Generates the 25,000,095-rating set once
// (ensureMl25m), then times a plain sequential read of its ratings.csv (`cat > /dev/null`) and
// full loads into CSR + CSC with id maps, each load in a child process that does nothing else,
// so its peak RSS is the load's own.
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { alsrec, ensureMl25m, median, ML25M_DIR, peakRssMb, writeResult } from './_common.mjs'

const REPEATS = 3

if (process.argv[2] === '--load-child') {
  const t = process.hrtime.bigint()
  const data = await alsrec.loadMovieLens(process.argv[3])
  const seconds = Number(process.hrtime.bigint() - t) / 1e9
  const cpu = process.cpuUsage()
  const r = data.report
  console.log(JSON.stringify({ seconds, coreSeconds: r.seconds, parseSeconds: r.parseSeconds, peakRssMb: peakRssMb(), ratings: data.numRatings, users: r.users, movies: r.movies, catalogMovies: r.catalogMovies, duplicates: r.duplicates, cpuSeconds: (cpu.user + cpu.system) / 1e6 }))
  process.exit(0)
}

const out = process.argv[2]
const { report: truth, generatedSeconds } = await ensureMl25m()
const file = path.join(ML25M_DIR, 'ratings.csv')
const bytes = statSync(file).size

const catSamples = []
for (let i = 0; i < REPEATS; i++) {
  const t = process.hrtime.bigint()
  const r = spawnSync('sh', ['-c', 'cat "$1" > /dev/null', 'cat', file])
  if (r.status !== 0) throw new Error(`cat failed: ${r.stderr}`)
  catSamples.push(Number(process.hrtime.bigint() - t) / 1e9)
}

const loads = []
for (let i = 0; i < REPEATS; i++) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load-child', ML25M_DIR], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`load child failed: ${r.stderr}`)
  loads.push(JSON.parse(r.stdout.trim().split('\n').at(-1)))
}

const loadSeconds = median(loads.map((l) => l.seconds))
const catSeconds = median(catSamples)
const mb = bytes / 1e6
writeResult(out, {
  dataset: { dir: ML25M_DIR, bytes, ratings: truth.ratings, users: truth.users, movies: truth.movies, noiseFloorRmse: truth.noiseFloorRmse },
  generate: { seconds: truth.seconds, generatedInThisRun: generatedSeconds !== null },
  cat: { medianSeconds: catSeconds, samples: catSamples, mbPerSecond: mb / catSeconds },
  load: {
    medianSeconds: loadSeconds,
    samples: loads.map((l) => l.seconds),
    coreSeconds: loads.map((l) => l.coreSeconds),
    parseSeconds: loads.map((l) => l.parseSeconds),
    cpuSeconds: loads.map((l) => l.cpuSeconds),
    mbPerSecond: mb / loadSeconds,
    ratioToCat: loadSeconds / catSeconds,
    peakRssMb: Math.max(...loads.map((l) => l.peakRssMb)),
    ratings: loads[0].ratings,
    users: loads[0].users,
    movies: loads[0].movies,
    catalogMovies: loads[0].catalogMovies,
    targets: { seconds: 3, peakRssMb: 1200 },
  },
})
