// tune(): successive halving on a validation split of the training part only; the CLI writes a
// config alsrec train takes; an experiment config's "tune" section tunes before training.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import test from 'ava'

import { AlsrecError, loadMovieLensSync, runExperiment, train } from '../dist/index.js'
import { tune } from '../dist/experiment/tune.js'
import { root, sampleDir } from './helpers.js'

const data = loadMovieLensSync(sampleDir)
const parts = data.split({ testFraction: 0.2, seed: 4 })
const cli = path.join(root, 'bin', 'alsrec.js')

test('tune searches on the training part only and never returns worse than the defaults on validation', async (t) => {
  const seen: number[] = []
  // The halving alone (one fold, no local stage): its counts are exact.
  const r = await tune(parts.train, { model: 'biased', ranker: null }, { trials: 9, folds: 1, refine: 0, onTrial: (x) => seen.push(x.id) })
  t.is(r.metric, 'rmse')
  // The validation ratings are a share of the training part: the test part is never read.
  t.is(r.validation.trainRatings + r.validation.validationRatings, parts.train.numRatings)
  t.true(r.defaultScore !== null && r.bestScore <= (r.defaultScore ?? 0) + 1e-12, `best ${r.bestScore}, defaults ${r.defaultScore}`)
  // 9 configurations at the first rung, 3 at the second, 1 at the full epochs (+ the defaults if they fell out).
  t.true(r.trainings >= 13 && r.trainings <= 14, `${r.trainings} trainings`)
  t.deepEqual(new Set(seen).size, 9)
  t.is(r.best.model, 'biased')
  t.true(r.best.tau !== undefined && r.best.gamma !== undefined && r.best.factors !== undefined)
  t.true(r.trials.every((x) => x.stage === 'halving' && x.foldScores.length === 1))
  // Reproducible for a seed.
  const again = await tune(parts.train, { model: 'biased', ranker: null }, { trials: 9, folds: 1, refine: 0 })
  t.deepEqual(again.best, r.best)
  // The best trains like any config.
  const model = await train(parts.train, r.best, { testSet: parts.test })
  t.true((model.history.at(-1)?.testRmse ?? 9) < 1.0)
})

test('the local stage returns the best configuration it evaluated, scored as the mean of the folds', async (t) => {
  const r = await tune(parts.train, { model: 'biased', ranker: null }, { trials: 3, refine: 8 })
  t.is(r.validation.folds, 2)
  const local = r.trials.filter((x) => x.stage === 'local')
  // The winner re-scored from scratch, the defaults (unless they won), then at most `refine` steps.
  t.true(local.length >= 2 && local.length <= 8 + 1, `${local.length} local evaluations`)
  for (const x of [...r.trials]) {
    t.is(x.foldScores.length, 2)
    t.true(Math.abs(x.score - (x.foldScores[0]! + x.foldScores[1]!) / 2) < 1e-12)
  }
  // Each local evaluation trains one model per fold; the halving's three, one and one per fold.
  t.is(r.trainings, 2 * (3 + 1) + 2 * local.length)
  // A pattern search keeps only improvements: the best is the lowest local score, and its keys.
  const lowest = local.reduce((a, b) => (b.score < a.score ? b : a))
  t.is(r.bestScore, lowest.score)
  t.is(r.best.tau, lowest.config.tau)
  t.is(r.best.gamma, lowest.config.gamma)
  t.is(r.best.factors, lowest.config.factors)
  // The defaults were scored under the same protocol, so the best is never worse than them.
  t.true(r.defaultScore !== null && r.bestScore <= r.defaultScore)
  const plain = local.find((x) => x.config.tau === 15 && x.config.gamma === 2 && x.config.factors === 32)
  t.truthy(plain)
  t.is(r.defaultScore, plain?.score ?? null)
  // The first local step starts from the halving winner, and every step stays in the space.
  t.is(local[0]?.config.tau, r.halvingBest.config.tau)
  for (const x of local) t.true((x.config.tau as number) >= 1 && (x.config.tau as number) <= 100 && (x.config.gamma as number) >= 0.2 && (x.config.gamma as number) <= 50)
  const again = await tune(parts.train, { model: 'biased', ranker: null }, { trials: 3, refine: 8 })
  t.deepEqual(again.best, r.best)
  t.deepEqual(again.trials.map((x) => x.score), r.trials.map((x) => x.score))
})

