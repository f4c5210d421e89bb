// Scores a model on a dataset split: RMSE/MAE over the test ratings and ranking metrics. Used by
// `alsrec evaluate` on a saved model or an experiment folder.
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'

import type { Dataset } from '../dataset.js'
import { AlsrecError, invalidArgument } from '../errors.js'
import { loadModel, type Model, type RankingMetrics } from '../model.js'
import { train } from '../train.js'
import { hasVectors, loadConfigFile, singleTrainConfig, type DataSection, type SplitSection } from './config.js'
import { describeSplit, loadData, ratingArrays, splitData, type RatingArrays } from './data.js'
import { MARKER_FILE, MODEL_FILE, readMarker } from './folder.js'

export interface RatingErrors {
  rmse: number
  mae: number
  /** Test ratings scored. */
  ratings: number
  /** Test ratings of users or movies the model does not know (left out of RMSE/MAE). */
  unscored: number
}

/**
 * RMSE and MAE of the model's predictions on every test rating, in one predictMany call.
 * Ratings of users or movies the model does not know are counted in `unscored` and left out.
 */
export function ratingErrors(model: Model, testSet: Dataset): RatingErrors {
  const test = ratingArrays(testSet)
  const knownUsers = new Set(model.userIds())
  const knownMovies = new Set(model.movieIds())
  const scored = pairsWhere(test, (j) => knownUsers.has(test.userIds[j] as number) && knownMovies.has(test.movieIds[j] as number))
  const predicted = model.predictMany(scored.userIds, scored.movieIds)
  let se = 0
  let ae = 0
  for (let j = 0; j < predicted.length; j++) {
    const e = (predicted[j] as number) - (scored.ratings[j] as number)
    se += e * e
    ae += Math.abs(e)
  }
  const n = predicted.length
  return { rmse: n > 0 ? Math.sqrt(se / n) : Number.NaN, mae: n > 0 ? ae / n : Number.NaN, ratings: n, unscored: test.ratings.length - n }
}

/** The ratings j for which `keep(j)` holds, as parallel arrays (`all` itself when every one does). */
function pairsWhere(all: RatingArrays, keep: (j: number) => boolean): RatingArrays {
  const n = all.ratings.length
  const mask = new Uint8Array(n)
  let count = 0
  for (let j = 0; j < n; j++) {
    if (!keep(j)) continue
    mask[j] = 1
    count++
  }
  if (count === n) return all
  const out: RatingArrays = { userIds: new Float64Array(count), movieIds: new Float64Array(count), ratings: new Float32Array(count) }
  for (let j = 0, at = 0; j < n; j++) {
    if (mask[j] === 0) continue
    out.userIds[at] = all.userIds[j] as number
    out.movieIds[at] = all.movieIds[j] as number
    out.ratings[at] = all.ratings[j] as number
    at++
  }
  return out
}

/**
 * What to do with test ratings the model was trained on (another split, seed or data set than
 * the model's own overlaps its training set): 'refuse' (the default) throws
 * ALSREC_INVALID_ARGUMENT; 'drop' scores only the other ratings; 'include' scores them all
 * (e.g. to measure the fit on training data), and the result says how many were training ratings.
 */
export type SeenPolicy = 'refuse' | 'drop' | 'include'

export interface EvaluateOptions {
  /** Evaluate on this data instead of the experiment's. */
  data?: DataSection
  /** Split overrides (kind, testFraction, seed, minRatings, cutoff, coldStart). */
  split?: Partial<SplitSection>
  k?: number
  threshold?: number
  /** Test ratings that are training ratings of the model: 'refuse' (default), 'drop' or 'include'. */
  seen?: SeenPolicy
  /**
   * Retrain an experiment folder whose run did not finish (so it has no model file) from its
   * config.json. A finished run saved without a model (--no-save) is retrained without it, and
   * `onStatus` and `notes` say so.
   */
  retrain?: boolean
  /** Told what is being done before slow steps (loading, retraining). */
  onStatus?: (message: string) => void
  signal?: AbortSignal
}

