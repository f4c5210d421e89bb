// runExperiment: data → split → train → metrics, model, plots and summary in one folder.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'

import type { Catalog } from '../catalog.js'
import { invalidArgument } from '../errors.js'
import type { Model } from '../model.js'
import { learningCurvesSpec } from '../plots/learning-curves.js'
import { movieMapSpec } from '../plots/movie-map.js'
import { writePlot } from '../plots/render.js'
import { train, type EpochRecord, type TrainConfig } from '../train.js'
import { writeJsonAtomic } from './atomic.js'
import { movieMapOf, rankingMetricsOf, saveModel, type RankingMetrics } from './capabilities.js'
import { hasVectors, resolveConfig, singleTrainConfig, type ExperimentConfig, type ExperimentConfigInput, type GridKey, type GridPoint } from './config.js'
import { describeSplit, loadData, moviePopularity, splitData, type LoadedData, type SplitPart } from './data.js'
import { finalMetrics, RunLog, writeMetrics, writeSummary, type RunMetrics } from './folder.js'

export type ExperimentEvent =
  | { type: 'status'; message: string }
  | { type: 'run-start'; run: string; index: number; total: number; epochs: number }
  | { type: 'epoch'; run: string; record: EpochRecord; epochs: number }
  | { type: 'run-end'; run: string; testRmse: number | null }

export interface ExperimentOptions {
  signal?: AbortSignal
  onProgress?: (event: ExperimentEvent) => void
  /** Write into an output folder that already holds an experiment. */
  force?: boolean
}

export interface ExperimentResult {
  dir: string
  /** The config as resolved: defaults filled, absolute paths, the model's full training config. */
  config: ExperimentConfig
  metrics: RunMetrics
  /** File names written into `dir`. */
  files: string[]
  model: Model
}

export const MODEL_FILE = 'model.alsrec'

/** Legend label of a run: "biased, k = 16" or "bias". */
export function modelLabel(train: { model?: string | undefined; factors?: number | undefined }): string {
  const kind = train.model ?? 'biased'
  return hasVectors(kind) ? `${kind}, k = ${train.factors ?? 16}` : `${kind} (no factors)`
}

/** The model section of a resolved config, rebuilt from a model's full training config. */
function modelSection(trainConfig: Record<string, unknown>): ExperimentConfig['model'] {
  const { model, ...rest } = trainConfig
  const section: Record<string, unknown> = { kind: model }
  for (const [k, v] of Object.entries(rest)) if (v !== null && v !== undefined) section[k] = v
  return section as ExperimentConfig['model']
}

export function ensureFreshDir(dir: string, force: boolean | undefined): void {
  if (!force && existsSync(path.join(dir, 'config.json')))
    throw invalidArgument(`output.dir: ${dir} already holds an experiment (config.json); choose another folder or pass force (--force)`)
  mkdirSync(dir, { recursive: true })
}

export interface RunSpec {
  dir: string
  runId: string
  index: number
  total: number
  config: ExperimentConfig
  train: GridPoint['train']
  varied?: Partial<Record<GridKey, string | number>>
  part: SplitPart
  data: LoadedData
  catalog: Catalog
}

