// runGrid: every combination of the listed hyperparameters (and models), each in its own
// experiment folder under runs/, then a results table sorted by test RMSE and the plots. The grid
// folder follows the same rules as an experiment folder (folder.ts): marked, refused when it
// holds another run or user files unless forced, its previous outputs and run folders removed
// when forced.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

import { abortError, invalidArgument } from '../errors.js'
import { loadModel, type Model, type RankingMetrics } from '../model.js'
import { learningCurvesSpec, type CurveSeries } from '../plots/learning-curves.js'
import { movieMapSpec } from '../plots/movie-map.js'
import { writePlot } from '../plots/render.js'
import { rmseVsKSpec } from '../plots/rmse-vs-k.js'
import { toCsv, writeFileAtomic, writeJsonAtomic } from './atomic.js'
import { expandGrid, hasVectors, listedKeys, predictsRatings, resolveConfig, type ExperimentConfig, type ExperimentConfigInput, type GridKey, type GridPoint } from './config.js'
import { describeSplit, loadData, moviePopularity, splitData, type LoadedData, type SplitPart } from './data.js'
import { checkOutputFolder, MARKER_FILE, MODEL_FILE, OutputFolder, readMarker, readMetrics, RunLog, type RunMetrics } from './folder.js'
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
  /** The epoch whose model was kept (fold 1 under k-fold): the best under `patience`, else the last. */
  keptEpoch: number
  /** Whether the run was kept from an earlier, interrupted grid (`resume`) rather than trained now. */
  resumed: boolean
  /** The page results.md links to, relative to the grid folder (a summary, or for a failed run its log). */
  page: string
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
  /** Runs kept from an earlier run of the grid (`resume`), not trained again. */
  resumed: number
  files: string[]
}

export interface GridOptions extends ExperimentOptions {
  /**
   * Continue a grid in its folder (after Ctrl-C or a crash): every finished run whose config
   * hash matches is kept, the others (unfinished, failed, or with a changed config) are trained;
   * the tables and plots are rebuilt from all runs.
   */
  resume?: boolean
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
  const header = ['rank', 'best', 'run', 'model', 'factors', ...keys, 'epochs', 'kept_epoch', 'train_rmse', 'test_rmse', ...(folds ? ['test_rmse_sd'] : []), 'test_mae', ...(ranked ? [`precision@${k}`, `recall@${k}`, `ndcg@${k}`, `map@${k}`, `hitrate@${k}`, 'coverage'] : []), 'seconds', 'folder']
  const cells = (r: GridRow) => [r.rank, r.best ? 'best' : r.error !== undefined ? 'failed' : '', r.run, r.model, r.factors ?? '', ...keys.map((key) => r.varied[key] ?? ''), r.epochs, r.error !== undefined ? '' : r.keptEpoch, r.trainRmse, r.testRmse ?? '', ...(folds ? [r.testRmseSd ?? ''] : []), r.testMae ?? '', ...rankingCells(r), r.seconds, r.dir]
  writeFileAtomic(path.join(dir, 'results.csv'), toCsv(header, rows.map(cells)))
  const f3 = (x: number | undefined): string => (x === undefined ? '–' : x.toFixed(3))
  const rankedBy = metrics.rankBy === 'rmse' ? null : (RANKING_KEYS[metrics.rankBy.split('@')[0] as keyof typeof RANKING_KEYS] ?? null)
  const rankingHeader = [`P@${k}`, `R@${k}`, `NDCG@${k}`, `MAP@${k}`, `HR@${k}`, 'coverage']
  const rankingKeys = ['precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage'] as const
  const mdHeader = ['#', 'run', 'model', 'k', ...keys, 'epochs (kept)', 'train RMSE', folds ? 'test RMSE (± sd)' : 'test RMSE', 'test MAE', ...(ranked ? rankingHeader : []), 'seconds']
  const md = rows.map((r) => {
    const test = `${f4(r.testRmse)}${folds && r.testRmseSd !== null ? ` ± ${r.testRmseSd.toFixed(4)}` : ''}`
    return [
      r.best ? `${r.rank} ★` : String(r.rank),
      `[${r.run}](${r.page})`,
      r.model,
      r.factors === null ? '–' : String(r.factors),
      ...keys.map((k) => String(r.varied[k] ?? '')),
      r.error !== undefined ? '–' : r.keptEpoch !== r.epochs ? `${r.epochs} (${r.keptEpoch})` : String(r.epochs),
      f4(r.trainRmse),
      r.best && metrics.rankBy === 'rmse' ? `**${test}**` : test,
      f4(r.testMae),
      ...(ranked ? rankingKeys.map((key) => (r.best && rankedBy === key ? `**${f3(r.ranking?.[key])}**` : f3(r.ranking?.[key]))) : []),
      r.error !== undefined ? `failed: ${r.error.replace(/\|/g, '/')}` : r.seconds.toFixed(2),
    ]
  })
  const table = [mdHeader, mdHeader.map(() => '---'), ...md].map((r) => `| ${r.join(' | ')} |`).join('\n')
  const notes = [
    `★ best by ${rankByLabel(metrics.rankBy)}.`,
    ...(rows.some((r) => r.error === undefined && r.keptEpoch !== r.epochs) ? ['epochs (kept): epochs trained, and in parentheses the epoch whose model was kept (the best test RMSE, under `patience`); every metric is the kept epoch\'s.'] : []),
    ...(ranked ? [`Ranking metrics at ${k} on the test set${folds ? ' (mean over the folds)' : ''}: P precision, R recall, HR hit rate; coverage is the share of the catalog recommended.`] : []),
    ...(rows.some((r) => r.resumed) ? [`${rows.filter((r) => r.resumed).length} run(s) kept from an earlier, interrupted run of this grid (--resume).`] : []),
  ]
  writeFileAtomic(path.join(dir, 'results.md'), `${table}\n\n${notes.join('\n\n')}\n`)
}

