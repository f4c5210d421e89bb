// Shared by the benchmarks: the package entry point, timing, peak RSS, the 25M generated set.
import { createRequire } from 'node:module'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const alsrec = createRequire(import.meta.url)(path.join(root, 'dist', 'index.js'))

/** Median of repeated runs of `fn` (seconds), and all the samples. */
export async function timeIt(fn, repeats = 3) {
  const samples = []
  for (let i = 0; i < repeats; i++) {
    const t = process.hrtime.bigint()
    await fn()
    samples.push(Number(process.hrtime.bigint() - t) / 1e9)
  }
  return { median: median(samples), samples }
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Peak resident set size of this process so far, in MB (Linux VmHWM). */
export function peakRssMb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model, memGb: Math.round(totalmem() / 2 ** 30), node: process.version }
}

/** The ml-25m-sized generated set, made once per machine (never committed). */
export const ML25M_DIR = process.env.ALSREC_BENCH_DATA ?? '/tmp/alsrec-bench/ml25m'
export const ML25M = { users: 162541, movies: 62423, ratings: 25000095, seed: 25, factors: 16, noise: 0.75 }

export async function ensureMl25m() {
  const truth = path.join(ML25M_DIR, 'truth.json')
  if (existsSync(truth)) {
    const t = JSON.parse(readFileSync(truth, 'utf8'))
    if (t.ratings === ML25M.ratings && t.seed === ML25M.seed) return { report: t, generatedSeconds: null }
  }
  const report = await alsrec.generate(ML25M_DIR, ML25M)
  return { report, generatedSeconds: report.seconds }
}

export function writeResult(file, result) {
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine: machine(), peakRssMb: peakRssMb(), ...result }, null, 2))
  console.log(JSON.stringify(result, null, 2))
}
