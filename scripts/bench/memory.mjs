// `node scripts/bench/memory.mjs [repo-root] [runs]`: peak RSS of loading the 25,000,095-rating
// generated set, and of loading it and training k = 64 (3 epochs, as bench/als.mjs), each in a
// child process that does nothing else. The parent samples the child's VmRSS every 10 ms and
// says in which phase (load, train) the peak fell. `repo-root` (default: this checkout) picks
// whose dist/ is measured, so one script compares two builds.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)
const DATA = process.env.ALSREC_BENCH_DATA ?? '/tmp/alsrec-bench/ml25m'

function status(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0)
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 }
  } catch {
    return null
  }
}

if (process.argv[2] === '--child') {
  const [, , , root, what] = process.argv
  const alsrec = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'))
  const mark = (phase) => console.log(JSON.stringify({ phase, ...status(process.pid) }))
  mark('start')
  const data = await alsrec.loadMovieLens(DATA)
  mark('loaded')
  if (what === 'train') {
    const model = await alsrec.train(data, { epochs: 3, tolerance: 0, seed: 1, model: 'biased', factors: 64, ranker: null })
    mark('trained')
    console.log(JSON.stringify({ phase: 'epochs', seconds: model.history.map((h) => h.seconds) }))
  }
  process.exit(0)
}

function runChild(root, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here, '--child', root, what], { stdio: ['ignore', 'pipe', 'inherit'] })
    let phase = 'start'
    let out = ''
    const peakByPhase = {}
    const timer = setInterval(() => {
      const s = status(child.pid)
      if (s) peakByPhase[phase] = Math.max(peakByPhase[phase] ?? 0, s.rss)
    }, 10)
    const marks = []
    child.stdout.on('data', (d) => {
      out += d
      for (const line of out.split('\n').slice(0, -1)) {
        const m = JSON.parse(line)
        marks.push(m)
        if (m.phase === 'loaded') phase = 'train'
        else if (m.phase === 'start') phase = 'load'
      }
      out = out.split('\n').at(-1)
    })
    child.on('exit', (code) => {
      clearInterval(timer)
      if (code !== 0) return reject(new Error(`child exited ${code}`))
      const last = marks.filter((m) => m.hwm).at(-1)
      resolve({ hwmMb: last.hwm, marks, sampledPeakByPhaseMb: peakByPhase })
    })
  })
}

const root = path.resolve(process.argv[2] ?? path.join(path.dirname(here), '..', '..'))
const runs = Number(process.argv[3] ?? 3)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const result = { root, load: [], loadTrainK64: [] }
for (let i = 0; i < runs; i++) {
  result.load.push(await runChild(root, 'load'))
  result.loadTrainK64.push(await runChild(root, 'train'))
}
result.medianLoadPeakMb = median(result.load.map((r) => r.hwmMb))
result.medianLoadTrainK64PeakMb = median(result.loadTrainK64.map((r) => r.hwmMb))
console.log(JSON.stringify(result, null, 1))
