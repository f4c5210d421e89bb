// runGrid: every combination of the listed hyperparameters (and models), each in its own
// experiment folder under runs/, then a results table sorted by test RMSE and the plots. The grid
// folder follows the same rules as an experiment folder (folder.ts): marked, refused when it
// holds another run or user files unless forced, its previous outputs and run folders removed
// when forced.
import path from 'node:path'

import { abortError } from '../errors.js'
import type { Model, RankingMetrics } from '../model.js'
import { learningCurvesSpec, type CurveSeries } from '../plots/learning-curves.js'
import { movieMapSpec } from '../plots/movie-map.js'
import { writePlot } from '../plots/render.js'
import { rmseVsKSpec } from '../plots/rmse-vs-k.js'
import { toCsv, writeFileAtomic, writeJsonAtomic } from './atomic.js'
import { expandGrid, hasVectors, listedKeys, predictsRatings, resolveConfig, type ExperimentConfig, type ExperimentConfigInput, type GridKey } from './config.js'
import { describeSplit, loadData, moviePopularity, splitData } from './data.js'
import { checkOutputFolder, MARKER_FILE, OutputFolder, RunLog } from './folder.js'
import { modelLabel, trainRun, type ExperimentOptions } from './runner.js'

export interface GridRow {
  rank: number
  best: boolean
  run: string
  model: string
  /** null for the bias-only model. */
  factors: number | null
  /** The values of every key the grid varied. */
  varied: Partial<Record<GridKey, string | number>>
  epochs: number
  trainRmse: number
  testRmse: number | null
  /** Standard deviation of the test RMSE over the folds (k-fold only). */
  testRmseSd: number | null
  testMae: number | null
  /** Ranking metrics at metrics.k (mean over folds); null when not computed. */
  ranking: { precision: number; recall: number; ndcg: number; map: number; hitRate: number; coverage: number } | null
  seconds: number
  /** The run's folder, relative to the grid folder. */
  dir: string
  /** Per-epoch history of the run (fold 1 under k-fold), for learning curves. */
  history: Array<{ epoch: number; trainRmse: number; testRmse?: number | null }>
  /** The run's `patience` (early stopping keeps the best epoch), for the learning curves. */
  patience?: number | null
  /** Why the run failed; failed runs sort last and the grid goes on. */
  error?: string
}

export interface GridResult {
  dir: string
  config: ExperimentConfig
  /** Sorted by test RMSE, best first. */
  rows: GridRow[]
  planned: number
  /** True when the signal stopped the grid; `rows` holds the runs that finished. */
  interrupted: boolean
  /** Runs that failed (their rows carry `error`). */
  failed: number
  files: string[]
}

/** The mean of the folds' ranking metrics, or null when any fold has none. */
function meanRanking(parts: Array<RankingMetrics | null | undefined>): GridRow['ranking'] {
  if (parts.length === 0 || parts.some((p) => !p)) return null
  const all = parts as RankingMetrics[]
  const m = (key: 'precision' | 'recall' | 'ndcg' | 'map' | 'hitRate' | 'coverage') => all.reduce((a, p) => a + p[key], 0) / all.length
  return { precision: m('precision'), recall: m('recall'), ndcg: m('ndcg'), map: m('map'), hitRate: m('hitRate'), coverage: m('coverage') }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)))
const f4 = (x: number | null): string => (x === null || Number.isNaN(x) ? '–' : x.toFixed(4))

