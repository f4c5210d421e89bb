// Scores a model on a dataset split: RMSE/MAE over the test ratings and ranking metrics. Used by
// `alsrec evaluate` on a saved model or an experiment folder.
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'

import type { Dataset } from '../dataset.js'
import { AlsrecError } from '../errors.js'
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

const isNotFound = (err: unknown): boolean => err instanceof AlsrecError && err.code === 'ALSREC_NOT_FOUND'

/**
 * The movies among `movieIds` (distinct) that the model does not know. predictMany refuses a
 * whole batch with one unknown id, and the binding lists no model's movie ids, so the batch is
 * halved until each unknown movie is alone: one call when every movie is known, about
 * log2(movies) calls per unknown movie otherwise. A native `Model.movieIds()` would replace this.
 */
function unknownMovies(model: Model, movieIds: Float64Array, knownUser: number): Set<number> {
  const unknown = new Set<number>()
  const probe = (ids: Float64Array): void => {
    if (ids.length === 0) return
    try {
      model.predictMany(new Float64Array(ids.length).fill(knownUser), ids)
    } catch (err) {
      if (!isNotFound(err)) throw err
      if (ids.length === 1) unknown.add(ids[0] as number)
      else {
        const half = ids.length >> 1
        probe(ids.subarray(0, half))
        probe(ids.subarray(half))
      }
    }
  }
  probe(movieIds)
  return unknown
}

/**
 * RMSE and MAE of the model's predictions on every test rating, in one predictMany call.
 * Ratings of users or movies the model does not know are counted in `unscored` and left out.
 */
export function ratingErrors(model: Model, testSet: Dataset): RatingErrors {
  const test = ratingArrays(testSet)
  const knownUsers = new Set(model.userIds())
  let scored = pairsWhere(test, (j) => knownUsers.has(test.userIds[j] as number))
  let predicted: Float32Array
  try {
    predicted = model.predictMany(scored.userIds, scored.movieIds)
  } catch (err) {
    if (!isNotFound(err)) throw err
    // Some movie is unknown to the model (a model evaluated on other data): find which, once.
    const ofKnownUsers = scored
    const unknown = unknownMovies(model, Float64Array.from(new Set(ofKnownUsers.movieIds)), ofKnownUsers.userIds[0] as number)
    scored = pairsWhere(ofKnownUsers, (j) => !unknown.has(ofKnownUsers.movieIds[j] as number))
    predicted = model.predictMany(scored.userIds, scored.movieIds)
  }
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

export interface EvaluateOptions {
  /** Evaluate on this data instead of the experiment's. */
  data?: DataSection
  /** Split overrides (kind, testFraction, seed). */
  split?: Partial<SplitSection>
  k?: number
  threshold?: number
  signal?: AbortSignal
}

export interface EvaluateResult extends RatingErrors {
  model: string
  factors: number | null
  /** How the model was obtained. */
  source: 'model file' | 'retrained from config.json'
  data: string
  split: string
  ranking: RankingMetrics | null
  notes: string[]
}

/**
 * What an experiment folder's marker says about the folder before it is evaluated: refuses a
 * model.alsrec the run did not write (it would be reported as the run's), and notes a run that
 * did not finish. Folders without a marker (made by older alsrec versions) are taken as they are.
 */
function checkRunFolder(target: string): string[] {
  const marker = readMarker(target)
  if (!marker) return []
  if (existsSync(path.join(target, MODEL_FILE)) && !marker.files.includes(MODEL_FILE))
    throw new AlsrecError('ALSREC_INVALID_ARGUMENT', `${path.join(target, MODEL_FILE)} was not written by the run in ${target} (${MARKER_FILE} does not list it); evaluate the file itself (alsrec evaluate ${path.join(target, MODEL_FILE)} --data <dir>) or remove it`)
  return marker.status === 'done' ? [] : [`the run in ${target} did not finish (${marker.status}); its metrics may be missing`]
}

/**
 * Evaluates a saved model file or an experiment folder. A folder's model file is used when it
 * is there; otherwise (a run made with --no-save) the run is retrained from its config.json,
 * which (seeded) reproduces the same model.
 */
export async function evaluateTarget(target: string, options: EvaluateOptions = {}): Promise<EvaluateResult> {
  if (!existsSync(target)) throw new AlsrecError('ALSREC_NOT_FOUND', `${target} does not exist`)
  const isFolder = statSync(target).isDirectory()
  const configFile = isFolder ? path.join(target, 'config.json') : null
  if (isFolder && !existsSync(configFile ?? '')) throw new AlsrecError('ALSREC_NOT_FOUND', `${target} is not an experiment folder (no config.json)`)
  const config = configFile ? loadConfigFile(configFile) : null
  const dataSection = options.data ?? config?.data
  if (!dataSection) throw new AlsrecError('ALSREC_INVALID_ARGUMENT', 'evaluating a model file needs --data <dir>')
  const split: SplitSection = { ...(config?.split ?? { kind: 'random', testFraction: 0.2, seed: 42 }), ...options.split, folds: undefined }
  const notes: string[] = isFolder ? checkRunFolder(target) : []
  const data = await loadData(dataSection, options.signal)
  const [part] = splitData(data.dataset, split)
  if (!part) throw new AlsrecError('ALSREC_INTERNAL', 'the split produced no parts')

  const modelFile = isFolder ? path.join(target, MODEL_FILE) : target
  let model: Model
  let source: EvaluateResult['source']
  if (existsSync(modelFile)) {
    model = await loadModel(modelFile)
    source = 'model file'
  } else if (config) {
    // With the test set, as the run trained: `patience` needs it, and picks the same epoch.
    model = await train(part.train, singleTrainConfig(config.model), { testSet: part.test, ...(options.signal ? { signal: options.signal } : {}) })
    source = 'retrained from config.json'
    notes.push(`${MODEL_FILE} is absent; retrained from config.json (same seed, same model)`)
  } else throw new AlsrecError('ALSREC_NOT_FOUND', `${modelFile} does not exist, and there is no config.json beside it to retrain from`)

  const errors = ratingErrors(model, part.test)
  if (errors.unscored > 0) notes.push(`${errors.unscored} test ratings of users or movies unknown to the model were left out`)
  const ranking = await model.rankingMetrics(part.test, { k: options.k ?? config?.metrics.k ?? 10, threshold: options.threshold ?? config?.metrics.threshold ?? 4 })
  return { model: model.kind, factors: hasVectors(model.kind) ? model.factors : null, source, data: data.source, split: describeSplit(split), ...errors, ranking, notes }
}