/** How many test ratings were training ratings of the model, and what became of them. */
export interface TrainingOverlapReport {
  /** Ratings in the test split, before any was dropped. */
  testRatings: number
  /** Of those, the model's training ratings. */
  seen: number
  /** Training ratings left out of every metric (seen: 'drop'). */
  dropped: number
  /** Training ratings among the evaluated pairs (seen: 'include'; 0 otherwise). */
  evaluated: number
}

export interface EvaluateResult extends RatingErrors {
  model: string
  factors: number | null
  /** How the model was obtained. */
  source: 'model file' | 'retrained from config.json'
  data: string
  split: string
  ranking: RankingMetrics | null
  /** Test ratings that are training ratings of the model (always reported; 0 on the model's own split). */
  trainingOverlap: TrainingOverlapReport
  notes: string[]
}

/** What an experiment folder's marker says: whether the run finished, and the model file it wrote. */
interface FolderFacts {
  notes: string[]
  /** The run finished (or the folder predates markers, and is taken as it is). */
  finished: boolean
  status: string
}

/**
 * Refuses a model.alsrec the run did not write (it would be reported as the run's), and tells
 * whether the run finished. Folders without a marker (made by older alsrec versions) are taken
 * as they are.
 */
function checkRunFolder(target: string): FolderFacts {
  const marker = readMarker(target)
  if (!marker) return { notes: [], finished: true, status: 'done' }
  if (existsSync(path.join(target, MODEL_FILE)) && !marker.files.includes(MODEL_FILE))
    throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `${path.join(target, MODEL_FILE)} was not written by the run in ${target} (${MARKER_FILE} does not list it); evaluate the file itself (alsrec evaluate ${path.join(target, MODEL_FILE)} --data <dir>) or remove it`)
  const finished = marker.status === 'done'
  return { notes: finished ? [] : [`the run in ${target} did not finish (${marker.status}); its metrics may be missing`], finished, status: marker.status }
}

const share = (part: number, whole: number): string => `${whole > 0 ? ((100 * part) / whole).toFixed(1) : '0'} %`

/**
 * Evaluates a saved model file or an experiment folder. A folder's model file is used when it
 * is there; otherwise the run is retrained from its config.json, which (seeded) reproduces the
 * same model: a finished --no-save run always, a run that did not finish only with `retrain`. Test ratings the model was trained on are refused, dropped or
 * included as `seen` says, and counted in `trainingOverlap` in every case.
 */