function runName(index: number, varied: Partial<Record<GridKey, string | number>>, kind: string): string {
  const parts = Object.entries(varied)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k === 'factors' ? 'k' : k}${v}`)
  return [String(index + 1).padStart(2, '0'), kind, ...parts].join('-')
}

const RANKING_KEYS = { precision: 'precision', recall: 'recall', ndcg: 'ndcg', map: 'map', hitrate: 'hitRate', coverage: 'coverage' } as const

/**
 * The value a row is ordered by, lower first (ranking metrics negated); null sorts last. An
 * implicit model's RMSE is of a preference, not of stars, so it never ranks by RMSE.
 */
export function sortKey(r: GridRow, rankBy: string): number | null {
  if (r.error !== undefined) return null
  if (rankBy === 'rmse') return predictsRatings(r.model) ? r.testRmse : null
  const name = rankBy.split('@')[0] as keyof typeof RANKING_KEYS
  const value = r.ranking?.[RANKING_KEYS[name]]
  return value === undefined ? null : -value
}

function sortRows(rows: GridRow[], rankBy: string): GridRow[] {
  const key = (r: GridRow) => sortKey(r, rankBy) ?? Infinity
  const sorted = [...rows].sort((a, b) => key(a) - key(b) || a.run.localeCompare(b.run))
  return sorted.map((r, i) => ({ ...r, rank: i + 1, best: i === 0 && sortKey(r, rankBy) !== null }))
}

/** How a table says what ranked it. */
export function rankByLabel(rankBy: string): string {
  if (rankBy === 'rmse') return 'test RMSE, lower is better (models that predict no ratings, implicit and popular, last)'
  return `${rankBy.replace('hitrate', 'hit rate').replace('ndcg', 'NDCG').replace('map', 'MAP')}, higher is better`
}

function writeTables(folder: OutputFolder, rows: GridRow[], variedKeys: GridKey[], folds: boolean, metrics: { k: number; rankBy: string }): void {
  const dir = folder.dir
  folder.claim('results.csv', 'results.md')
  const keys = variedKeys.filter((k) => k !== 'kind' && k !== 'factors')
  const k = metrics.k
  const ranked = rows.some((r) => r.ranking !== null)
  const rankingCells = (r: GridRow): Array<string | number> => (ranked ? [r.ranking?.precision ?? '', r.ranking?.recall ?? '', r.ranking?.ndcg ?? '', r.ranking?.map ?? '', r.ranking?.hitRate ?? '', r.ranking?.coverage ?? ''] : [])
  const header = ['rank', 'best', 'run', 'model', 'factors', ...keys, 'epochs', 'train_rmse', 'test_rmse', ...(folds ? ['test_rmse_sd'] : []), 'test_mae', ...(ranked ? [`precision@${k}`, `recall@${k}`, `ndcg@${k}`, `map@${k}`, `hitrate@${k}`, 'coverage'] : []), 'seconds', 'folder']
  const cells = (r: GridRow) => [r.rank, r.best ? 'best' : r.error !== undefined ? 'failed' : '', r.run, r.model, r.factors ?? '', ...keys.map((key) => r.varied[key] ?? ''), r.epochs, r.trainRmse, r.testRmse ?? '', ...(folds ? [r.testRmseSd ?? ''] : []), r.testMae ?? '', ...rankingCells(r), r.seconds, r.dir]
  writeFileAtomic(path.join(dir, 'results.csv'), toCsv(header, rows.map(cells)))
  const f3 = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3))
  const mdHeader = ['#', 'run', 'model', 'k', ...keys, 'epochs', 'train RMSE', folds ? 'test RMSE (± sd)' : 'test RMSE', 'test MAE', ...(ranked ? [`P@${k}`, `NDCG@${k}`, 'coverage'] : []), 'seconds']
  const md = rows.map((r) => {
    const test = `${f4(r.testRmse)}${folds && r.testRmseSd !== null ? ` ± ${r.testRmseSd.toFixed(4)}` : ''}`
    return [
      r.best ? `${r.rank} ★` : String(r.rank),
      `[${r.run}](${r.dir}/${r.error !== undefined ? 'log.txt' : 'summary.md'})`,
      r.model,
      r.factors === null ? '–' : String(r.factors),
      ...keys.map((k) => String(r.varied[k] ?? '')),
      String(r.epochs),
      f4(r.trainRmse),
      r.best && metrics.rankBy === 'rmse' ? `**${test}**` : test,
      f4(r.testMae),
      ...(ranked ? [f3(r.ranking?.precision), r.best && metrics.rankBy !== 'rmse' ? `**${f3(r.ranking?.ndcg)}**` : f3(r.ranking?.ndcg), f3(r.ranking?.coverage)] : []),
      r.error !== undefined ? `failed: ${r.error.replace(/\|/g, '/')}` : r.seconds.toFixed(2),
    ]
  })
  const table = [mdHeader, mdHeader.map(() => '---'), ...md].map((r) => `| ${r.join(' | ')} |`).join('\n')
  writeFileAtomic(path.join(dir, 'results.md'), `${table}\n\n★ best by ${rankByLabel(metrics.rankBy)}.\n`)
}

/** Learning curves of the best run of each model kind (a grid may hold dozens of runs). */
export function bestPerModel(rows: GridRow[]): CurveSeries[] {
  const seen = new Set<string>()
  const out: CurveSeries[] = []
  for (const r of rows) {
    if (seen.has(r.model)) continue
    seen.add(r.model)
    out.push({ label: modelLabel({ model: r.model, factors: r.factors ?? undefined }), kind: r.model, history: r.history, patience: r.patience })
  }
  return out
}

/** Writes the grid's plots into `dir`; `claim` hears of each file before it is written. */
export async function writeGridPlots(dir: string, rows: GridRow[], context: string, claim: (...names: string[]) => void = () => {}): Promise<string[]> {
  const files: string[] = []
  claim('rmse-vs-k.svg', 'rmse-vs-k.png')
  // RMSE of star ratings: implicit models predict none, so they are not on this axis.
  await writePlot(rmseVsKSpec(rows.filter((r) => r.testRmse !== null && predictsRatings(r.model) && (hasVectors(r.model) || r.model === 'bias')).map((r) => ({ model: r.model, factors: r.factors, testRmse: r.testRmse ?? Number.NaN })), context), path.join(dir, 'rmse-vs-k'))
  files.push('rmse-vs-k.svg', 'rmse-vs-k.png')
  claim('learning-curves.svg', 'learning-curves.png')
  await writePlot(learningCurvesSpec(bestPerModel(rows), `${context}; best run of each model`), path.join(dir, 'learning-curves'))
  files.push('learning-curves.svg', 'learning-curves.png')
  return files
}

/**
 * Runs every combination of the listed hyperparameters. An aborted signal stops the current
 * training; the finished runs stay on disk and in the result, with `interrupted: true`. The
 * folder is checked first and made once the data has loaded, so a bad config or data path
 * leaves nothing behind.
 */
export async function runGrid(input: ExperimentConfigInput | ExperimentConfig, options: ExperimentOptions = {}): Promise<GridResult> {
  const config = resolveConfig(input)
  const dir = config.output.dir
  const points = expandGrid(config.model)
  const variedKeys = listedKeys(config.model)
  checkOutputFolder(dir, { kind: 'grid', force: options.force })
  options.onProgress?.({ type: 'status', message: 'loading data' })
  const data = await loadData(config.data, options.signal)
  const parts = splitData(data.dataset, config.split)
  // Stopped while the data loaded: stop before the folder is made.
  if (options.signal?.aborted) throw abortError()
  const folder = OutputFolder.open(dir, { kind: 'grid', force: options.force })
  try {
    const result = await gridRuns(config, folder, points, variedKeys, data, parts, options)
    folder.finish(result.interrupted ? 'aborted' : 'done')
    return result
  } catch (err) {
    folder.fail(err)
    throw err
  }
}

async function gridRuns(
  config: ExperimentConfig,
  folder: OutputFolder,
  points: ReturnType<typeof expandGrid>,
  variedKeys: GridKey[],
  data: Awaited<ReturnType<typeof loadData>>,
  parts: ReturnType<typeof splitData>,
  options: ExperimentOptions,
): Promise<GridResult> {
  const dir = folder.dir
  folder.claim('config.json', 'grid.log')
  writeJsonAtomic(path.join(dir, 'config.json'), config)
  const log = new RunLog(path.join(dir, 'grid.log'))
  log.write(`grid of ${points.length} configurations over ${variedKeys.join(', ') || 'nothing (one configuration)'}`)
  const folds = config.split.folds !== undefined
  const splitText = describeSplit(config.split)
  const context = `${data.description}, ${splitText}`
  log.write(`data: ${data.description}; ${splitText}`)

  let rows: GridRow[] = []
  let interrupted = false
  let bestModel: { model: Model; testRmse: number; label: string } | null = null
  const total = points.length * parts.length
  outer: for (const [i, point] of points.entries()) {
    const run = runName(i, point.varied, point.train.model)
    const results = []
    let failure: string | undefined
    for (const part of parts) {
      const runDir = path.join(dir, 'runs', run, ...(part.fold !== null ? [`fold-${part.fold}`] : []))
      folder.claim(path.relative(dir, runDir))
      try {
        const result = await trainRun(
          { dir: runDir, runId: run, index: i * parts.length + (part.fold ?? 1) - 1, total, config: { ...config, output: { ...config.output, dir: runDir } }, train: point.train, varied: point.varied, part, data, catalog: data.dataset.catalog },
          options,
        )
        results.push(result)
      } catch (err) {
        if (err instanceof Error && err.name === 'AbortError') {
          interrupted = true
          log.write(`interrupted during ${run}; kept the ${rows.length} finished run(s)`)
          break outer
        }
        // One failing combination must not lose the others.
        failure = err instanceof Error ? err.message : String(err)
        log.write(`${run} failed: ${failure}`)
        break
      }
    }
    const first = results[0]
    if (failure !== undefined || !first) {
      rows.push({ rank: 0, best: false, run, model: point.train.model, factors: hasVectors(point.train.model) ? (point.train.factors ?? null) : null, varied: point.varied, epochs: 0, trainRmse: Number.NaN, testRmse: null, testRmseSd: null, testMae: null, ranking: null, seconds: 0, dir: path.relative(dir, path.join(dir, 'runs', run)), history: [], error: failure ?? 'no result' })
      rows = sortRows(rows, config.metrics.rankBy)
      writeTables(folder, rows, variedKeys, folds, config.metrics)
      continue
    }
    const tests = results.map((r) => r.metrics.final.testRmse).filter((x): x is number => x !== null)
    const testRmse = tests.length === results.length ? mean(tests) : null
    rows.push({
      rank: 0,
      best: false,
      run,
      model: first.metrics.model,
      factors: first.metrics.factors,
      varied: point.varied,
      epochs: first.metrics.final.epochs,
      trainRmse: mean(results.map((r) => r.metrics.final.trainRmse)),
      testRmse,
      testRmseSd: folds ? sd(tests) : null,
      testMae: results.every((r) => r.metrics.final.testMae !== null) ? mean(results.map((r) => r.metrics.final.testMae ?? 0)) : null,
      ranking: meanRanking(results.map((r) => r.metrics.ranking)),
      seconds: results.reduce((s, r) => s + r.metrics.final.seconds, 0),
      dir: path.relative(dir, path.join(dir, 'runs', run)),
      history: first.metrics.history,
      ...(point.train.patience !== undefined ? { patience: point.train.patience } : {}),
    })
    log.write(`${run}: test RMSE ${f4(testRmse)}`)
    if (hasVectors(first.metrics.model) && predictsRatings(first.metrics.model) && testRmse !== null && (!bestModel || testRmse < bestModel.testRmse)) bestModel = { model: first.model, testRmse, label: modelLabel({ model: first.metrics.model, factors: first.metrics.factors ?? undefined }) }
    rows = sortRows(rows, config.metrics.rankBy)
    writeTables(folder, rows, variedKeys, folds, config.metrics)
  }

  const files = ['config.json', 'grid.log']
  const succeeded = rows.filter((r) => r.error === undefined)
  if (succeeded.length > 0) {
    writeTables(folder, rows, variedKeys, folds, config.metrics)
    files.push('results.csv', 'results.md')
    if (config.output.plots) {
      files.push(...(await writeGridPlots(dir, succeeded, context, (...names) => folder.claim(...names))))
      if (bestModel && bestModel.model.factors > 0) {
        const map = bestModel.model.movieMap()
        const mapPart = parts[0]
        folder.claim('movie-map.svg', 'movie-map.png')
        await writePlot(movieMapSpec(map, data.dataset.catalog, { popularity: mapPart ? moviePopularity(mapPart.train) : undefined, context: `best latent model (${bestModel.label}) on ${data.description}` }), path.join(dir, 'movie-map'))
        files.push('movie-map.svg', 'movie-map.png')
      }
    }
  }
  files.push('results.json', MARKER_FILE)
  folder.claim('results.json')
  const failed = rows.filter((r) => r.error !== undefined).length
  const result: GridResult = { dir, config, rows, planned: points.length, interrupted, failed, files }
  writeJsonAtomic(path.join(dir, 'results.json'), { context, planned: points.length, interrupted, failed, rows })
  log.write(interrupted ? `stopped: ${rows.length} of ${points.length} runs finished` : `finished ${rows.length} runs (${failed} failed); best ${rows[0]?.run ?? '-'} (test RMSE ${f4(rows[0]?.testRmse ?? null)})`)
  return result
}