/** Trains one configuration on one split and writes its experiment folder. */
export async function trainRun(spec: RunSpec, options: ExperimentOptions): Promise<ExperimentResult> {
  const { dir, config, part, data } = spec
  mkdirSync(dir, { recursive: true })
  const log = new RunLog(path.join(dir, 'log.txt'))
  const files = ['config.json', 'log.txt']
  const trainConfig: TrainConfig = { ...spec.train }
  const runConfig = (full: Record<string, unknown>): ExperimentConfig & { run?: unknown } => ({
    ...config,
    model: modelSection(full),
    output: { ...config.output, dir },
    ...(spec.varied ? { run: { id: spec.runId, fold: part.fold, varied: spec.varied } } : {}),
  })
  writeJsonAtomic(path.join(dir, 'config.json'), runConfig({ ...trainConfig }))
  const splitText = describeSplit(config.split) + (part.fold !== null ? `, fold ${part.fold}` : '')
  log.write(`data: ${data.description} (${data.source}); ${data.dataset.numRatings} ratings`)
  log.write(`split: ${splitText}; ${part.train.numRatings} train, ${part.test.numRatings} test ratings`)
  log.write(`training: ${JSON.stringify(trainConfig)}`)
  const epochs = trainConfig.epochs ?? 15
  options.onProgress?.({ type: 'run-start', run: spec.runId, index: spec.index, total: spec.total, epochs })

  let model: Model
  try {
    model = await train(part.train, trainConfig, {
      testSet: part.test,
      signal: options.signal,
      onEpoch: (record) => {
        log.write(`epoch ${record.epoch}: train RMSE ${record.trainRmse.toFixed(4)}, test RMSE ${record.testRmse?.toFixed(4) ?? '-'}, loss ${record.loss.toExponential(4)}, ${record.seconds.toFixed(3)} s`)
        options.onProgress?.({ type: 'epoch', run: spec.runId, record, epochs })
      },
    })
  } catch (err) {
    log.write(err instanceof Error && err.name === 'AbortError' ? 'aborted before training finished' : `failed: ${(err as Error).message}`)
    throw err
  }
  const resolvedTrain = model.config as unknown as Record<string, unknown>
  const resolved = runConfig(resolvedTrain)
  writeJsonAtomic(path.join(dir, 'config.json'), resolved)

  const notes: string[] = []
  let ranking: RankingMetrics | null = null
  let rankingNote: string | undefined
  if (config.metrics.ranking) {
    ranking = await rankingMetricsOf(model, part.test, { k: config.metrics.k, threshold: config.metrics.threshold })
  } else rankingNote = 'ranking metrics disabled (metrics.ranking = false)'
  if (rankingNote) notes.push(rankingNote)

  if (config.output.saveModel) {
    await saveModel(model, path.join(dir, MODEL_FILE))
    files.push(MODEL_FILE)
  }

  const factors = hasVectors(model.kind) ? model.factors : null
  const metrics: RunMetrics = {
    model: model.kind,
    factors,
    fold: part.fold,
    history: model.history,
    final: finalMetrics(model.history, trainConfig.patience !== undefined),
    ranking,
    ...(rankingNote ? { rankingNote } : {}),
  }
  writeMetrics(dir, metrics)
  files.push('metrics.csv', 'metrics.json')
  log.write(`done: test RMSE ${metrics.final.testRmse?.toFixed(4) ?? '-'} after ${metrics.final.epochs} epochs`)

  if (config.output.plots) {
    const context = `${data.description}, ${splitText}`
    await writePlot(learningCurvesSpec([{ label: modelLabel(resolvedTrain as TrainConfig), kind: model.kind, history: model.history }], context), path.join(dir, 'learning-curve'))
    files.push('learning-curve.svg', 'learning-curve.png')
    const map = hasVectors(model.kind) ? movieMapOf(model) : null
    if (map) {
      await writePlot(movieMapSpec(map, spec.catalog, { popularity: moviePopularity(part.train), context: `${modelLabel(resolvedTrain as TrainConfig)} on ${data.description}` }), path.join(dir, 'movie-map'))
      files.push('movie-map.svg', 'movie-map.png')
    } else notes.push('no movie map: the bias-only model has no movie vectors')
  }
  files.push('summary.md')
  writeSummary(dir, {
    title: `Experiment ${config.name ?? spec.runId}`,
    dataDescription: `${data.description} (${data.dataset.numRatings} ratings)`,
    splitDescription: splitText,
    trainConfig: resolvedTrain,
    metrics,
    noiseFloorRmse: data.noiseFloorRmse,
    files,
    notes,
  })
  options.onProgress?.({ type: 'run-end', run: spec.runId, testRmse: metrics.final.testRmse })
  return { dir, config: resolved, metrics, files, model }
}

/**
 * Runs one experiment from a config object (validated here) and writes its folder:
 * config.json, metrics.csv/json, the model file, plots, log.txt and summary.md.
 */
export async function runExperiment(input: ExperimentConfigInput | ExperimentConfig, options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const config = resolveConfig(input)
  const trainConfig = singleTrainConfig(config.model)
  if (config.split.folds !== undefined) throw invalidArgument('split.folds: k-fold cross-validation runs through a grid (alsrec grid / runGrid)')
  ensureFreshDir(config.output.dir, options.force)
  options.onProgress?.({ type: 'status', message: 'loading data' })
  const data = await loadData(config.data, options.signal)
  const [part] = splitData(data.dataset, config.split)
  if (!part) throw invalidArgument('split: produced no parts')
  return trainRun({ dir: config.output.dir, runId: config.name ?? 'run', index: 0, total: 1, config, train: trainConfig, part, data, catalog: data.dataset.catalog }, options)
}