export async function evaluateTarget(target: string, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  if (!existsSync(target)) throw new AlsrecError('ALSREC_NOT_FOUND', `${target} does not exist`)
  const policy = options.seen ?? 'refuse'
  if (policy !== 'refuse' && policy !== 'drop' && policy !== 'include') throw invalidArgument(`seen must be 'refuse', 'drop' or 'include' (got ${String(policy)})`)
  const isFolder = statSync(target).isDirectory()
  const configFile = isFolder ? path.join(target, 'config.json') : null
  if (isFolder && !existsSync(configFile ?? '')) throw new AlsrecError('ALSREC_NOT_FOUND', `${target} is not an experiment folder (no config.json)`)
  const config = configFile ? loadConfigFile(configFile) : null
  const dataSection = options.data ?? config?.data
  if (!dataSection) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'evaluating a model file needs --data <dir>')
  const overrides = Object.fromEntries(Object.entries(options.split ?? {}).filter(([, v]) => v !== undefined))
  // A fold of a k-fold grid is evaluated on its own fold unless the split is overridden.
  const runFold = config?.run?.fold
  const fold = config?.split.folds !== undefined && typeof runFold === 'number' && Object.keys(overrides).length === 0 ? runFold : null
  const split: SplitSection = { ...(config?.split ?? { kind: 'random', testFraction: 0.2, seed: 42 }), ...overrides, ...(fold === null ? { folds: undefined } : {}) }
  const folder = isFolder ? checkRunFolder(target) : null
  const notes: string[] = folder?.notes ?? []
  const modelFile = isFolder ? path.join(target, MODEL_FILE) : target
  const hasModel = existsSync(modelFile)
  // A finished run that saved no model (--no-save) is retrained: seeded, that is its model. A run
  // that did not finish is not, unless asked: its config may never have produced a model.
  // Refused before the data loads.
  if (!hasModel && config && folder && !folder.finished && !options.retrain)
    throw invalidArgument(`${target} has no ${MODEL_FILE}: the run did not finish (${folder.status}), so it has no model. Pass --retrain (retrain: true) to retrain it from config.json and evaluate that, or train it again`)
  if (!hasModel && !config) throw new AlsrecError('ALSREC_NOT_FOUND', `${modelFile} does not exist, and there is no config.json beside it to retrain from`)
  options.onStatus?.('loading data')
  const data = await loadData(dataSection, options.signal)
  const part = splitData(data.dataset, split)[fold === null ? 0 : fold - 1]
  if (!part) throw new AlsrecError('ALSREC_INTERNAL', `the split produced no part${fold === null ? 's' : ` ${fold}`}`)
  const splitText = describeSplit(split) + (fold === null ? '' : `, fold ${fold}`)

  let model: Model
  let source: EvaluateResult['source']
  if (hasModel) {
    model = await loadModel(modelFile)
    source = 'model file'
  } else {
    const trainConfig = singleTrainConfig((config as NonNullable<typeof config>).model)
    options.onStatus?.(`retraining ${JSON.stringify(trainConfig)} from ${configFile ?? 'config.json'} (${MODEL_FILE} is absent)`)
    // With the test set, as the run trained: `patience` needs it, and picks the same epoch.
    model = await train(part.train, trainConfig, { testSet: part.test, ...(options.signal ? { signal: options.signal } : {}) })
    source = 'retrained from config.json'
    notes.push(`${MODEL_FILE} is absent${folder && !folder.finished ? ` (the run did not finish: ${folder.status})` : ''}; retrained from config.json (same seed, same model as the run would have trained)`)
  }

  const overlap = await model.trainingOverlap(part.test)
  const unseen = part.test.numRatings - overlap.seen
  if (overlap.seen > 0 && policy === 'refuse')
    throw invalidArgument(
      `${overlap.seen} of the ${overlap.ratings} test ratings (${share(overlap.seen, overlap.ratings)}) are training ratings of the model: this split (${splitText} of ${data.source}) is not the one it was trained on, and scoring them would flatter it. Evaluate on the model's own split, or pass --unseen-only (seen: 'drop') to score the other ${unseen} ratings, or --include-seen (seen: 'include') to score all`,
    )
  let testSet = part.test
  const report: TrainingOverlapReport = { testRatings: overlap.ratings, seen: overlap.seen, dropped: 0, evaluated: 0 }
  if (overlap.seen > 0 && policy === 'drop') {
    testSet = await model.withoutTrainingRatings(part.test)
    report.dropped = overlap.seen
    notes.push(`${overlap.seen} of the ${overlap.ratings} test ratings (${share(overlap.seen, overlap.ratings)}) are training ratings of the model: dropped; scored the other ${testSet.numRatings}`)
  } else if (overlap.seen > 0) {
    report.evaluated = overlap.seen
    notes.push(`${overlap.seen} of the ${overlap.ratings} evaluated test ratings (${share(overlap.seen, overlap.ratings)}) are training ratings of the model (included as asked): these metrics flatter it`)
  }

  const errors = ratingErrors(model, testSet)
  if (errors.unscored > 0) notes.push(`${errors.unscored} test ratings of users or movies unknown to the model were left out`)
  const ranking = await model.rankingMetrics(testSet, { k: options.k ?? config?.metrics.k ?? 10, threshold: options.threshold ?? config?.metrics.threshold ?? 4 })
  return { model: model.kind, factors: hasVectors(model.kind) ? model.factors : null, source, data: data.source, split: splitText, ...errors, ranking, trainingOverlap: report, notes }
}
