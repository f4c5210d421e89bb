// `alsrec evaluate` never scores training ratings without saying so (issue 18, items 1 and 4), and
// `info` / metrics.csv / summary.md report the epoch a model kept under `patience` (item 2).
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { loadModel, loadMovieLens, train } from '../dist/index.js'
import { hasMlSmall, MISSING_ML_SMALL, mlSmallDir, root, sampleDir } from './helpers.js'

const bin = path.join(root, 'bin', 'alsrec.js')
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'alsrec-eval-'))
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

interface Evaluation {
  rmse: number
  ratings: number
  source: string
  trainingOverlap: { testRatings: number; seen: number; dropped: number; evaluated: number }
  notes: string[]
}

function trainSample(args: string[] = []): string {
  const out = path.join(tmp(), 'run')
  const r = run('train', '--data', sampleDir, '--model', 'biased', '--factors', '4', '--epochs', '3', '--out', out, '--json', ...args)
  if (r.status !== 0) throw new Error(r.stderr)
  return out
}

test('evaluate counts training ratings in the test set, refuses them by default, drops or includes them on request', (t) => {
  const out = trainSample()
  const own = run('evaluate', out, '--json')
  t.is(own.status, 0, own.stderr)
  const ownResult = JSON.parse(own.stdout) as Evaluation
  t.deepEqual(ownResult.trainingOverlap, { testRatings: 16000, seen: 0, dropped: 0, evaluated: 0 }, 'its own split holds no training rating')
  const text = run('evaluate', out)
  t.regex(text.stdout, /Training ratings among the evaluated pairs: 0 /)

  const model = path.join(out, 'model.alsrec')
  // Another split seed: most of its test ratings were trained on.
  const refused = run('evaluate', model, '--data', sampleDir, '--seed', '43', '--json')
  t.is(refused.status, 2, 'a usage error: the flags ask for a misleading evaluation')
  // Under --json the error is one JSON line on stderr.
  const error = (JSON.parse(refused.stderr) as { error: { code: string; message: string } }).error
  t.is(error.code, 'ALSREC_INVALID_ARGUMENT')
  t.regex(error.message, /^(\d+) of the 16000 test ratings \(\d+\.\d %\) are training ratings of the model: .*--unseen-only/)
  t.is(refused.stdout, '')
  const seen = Number(/^(\d+) of/.exec(error.message)?.[1])
  t.true(seen > 0.7 * 16000 && seen < 0.9 * 16000, String(seen))

  const dropped = run('evaluate', model, '--data', sampleDir, '--seed', '43', '--unseen-only', '--json')
  t.is(dropped.status, 0, dropped.stderr)
  const d = JSON.parse(dropped.stdout) as Evaluation
  t.deepEqual(d.trainingOverlap, { testRatings: 16000, seen, dropped: seen, evaluated: 0 })
  t.is(d.ratings, 16000 - seen, 'only the unseen pairs are scored')
  t.true(d.notes.some((n) => n.includes(`${seen} of the 16000 test ratings`) && n.includes('dropped')), d.notes.join('; '))
  const droppedText = run('evaluate', model, '--data', sampleDir, '--seed', '43', '--unseen-only')
  t.regex(droppedText.stdout, new RegExp(`Training ratings among the evaluated pairs: 0 \\(of 16,000 test ratings, ${seen.toLocaleString('en-US')} were trained on; ${seen.toLocaleString('en-US')} dropped\\)`))

  const included = run('evaluate', model, '--data', sampleDir, '--seed', '43', '--include-seen', '--json')
  t.is(included.status, 0, included.stderr)
  const i = JSON.parse(included.stdout) as Evaluation
  t.deepEqual(i.trainingOverlap, { testRatings: 16000, seen, dropped: 0, evaluated: seen })
  t.is(i.ratings, 16000)
  t.true(i.rmse < d.rmse, `training ratings flatter the model: ${i.rmse} vs ${d.rmse} on unseen pairs`)
  t.is(run('evaluate', model, '--data', sampleDir, '--unseen-only', '--include-seen').status, 2)
})