test('the local stage steps from a winner at the edge of a narrowed space only inward', async (t) => {
  // With τ confined to [15, 15·√2] the defaults sit on the lower edge: the only τ step is up.
  const r = await tune(parts.train, { model: 'biased', ranker: null }, { trials: 1, refine: 3, folds: 1, space: { tau: [15, 15 * Math.SQRT2], gamma: [2, 2], factors: [32] } })
  const taus = r.trials.filter((x) => x.stage === 'local').map((x) => x.config.tau as number)
  t.deepEqual(taus.slice(0, 2), [15, 15 * Math.SQRT2])
  t.true(taus.every((x) => x >= 15 && x <= 15 * Math.SQRT2 + 1e-9))
})

test('tune refuses what it cannot tune and bad budgets, naming them', async (t) => {
  await t.throwsAsync(() => tune(parts.train, { model: 'bayesian' }), { instanceOf: AlsrecError, message: /learns its precisions/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'popular' }), { instanceOf: AlsrecError, message: /no hyperparameters/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'biased' }, { trials: 0 }), { instanceOf: AlsrecError, message: /trials/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'biased' }, { folds: 0 }), { instanceOf: AlsrecError, message: /tune folds must be a whole number from 1 to 10/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'biased' }, { refine: -1 }), { instanceOf: AlsrecError, message: /tune refine must be a whole number from 0/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'biased' }, { space: { alpha: [1, 2] } }), { instanceOf: AlsrecError, message: /alpha does not apply/ })
  await t.throwsAsync(() => tune(parts.train, { model: 'biased' }, { space: { tau: [5, 1] } }), { instanceOf: AlsrecError, message: /space\.tau/ })
})

test('a seconds budget stops the search and still returns the best seen', async (t) => {
  const r = await tune(parts.train, { model: 'genre', ranker: null }, { trials: 27, seconds: 0.5 })
  t.is(r.stoppedBy, 'seconds')
  t.true(r.trainings >= 1 && r.trainings < 40)
  t.true(Number.isFinite(r.bestScore))
})

test('alsrec tune writes a config alsrec train takes; an experiment with "tune" writes tune.json', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'alsrec-tune-'))
  try {
    const best = path.join(dir, 'best.json')
    const out = execFileSync(process.execPath, [cli, 'tune', '--data', sampleDir, '--model', 'biased', '--trials', '9', '--folds', '1', '--refine', '4', '--out', best], { encoding: 'utf8' })
    t.regex(out, /Tuned biased in \d+ trainings/)
    const config = JSON.parse(readFileSync(best, 'utf8')) as { model: { kind: string; tau: number } }
    t.is(config.model.kind, 'biased')
    t.true(config.model.tau > 0)
    const run = path.join(dir, 'run')
    execFileSync(process.execPath, [cli, 'train', best, '--out', run, '--no-plots'], { encoding: 'utf8' })
    t.true(existsSync(path.join(run, 'model.alsrec')))
    const tuned = await runExperiment({ data: { movielens: sampleDir }, model: { kind: 'biased', ranker: null }, tune: { trials: 3, folds: 1, refine: 2 }, output: { dir: path.join(dir, 'exp'), plots: false } })
    t.true(tuned.files.includes('tune.json'))
    const record = JSON.parse(readFileSync(path.join(dir, 'exp', 'tune.json'), 'utf8')) as { best: { tau: number }; trainings: number }
    // The model's config shows the f32 it trained with.
    t.true(Math.abs(tuned.model.config.tau - record.best.tau) <= 1e-6 * record.best.tau)
    t.true(readFileSync(path.join(dir, 'exp', 'log.txt'), 'utf8').includes('tuned: '))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
