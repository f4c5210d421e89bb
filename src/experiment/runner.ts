// runExperiment: data → split → train → metrics, model, plots and summary in one folder.
import path from 'node:path'

import type { Catalog } from '../catalog.js'
import { abortError, invalidArgument } from '../errors.js'
import type { Model, RankingMetrics } from '../model.js'
import { learningCurvesSpec } from '../plots/learning-curves.js'
import { movieMapSpec } from '../plots/movie-map.js'
import { writePlot } from '../plots/render.js'
import { trainOnSpark } from '../spark/engine.js'
import { train, type EpochRecord, type TrainConfig } from '../train.js'
import { writeJsonAtomic } from './atomic.js'
import { hasVectors, resolveConfig, singleTrainConfig, type ExperimentConfig, type ExperimentConfigInput, type GridKey, type GridPoint } from './config.js'
import { describeSplit, loadData, moviePopularity, splitData, type LoadedData, type SplitPart } from './data.js'
import { tune, type TuneResult } from './tune.js'
import { checkOutputFolder, finalMetrics, MARKER_FILE, MODEL_FILE, OutputFolder, RunLog, writeMetrics, writeSummary, type RunMetrics } from './folder.js'

export { MODEL_FILE }

export type ExperimentEvent =
  | { type: 'status'; message: string }
  | { type: 'run-start'; run: string; index: number; total: number; epochs: number }
  | { type: 'epoch'; run: string; record: EpochRecord; epochs: number }
  | { type: 'run-end'; run: string; testRmse: number | null }

export interface ExperimentOptions {
  signal?: AbortSignal
  onProgress?: (event: ExperimentEvent) => void
  /**
   * Write into an output folder that holds an earlier alsrec run (its files are replaced) or
   * into a non-empty folder that is not an alsrec run (alsrec's file names are written there,
   * other files stay). The rules are at the top of folder.ts.
   */
  force?: boolean
}

export interface ExperimentResult {
  dir: string
  /** The config as resolved: defaults filled, absolute paths, the model's full training config. */
  config: ExperimentConfig
  metrics: RunMetrics
  /** File names written into `dir` (the marker MARKER_FILE last). */
  files: string[]
  model: Model
}

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

export interface RunSpec {
  dir: string
  runId: string
  index: number
  total: number
  config: ExperimentConfig
  train: GridPoint['train']
  varied?: Partial<Record<GridKey, string | number>>
  /** A grid run's config hash (written into config.json's `run`; `resume` matches on it). */
  hash?: string
  part: SplitPart
  data: LoadedData
  catalog: Catalog
  /** The search that chose `train` (config.tune), written to tune.json. */
  tuned?: TuneResult
}

/**
 * Trains one configuration on one split and writes its experiment folder: opens it by the
 * folder rules (folder.ts), and marks it done, or failed/aborted, at the end.
 */
export async function trainRun(spec: RunSpec, options: ExperimentOptions): Promise<ExperimentResult> {
  const folder = OutputFolder.open(spec.dir, { kind: 'experiment', force: options.force, saveModel: spec.config.output.saveModel })
  try {
    const result = await writeRun(spec, folder, options)
    folder.finish()
    return result
  } catch (err) {
    folder.fail(err)
    throw err
  }
}