/**
 * Under k-fold, the page of one configuration (`runs/<id>/summary.md`): each fold's figures
 * with a link to its own summary, and the mean ± sd.
 */
function writeFoldSummary(folder: OutputFolder, run: string, rel: string, results: RunResult[], row: GridRow, k: number): void {
  const page = path.join(rel, 'summary.md')
  folder.claim(page)
  const ranked = results.every((r) => r.metrics.ranking)
  const lines = [
    `# Run ${run}: ${results.length}-fold cross-validation`,
    '',
    'Back to [the grid table](../../results.md).',
    '',
    `- Model: ${row.model}${row.factors !== null ? `, k = ${row.factors}` : ''}; varied: \`${JSON.stringify(row.varied)}\`.`,
    `- Mean test RMSE **${f4(row.testRmse)}**${row.testRmseSd !== null ? ` ± ${row.testRmseSd.toFixed(4)} (sd over the folds)` : ''}, test MAE ${f4(row.testMae)}, train RMSE ${f4(row.trainRmse)}.`,
    ...(row.ranking ? [`- Mean ranking @${k}: precision ${f4(row.ranking.precision)}, recall ${f4(row.ranking.recall)}, NDCG ${f4(row.ranking.ndcg)}, MAP ${f4(row.ranking.map)}, hit rate ${f4(row.ranking.hitRate)}, coverage ${f4(row.ranking.coverage)}.`] : []),
    '',
    `| fold | epochs (kept) | train RMSE | test RMSE | test MAE |${ranked ? ` P@${k} | R@${k} | NDCG@${k} | MAP@${k} | HR@${k} | coverage |` : ''} summary |`,
    `| --- | --- | --- | --- | --- |${ranked ? ' --- | --- | --- | --- | --- | --- |' : ''} --- |`,
  ]
  for (const r of results) {
    const m = r.metrics
    const f = m.final
    const rk = m.ranking
    const rankingCells = ranked && rk ? ` ${[rk.precision, rk.recall, rk.ndcg, rk.map, rk.hitRate, rk.coverage].map(f4).join(' | ')} |` : ''
    lines.push(`| ${m.fold ?? ''} | ${f.epochs} (${f.keptEpoch}) | ${f4(f.trainRmse)} | ${f4(f.testRmse)} | ${f4(f.testMae)} |${rankingCells} [fold-${m.fold ?? ''}](fold-${m.fold ?? ''}/summary.md) |`)
  }
  writeFileAtomic(path.join(folder.dir, page), `${lines.join('\n')}\n`)
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
 * training; the finished runs stay on disk and in the result, with `interrupted: true`, and
 * `resume` later trains only the rest. The folder is checked first and made once the data has
 * loaded, so a bad config or data path leaves nothing behind.
 */
export async function runGrid(input: ExperimentConfigInput | ExperimentConfig, options: GridOptions = {}): Promise<GridResult> {
  const config = resolveConfig(input)
  if (config.tune) throw invalidArgument('tune: a grid lists its own values; tune one model with alsrec train (or runExperiment) instead')
  const dir = config.output.dir
  const points = expandGrid(config.model)
  const variedKeys = listedKeys(config.model)
  const folderOptions = { kind: 'grid' as const, force: options.force, resume: options.resume }
  checkOutputFolder(dir, folderOptions)
  options.onProgress?.({ type: 'status', message: 'loading data' })
  const data = await loadData(config.data, options.signal)
  const parts = splitData(data.dataset, config.split)
  // Stopped while the data loaded: stop before the folder is made.
  if (options.signal?.aborted) throw abortError()
  const folder = OutputFolder.open(dir, folderOptions)
  try {
    const result = await gridRuns(config, folder, points, variedKeys, data, parts, options)
    folder.finish(result.interrupted ? 'aborted' : 'done')
    return result
  } catch (err) {
    folder.fail(err)
    throw err
  }
}

/** A finished run: its metrics, and its model when it was trained now (a kept run's is on disk). */
interface RunResult {
  metrics: RunMetrics
  model: Model | null
  dir: string
}

/** Keys in sorted order at every level, so equal values hash alike. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`)
      .join(',')}}`
  return JSON.stringify(value)
}

/**
 * The hash of everything that decides a run's results: the data (its section and its size),
 * the split and fold, the training config, the metrics and what the run writes. A run folder
 * whose config.json carries the same hash, and which finished, is that run.
 */
export function runHash(config: ExperimentConfig, train: GridPoint['train'], fold: number | null, data: LoadedData): string {
  // rankBy orders the table; it changes no run.
  const metrics = { ranking: config.metrics.ranking, k: config.metrics.k, threshold: config.metrics.threshold }
  const d = data.dataset
  const what = { data: config.data, ratings: [d.numRatings, d.numUsers, d.numMovies], split: config.split, fold, train, metrics, output: { saveModel: config.output.saveModel, plots: config.output.plots } }
  return createHash('sha256').update(stableJson(what)).digest('hex').slice(0, 32)
}

/**
 * A finished run in `runDir` with this hash, or null: its marker says done, its config.json
 * carries the hash, its metrics.json and summary.md exist (and its model, when the run saves
 * one). A run stopped by Ctrl-C or a crash is marked aborted or running, so never finished.
 */
function finishedRun(runDir: string, hash: string, saveModel: boolean): RunResult | null {
  const marker = readMarker(runDir)
  if (marker?.status !== 'done') return null
  try {
    const config = JSON.parse(readFileSync(path.join(runDir, 'config.json'), 'utf8')) as { run?: { hash?: unknown } }
    if (config.run?.hash !== hash) return null
    for (const f of ['metrics.json', 'summary.md', ...(saveModel ? [MODEL_FILE] : [])]) if (!marker.files.includes(f) || !existsSync(path.join(runDir, f))) return null
    const metrics = readMetrics(runDir)
    return wellFormed(metrics) ? { metrics, model: null, dir: runDir } : null
  } catch {
    return null
  }
}

/** Whether a metrics.json read back has the shape this version writes (a damaged or edited one is retrained). */
function wellFormed(m: RunMetrics): boolean {
  const num = (x: unknown): boolean => typeof x === 'number'
  const numOrNull = (x: unknown): boolean => x === null || num(x)
  const f = m.final as Partial<RunMetrics['final']> | undefined
  if (typeof m.model !== 'string' || !numOrNull(m.factors) || !f || !num(f.epochs) || !num(f.keptEpoch) || !num(f.trainRmse) || !numOrNull(f.testRmse) || !numOrNull(f.testMae) || !num(f.seconds)) return false
  if (!Array.isArray(m.history) || !m.history.every((h) => num(h.epoch) && num(h.trainRmse))) return false
  const r = m.ranking as Partial<RankingMetrics> | null | undefined
  return r === null || (r !== undefined && (['k', 'threshold', 'users', 'precision', 'recall', 'ndcg', 'map', 'hitRate', 'coverage', 'novelty'] as const).every((k) => num(r[k])))
}

async function gridRuns(
  config: ExperimentConfig,
  folder: OutputFolder,
  points: ReturnType<typeof expandGrid>,
  variedKeys: GridKey[],
  data: LoadedData,
  parts: SplitPart[],
  options: GridOptions,
): Promise<GridResult> {
  const dir = folder.dir
  folder.claim('config.json', 'grid.log')
  writeJsonAtomic(path.join(dir, 'config.json'), config)
  const log = new RunLog(path.join(dir, 'grid.log'), options.resume === true)
  log.write(`${options.resume ? 'resumed: ' : ''}grid of ${points.length} configurations over ${variedKeys.join(', ') || 'nothing (one configuration)'}`)
  const folds = config.split.folds !== undefined
  const splitText = describeSplit(config.split)
  const context = `${data.description}, ${splitText}`
  log.write(`data: ${data.description}; ${splitText}`)

  let rows: GridRow[] = []
  let interrupted = false
  let resumedRuns = 0
  let best: { result: RunResult; testRmse: number; label: string } | null = null
  const total = points.length * parts.length
  outer: for (const [i, point] of points.entries()) {
    const run = runName(i, point.varied, point.train.model)
    const rel = path.join('runs', run)
    const results: RunResult[] = []
    let failure: string | undefined
    let failedLog: string | undefined
    let kept = 0
    for (const part of parts) {
      const runDir = path.join(dir, rel, ...(part.fold !== null ? [`fold-${part.fold}`] : []))
      const hash = runHash(config, point.train, part.fold, data)
      const index = i * parts.length + (part.fold ?? 1) - 1
      const earlier = options.resume ? finishedRun(runDir, hash, config.output.saveModel) : null
      if (earlier) {
        results.push(earlier)
        kept++
        options.onProgress?.({ type: 'status', message: `kept finished run ${path.relative(dir, runDir)} (${index + 1}/${total})` })
        continue
      }
      folder.claim(path.relative(dir, runDir))
      try {
        const result = await trainRun(
          { dir: runDir, runId: run, index, total, config: { ...config, output: { ...config.output, dir: runDir } }, train: point.train, varied: point.varied, hash, part, data, catalog: data.dataset.catalog },
          // Resumed, a run folder that is not finished is this grid's own: retrain into it.
          options.resume ? { ...options, force: true } : options,
        )
        results.push({ metrics: result.metrics, model: result.model, dir: runDir })
      } catch (err) {
        if (err instanceof Error && err.name === 'AbortError') {
          interrupted = true
          log.write(`interrupted during ${path.relative(dir, runDir)}`)
          break outer
        }
        // One failing combination must not lose the others.
        failure = err instanceof Error ? err.message : String(err)
        if (existsSync(path.join(runDir, 'log.txt'))) failedLog = path.relative(dir, path.join(runDir, 'log.txt'))
        log.write(`${run} failed: ${failure}`)
        break
      }
    }
    const first = results[0]
    if (failure !== undefined || !first) {
      rows.push({ rank: 0, best: false, run, model: point.train.model, factors: hasVectors(point.train.model) ? (point.train.factors ?? null) : null, varied: point.varied, epochs: 0, keptEpoch: 0, trainRmse: Number.NaN, testRmse: null, testRmseSd: null, testMae: null, ranking: null, seconds: 0, dir: rel, resumed: false, page: failedLog ?? 'grid.log', history: [], error: failure ?? 'no result' })
      rows = sortRows(rows, config.metrics.rankBy)
      writeTables(folder, rows, variedKeys, folds, config.metrics)
      continue
    }
    const resumed = kept === results.length
    if (resumed) resumedRuns++
    const tests = results.map((r) => r.metrics.final.testRmse).filter((x): x is number => x !== null)
    const testRmse = tests.length === results.length ? mean(tests) : null
    const row: GridRow = {
      rank: 0,
      best: false,
      run,
      model: first.metrics.model,
      factors: first.metrics.factors,
      varied: point.varied,
      epochs: first.metrics.final.epochs,
      keptEpoch: first.metrics.final.keptEpoch,
      trainRmse: mean(results.map((r) => r.metrics.final.trainRmse)),
      testRmse,
      testRmseSd: folds ? sd(tests) : null,
      testMae: results.every((r) => r.metrics.final.testMae !== null) ? mean(results.map((r) => r.metrics.final.testMae ?? 0)) : null,
      ranking: meanRanking(results.map((r) => r.metrics.ranking)),
      seconds: results.reduce((s, r) => s + r.metrics.final.seconds, 0),
      dir: rel,
      resumed,
      page: path.join(rel, 'summary.md'),
      history: first.metrics.history,
      ...(point.train.patience !== undefined ? { patience: point.train.patience } : {}),
    }
    if (folds) writeFoldSummary(folder, run, rel, results, row, config.metrics.k)
    rows.push(row)
    log.write(`${run}: test RMSE ${f4(testRmse)}${resumed ? ' (kept from the earlier run)' : kept > 0 ? ` (${kept} of ${results.length} folds kept from the earlier run)` : ''}`)
    if (hasVectors(first.metrics.model) && predictsRatings(first.metrics.model) && testRmse !== null && (!best || testRmse < best.testRmse)) best = { result: first, testRmse, label: modelLabel({ model: first.metrics.model, factors: first.metrics.factors ?? undefined }) }
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
      // A kept run's model is read back from its folder (a run without --no-save has one).
      const modelFile = best ? path.join(best.result.dir, MODEL_FILE) : null
      const bestModel = best?.result.model ?? (modelFile && existsSync(modelFile) ? await loadModel(modelFile) : null)
      if (best && bestModel && bestModel.factors > 0) {
        const map = bestModel.movieMap()
        const mapPart = parts[0]
        folder.claim('movie-map.svg', 'movie-map.png')
        await writePlot(movieMapSpec(map, data.dataset.catalog, { popularity: mapPart ? moviePopularity(mapPart.train) : undefined, context: `best latent model (${best.label}) on ${data.description}` }), path.join(dir, 'movie-map'))
        files.push('movie-map.svg', 'movie-map.png')
      }
    }
  }
  files.push('results.json', MARKER_FILE)
  folder.claim('results.json')
  const failed = rows.filter((r) => r.error !== undefined).length
  const result: GridResult = { dir, config, rows, planned: points.length, interrupted, failed, resumed: resumedRuns, files }
  writeJsonAtomic(path.join(dir, 'results.json'), { context, planned: points.length, interrupted, failed, resumed: resumedRuns, rows })
  log.write(interrupted ? `stopped: ${gridProgressText(result)}` : `finished ${rows.length} runs (${failed} failed${resumedRuns > 0 ? `, ${resumedRuns} kept from the earlier run` : ''}); best ${rows[0]?.run ?? '-'} (test RMSE ${f4(rows[0]?.testRmse ?? null)})`)
  return result
}

/** "4 of 9 runs finished and kept; 5 not run" (and how many failed), for an interrupted grid. */
export function gridProgressText(result: Pick<GridResult, 'rows' | 'planned'>): string {
  const finished = result.rows.filter((r) => r.error === undefined).length
  const failed = result.rows.length - finished
  const notRun = result.planned - result.rows.length
  return `${finished} of ${result.planned} run${result.planned === 1 ? '' : 's'} finished and kept; ${failed > 0 ? `${failed} failed; ` : ''}${notRun} not run`
}