test('the Node API counts and drops training ratings in one call each', async (t) => {
  const data = await loadMovieLens(sampleDir)
  const own = data.split({ seed: 42 })
  const other = data.split({ seed: 43 })
  const model = await train(own.train, { model: 'biased', factors: 4, epochs: 2 })
  t.deepEqual(await model.trainingOverlap(own.train), { ratings: own.train.numRatings, seen: own.train.numRatings })
  t.deepEqual(model.trainingOverlapSync(own.test), { ratings: own.test.numRatings, seen: 0 })
  t.deepEqual(await model.trainingOverlap(data), { ratings: data.numRatings, seen: own.train.numRatings }, 'pairs are matched by raw id across sets')
  const overlap = await model.trainingOverlap(other.test)
  t.deepEqual(model.trainingOverlapSync(other.test), overlap)
  const unseen = await model.withoutTrainingRatings(other.test)
  t.is(unseen.numRatings, other.test.numRatings - overlap.seen)
  t.is(model.withoutTrainingRatingsSync(other.test).numRatings, unseen.numRatings)
  t.is((await model.trainingOverlap(unseen)).seen, 0)
  t.is(unseen.catalog.size, data.catalog.size)
  // The same counts after a save and load: the model file keeps its training ratings.
  const file = path.join(tmp(), 'm.alsrec')
  await model.save(file)
  t.deepEqual(await (await loadModel(file)).trainingOverlap(other.test), overlap)
  await t.throwsAsync(() => model.trainingOverlap({} as never), { code: 'ALSREC_INVALID_ARGUMENT' })
  t.throws(() => model.trainingOverlapSync({} as never), { code: 'ALSREC_INVALID_ARGUMENT' })
})