async function writeRun(spec: RunSpec, folder: OutputFolder, options: ExperimentOptions): Promise<ExperimentResult> {
  const { dir, config, part, data } = spec
  const log = new RunLog(path.join(dir, 'log.txt'))
  const files = ['config.json', 'log.txt']
  folder.claim(...files)
  const trainConfig: TrainConfig = { ...spec.train }
  const runConfig = (full: Record<string, unknown>): ExperimentConfig & { run?: unknown } => ({
    ...config,
    model: modelSection(full),
    output: { ...config.output, dir },
    ...(spec.varied ? { run: { id: spec.runId, fold: part.fold, varied: spec.varied, ...(spec.hash !== undefined ? { hash: spec.hash } : {}) } } : {}),
  })
  writeJsonAtomic(path.join(dir, 'config.json'), runConfig({ ...trainConfig }))
  if (spec.tuned) {
    folder.claim('tune.json')
    writeJsonAtomic(path.join(dir, 'tune.json'), spec.tuned)
    files.push('tune.json')
  }
  const splitText = describeSplit(config.split) + (part.fold !== null ? `, fold ${part.fold}` : '')
  log.write(`data: ${data.description} (${data.source}); ${data.dataset.numRatings} ratings`)
  log.write(`split: ${splitText}; ${part.train.numRatings} train, ${part.test.numRatings} test ratings`)
  if (spec.tuned) {
    const t = spec.tuned
    log.write(`tuned: ${t.trainings} trainings in ${t.seconds.toFixed(1)} s on ${t.validation.trainRatings} training ratings, validation ${t.metric} ${t.bestScore.toFixed(4)}${t.defaultScore !== null ? ` (the defaults: ${t.defaultScore.toFixed(4)})` : ''}${t.stoppedBy ? `; stopped by the ${t.stoppedBy} budget` : ''}`)
  }
  log.write(`training: ${JSON.stringify(trainConfig)}`)
  const epochs = trainConfig.epochs ?? 15
  options.onProgress?.({ type: 'run-start', run: spec.runId, index: spec.index, total: spec.total, epochs })

  let model: Model
  try {
    if (config.engine === 'spark') {
      folder.claim('spark-model', 'spark.log')
      const run = await trainOnSpark(part.train, trainConfig, { ...config.spark, dir, testSet: part.test, log: (line) => log.write(line), ...(options.signal ? { signal: options.signal } : {}), onPhase: (phase) => options.onProgress?.({ type: 'status', message: `spark: ${phase}` }) })
      files.push('spark-model', 'spark.log')
      model = run.model
      log.write(`spark: ${run.seconds.toFixed(1)} s in all, ${run.secondsPerIteration?.toFixed(3) ?? '-'} s per ALS iteration; model in ${run.modelDir}`)
    } else model = await train(part.train, trainConfig, {
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
    ranking = await model.rankingMetrics(part.test, { k: config.metrics.k, threshold: config.metrics.threshold })
  } else rankingNote = 'ranking metrics disabled (metrics.ranking = false)'
  if (rankingNote) notes.push(rankingNote)

  if (config.output.saveModel) {
    folder.claim(MODEL_FILE)
    await model.save(path.join(dir, MODEL_FILE))
    files.push(MODEL_FILE)
  }

  const factors = hasVectors(model.kind) ? model.factors : null
  const metrics: RunMetrics = {
    model: model.kind,
    factors,
    fold: part.fold,
    history: model.history,
    final: finalMetrics(model.history, model.keptEpoch),
    ranking,
    ...(rankingNote ? { rankingNote } : {}),
  }
  folder.claim('metrics.csv', 'metrics.json')
  writeMetrics(dir, metrics)
  files.push('metrics.csv', 'metrics.json')
  log.write(`done: test RMSE ${metrics.final.testRmse?.toFixed(4) ?? '-'} (kept epoch ${metrics.final.keptEpoch}) after ${metrics.final.epochs} epochs`)

  if (config.output.plots) {
    const context = `${data.description}, ${splitText}`
    folder.claim('learning-curve.svg', 'learning-curve.png')
    await writePlot(learningCurvesSpec([{ label: modelLabel(resolvedTrain as TrainConfig), kind: model.kind, history: model.history, patience: trainConfig.patience }], context), path.join(dir, 'learning-curve'))
    files.push('learning-curve.svg', 'learning-curve.png')
    if (hasVectors(model.kind) && model.factors > 0) {
      const map = model.movieMap()
      folder.claim('movie-map.svg', 'movie-map.png')
      await writePlot(movieMapSpec(map, spec.catalog, { popularity: moviePopularity(part.train), context: `${modelLabel(resolvedTrain as TrainConfig)} on ${data.description}` }), path.join(dir, 'movie-map'))
      files.push('movie-map.svg', 'movie-map.png')
    } else notes.push('no movie map: the bias-only model has no movie vectors')
  }
  files.push('summary.md')
  folder.claim('summary.md')
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
  return { dir, config: resolved, metrics, files: [...files, MARKER_FILE], model }
}

/**
 * Runs one experiment from a config object (validated here) and writes its folder:
 * config.json, metrics.csv/json, the model file, plots, log.txt, summary.md and the marker.
 * The folder is checked first and made only once the data has loaded, so a bad config or data
 * path leaves nothing behind.
 */
export async function runExperiment(input: ExperimentConfigInput | ExperimentConfig, options: ExperimentOptions = {}): Promise<ExperimentResult> {
  const config = resolveConfig(input)
  const trainConfig = singleTrainConfig(config.model)
  if (config.split.folds !== undefined) throw invalidArgument('split.folds: k-fold cross-validation runs through a grid (alsrec grid / runGrid)')
  checkOutputFolder(config.output.dir, { kind: 'experiment', force: options.force, saveModel: config.output.saveModel })
  options.onProgress?.({ type: 'status', message: 'loading data' })
  const data = await loadData(config.data, options.signal)
  const [part] = splitData(data.dataset, config.split)
  if (!part) throw invalidArgument('split: produced no parts')
  // Stopped while the data loaded: stop before the folder is made.
  if (options.signal?.aborted) throw abortError()
  let tuned: TuneResult | undefined
  if (config.tune) {
    options.onProgress?.({ type: 'status', message: 'tuning on the training part' })
    tuned = await tune(part.train, trainConfig, {
      ...config.tune,
      ...(options.signal ? { signal: options.signal } : {}),
      onTrial: (t) => options.onProgress?.({ type: 'status', message: `tune (${t.stage}): configuration ${t.id} at ${t.epochs} epochs, validation ${t.score.toFixed(4)}` }),
    })
  }
  const chosen = tuned ? { ...trainConfig, ...tuned.best } : trainConfig
  return trainRun({ dir: config.output.dir, runId: config.name ?? 'run', index: 0, total: 1, config, train: chosen as GridPoint['train'], part, data, catalog: data.dataset.catalog, ...(tuned ? { tuned } : {}) }, options)
}
