// The files of one experiment folder: log, metrics (CSV + JSON), summary.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import type { EpochRecord } from '../train.js'
import { toCsv, writeFileAtomic, writeJsonAtomic } from './atomic.js'
import type { RankingMetrics } from './capabilities.js'

/** A log file rewritten atomically after each line, so it is complete up to any crash. */
export class RunLog {
  private lines: string[] = []
  constructor(readonly file: string) {}
  write(message: string): void {
    this.lines.push(`${new Date().toISOString()}  ${message}`)
    writeFileAtomic(this.file, `${this.lines.join('\n')}\n`)
  }
}

export interface FinalMetrics {
  epochs: number
  /** The epoch whose model was kept (the last, or the best one under `patience`). */
  keptEpoch: number
  trainRmse: number
  trainMae: number
  testRmse: number | null
  testMae: number | null
  seconds: number
}

export interface RunMetrics {
  model: string
  factors: number | null
  fold: number | null
  history: EpochRecord[]
  final: FinalMetrics
  ranking: RankingMetrics | null
  rankingNote?: string
}

export function finalMetrics(history: EpochRecord[], usedPatience: boolean): FinalMetrics {
  let kept = history.at(-1)
  if (usedPatience) for (const h of history) if (h.testRmse !== undefined && (kept?.testRmse === undefined || h.testRmse < kept.testRmse)) kept = h
  return {
    epochs: history.length,
    keptEpoch: kept?.epoch ?? 0,
    trainRmse: kept?.trainRmse ?? Number.NaN,
    trainMae: kept?.trainMae ?? Number.NaN,
    testRmse: kept?.testRmse ?? null,
    testMae: kept?.testMae ?? null,
    seconds: history.reduce((s, h) => s + h.seconds, 0),
  }
}

const EPOCH_COLUMNS = ['epoch', 'train_rmse', 'train_mae', 'test_rmse', 'test_mae', 'loss', 'seconds'] as const

export function writeMetrics(dir: string, metrics: RunMetrics): void {
  const rows = metrics.history.map((h) => [h.epoch, h.trainRmse, h.trainMae, h.testRmse ?? '', h.testMae ?? '', h.loss, h.seconds])
  writeFileAtomic(path.join(dir, 'metrics.csv'), toCsv([...EPOCH_COLUMNS], rows))
  writeJsonAtomic(path.join(dir, 'metrics.json'), metrics)
}

export function readMetrics(dir: string): RunMetrics {
  const file = path.join(dir, 'metrics.json')
  if (!existsSync(file)) throw new Error(`${dir} is not an experiment folder (no metrics.json)`)
  return JSON.parse(readFileSync(file, 'utf8')) as RunMetrics
}

const f4 = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4))

export interface SummaryInput {
  title: string
  dataDescription: string
  splitDescription: string
  trainConfig: Record<string, unknown>
  metrics: RunMetrics
  noiseFloorRmse: number | null
  files: string[]
  notes: string[]
}

export function writeSummary(dir: string, s: SummaryInput): void {
  const m = s.metrics.final
  const lines = [
    `# ${s.title}`,
    '',
    `- Data: ${s.dataDescription}; ${s.splitDescription}.`,
    `- Model: \`${JSON.stringify(s.trainConfig)}\``,
    `- Trained ${m.epochs} epochs in ${m.seconds.toFixed(2)} s; kept epoch ${m.keptEpoch}.`,
    `- Test RMSE **${f4(m.testRmse)}**, test MAE ${f4(m.testMae)} (train RMSE ${f4(m.trainRmse)}).`,
    ...(s.noiseFloorRmse !== null ? [`- Noise floor of this synthetic set (best reachable test RMSE): ${f4(s.noiseFloorRmse)}.`] : []),
  ]
  const r = s.metrics.ranking
  if (r) lines.push(`- Ranking @${r.k} (relevant: rating ≥ ${r.threshold}, ${r.users} users): precision ${f4(r.precision)}, recall ${f4(r.recall)}, NDCG ${f4(r.ndcg)}, MAP ${f4(r.map)}, hit rate ${f4(r.hitRate)}, coverage ${f4(r.coverage)}, novelty (mean popularity rank) ${r.novelty.toFixed(1)}.`)
  for (const note of s.notes) lines.push(`- Note: ${note}`)
  lines.push('', `Files: ${s.files.map((f) => `\`${f}\``).join(', ')}.`)
  if (s.files.includes('learning-curve.png')) lines.push('', '![Learning curve](learning-curve.png)')
  if (s.files.includes('movie-map.png')) lines.push('', '![Movie map](movie-map.png)')
  writeFileAtomic(path.join(dir, 'summary.md'), `${lines.join('\n')}\n`)
}