test('ml-latest-small: another seed scores 80 % training ratings; --unseen-only tells the truth', (t) => {
  if (!hasMlSmall) return t.pass(MISSING_ML_SMALL)
  const out = path.join(tmp(), 'ml')
  const r = run('train', '--data', mlSmallDir, '--model', 'biased', '--factors', '16', '--epochs', '8', '--no-plots', '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const testRmse = (JSON.parse(r.stdout) as { final: { testRmse: number } }).final.testRmse
  const model = path.join(out, 'model.alsrec')
  t.is(run('evaluate', model, '--data', mlSmallDir, '--seed', '43').status, 2)
  const flattering = JSON.parse(run('evaluate', model, '--data', mlSmallDir, '--seed', '43', '--include-seen', '--json').stdout) as Evaluation
  const honest = JSON.parse(run('evaluate', model, '--data', mlSmallDir, '--seed', '43', '--unseen-only', '--json').stdout) as Evaluation
  t.true(flattering.trainingOverlap.seen / flattering.trainingOverlap.testRatings > 0.75)
  t.true(flattering.rmse < testRmse - 0.05, `${flattering.rmse} vs ${testRmse}`)
  t.true(Math.abs(honest.rmse - testRmse) < 0.03, `unseen pairs score like the real test set: ${honest.rmse} vs ${testRmse}`)
  const temporal = JSON.parse(run('evaluate', model, '--data', mlSmallDir, '--split', 'temporal', '--unseen-only', '--json').stdout) as Evaluation
  t.true(temporal.trainingOverlap.dropped > 0)
})

test('evaluate retrains an unfinished run only with --retrain, and says so whenever it retrains', (t) => {
  // A finished --no-save run: retrained (seeded, that is its model), and said so.
  const out = trainSample(['--no-save'])
  const retrained = run('evaluate', out, '--json')
  t.is(retrained.status, 0, retrained.stderr)
  t.regex(retrained.stderr, /^alsrec: retraining \{.*"model":"biased".*\} from .*config\.json \(model\.alsrec is absent\)\n$/)
  const e = JSON.parse(retrained.stdout) as Evaluation
  t.is(e.source, 'retrained from config.json')
  const metrics = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')) as { final: { testRmse: number } }
  t.true(Math.abs(e.rmse - metrics.final.testRmse) < 1e-6, 'the seeded retrain is the same model')

  // A run that did not finish (killed while training): marked unfinished, no model, no metrics.
  const half = trainSample()
  rmSync(path.join(half, 'model.alsrec'))
  rmSync(path.join(half, 'metrics.json'))
  const markerFile = path.join(half, 'alsrec-run.json')
  const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as { status: string }
  writeFileSync(markerFile, JSON.stringify({ ...marker, status: 'aborted' }))
  const unfinished = run('evaluate', half)
  t.is(unfinished.status, 2)
  t.regex(unfinished.stderr, /has no model\.alsrec: the run did not finish \(aborted\), so it has no model\. Pass --retrain/)
  const forced = run('evaluate', half, '--retrain', '--json')
  t.is(forced.status, 0, forced.stderr)
  t.true((JSON.parse(forced.stdout) as Evaluation).notes.some((n) => /retrained from config\.json/.test(n) && /did not finish: aborted/.test(n)))
})

test('info, metrics.csv and summary.md show the epoch a model kept under patience, not the last', (t) => {
  // Barely regularized vectors overfit: the test RMSE turns up after a few epochs, and patience stops.
  const out = path.join(tmp(), 'patience')
  const r = run('train', '--data', sampleDir, '--model', 'biased', '--factors', '48', '--tau', '1', '--epochs', '30', '--patience', '2', '--tolerance', '0', '--no-plots', '--out', out, '--json')
  t.is(r.status, 0, r.stderr)
  const trained = JSON.parse(r.stdout) as { final: { keptEpoch: number; epochs: number; testRmse: number }; history: Array<{ epoch: number; testRmse: number }> }
  const best = trained.history.reduce((a, h) => (h.testRmse < a.testRmse ? h : a))
  const last = trained.history.at(-1)
  t.true(best.epoch < (last?.epoch ?? 0), 'patience stopped after a worse epoch')
  t.is(trained.final.keptEpoch, best.epoch)
  t.is(trained.final.testRmse, best.testRmse)

  const info = run('info', path.join(out, 'model.alsrec'), '--json')
  t.is(info.status, 0, info.stderr)
  const i = JSON.parse(info.stdout) as { keptEpoch: number; final: { epoch: number; testRmse: number }; last: { epoch: number; testRmse: number } }
  t.is(i.keptEpoch, best.epoch)
  t.is(i.final.epoch, best.epoch)
  t.is(i.final.testRmse, best.testRmse)
  t.is(i.last.epoch, last?.epoch ?? -1)
  const text = run('info', path.join(out, 'model.alsrec')).stdout
  t.regex(text, new RegExp(`kept epoch ${best.epoch} \\(best test RMSE, patience 2\\): train RMSE [\\d.]+, test RMSE ${best.testRmse.toFixed(4)}; the last epoch trained, ${last?.epoch ?? -1}, had`))
  // The kept model is what evaluate scores.
  const e = JSON.parse(run('evaluate', out, '--json').stdout) as Evaluation
  t.true(Math.abs(e.rmse - best.testRmse) < 1e-6, `${e.rmse} vs ${best.testRmse}`)

  const csv = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n')
  t.is(csv[0], 'epoch,train_rmse,train_mae,test_rmse,test_mae,loss,seconds,kept')
  const keptRows = csv.slice(1).filter((line) => line.endsWith(',1'))
  t.is(keptRows.length, 1)
  t.regex(keptRows[0] ?? '', new RegExp(`^${best.epoch},`))
  const summary = readFileSync(path.join(out, 'summary.md'), 'utf8')
  t.regex(summary, new RegExp(`kept epoch ${best.epoch} \\(the best test RMSE; training stopped \\d+ epoch\\(s\\) later, under patience\\)`))
  t.regex(summary, new RegExp(`Test RMSE \\*\\*${best.testRmse.toFixed(4)}\\*\\*`))
  t.regex(summary, new RegExp(`^\\| ${best.epoch} \\| .*\\| \\*\\*kept\\*\\* \\|$`, 'm'))
  t.is(summary.match(/\*\*kept\*\*/g)?.length, 1)
})
