// One list of training-config keys: the core's (`TrainConfig::keys()`, read from its serde
// schema, the keys a model file stores). Every other place that names them is held to it here,
// so a key added in one place only fails this test: the generated index.d.ts, the TypeScript
// checks, the model-file reader, the experiment schema (zod) and its grid keys, and the flags of
// `alsrec train`. A place that deliberately leaves a key out says so below, with the reason.
import test from 'ava'
import { Command } from 'commander'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { registerTrain } from '../dist/cli/commands/train.js'
import { LOAD_FLAGS, SPLIT_FLAGS } from '../dist/cli/shared/data-flags.js'
import { GRID_KEYS, MODEL_KINDS as EXPERIMENT_MODEL_KINDS, resolveConfig } from '../dist/experiment/config.js'
import { native } from '../dist/native.js'
import { CONFIG_KEYS as READER_KEYS, MODEL_KINDS as READER_MODEL_KINDS, RANKER_KEYS as READER_RANKER_KEYS, SOLVERS as READER_SOLVERS } from '../dist/reader/config.js'
import { MODEL_KINDS, RANKER_CONFIG_CHECKS, SOLVERS, TRAIN_CONFIG_CHECKS } from '../dist/train.js'
import { root } from './helpers.js'

const core = native.trainConfigSchema()

/** Where the experiment's model section and the core differ only in name. */
const EXPERIMENT_NAMES: Record<string, string> = { kind: 'model' }

/** Keys of TrainConfig a grid does not vary, and why. */
const NOT_GRIDDED: Record<string, string> = {
  threads: 'how to run, not what to train',
  ranker: 'an object, given once for the explicit models of a grid',
  recencyHalfLife: "'popular' only, given once",
  burnIn: "'bayesian' only, given once (it must stay below each point's epochs)",
}

/** Keys of TrainConfig `alsrec train` takes from a config file only, and why. */
const NOT_FLAGS: Record<string, string> = {
  initScale: 'rarely changed; config file',
  weightedRegularization: 'config file',
  solver: 'implicit model detail; config file',
  cgSteps: 'implicit model detail; config file',
  ranker: 'an object; config file',
  genrePriors: "'bayesian' detail; config file",
}

/** Flags of `alsrec train` that are not training-config keys. */
// The split and loader flags are held to the API's split and load options in split-parity.spec.ts.
const CLI_ONLY_FLAGS = ['data', ...Object.values(SPLIT_FLAGS), ...Object.values(LOAD_FLAGS), 'out', 'plots', 'save', 'force', 'json', 'engine', 'master', 'sparkSubmit', 'python']

/** The field names of an interface, or the members of a string union, in index.d.ts. */
function generated(): { fields: (name: string) => string[]; union: (name: string) => string[] } {
  const dts = readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  return {
    fields: (name) => {
      const body = new RegExp(`export interface ${name} \\{\\n([\\s\\S]*?)\\n\\}`).exec(dts)?.[1] ?? ''
      const withoutDocs = body.replace(/\/\*\*[\s\S]*?\*\//g, '')
      return [...withoutDocs.matchAll(/^\s*(\w+)\??:/gm)].map((m) => m[1] ?? '')
    },
    union: (name) => {
      const body = new RegExp(`export type ${name} = (.*)`).exec(dts)?.[1] ?? ''
      return [...body.matchAll(/'([^']*)'/g)].map((m) => m[1] ?? '')
    },
  }
}

/** The keys the experiment schema allows at `at` ('model' or 'model.ranker'), read from its unknown-key message. */
function experimentKeys(at: 'model' | 'model.ranker'): string[] {
  const probe = 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'
  const model = at === 'model' ? { [probe]: 1 } : { ranker: { [probe]: 1 } }
  try {
    resolveConfig({ data: { movielens: 'x' }, model, output: { dir: 'x' } })
  } catch (err) {
    const listed = new RegExp(`${at.replace('.', '\\.')}\\.${probe}: unknown key \\(allowed: ([^)]*)\\)`).exec((err as Error).message)?.[1]
    if (listed) return listed.split(', ')
    throw err
  }
  throw new Error(`the experiment schema took an unknown key in ${at}`)
}

function trainFlags(): string[] {
  const program = new Command()
  registerTrain(program)
  const command = program.commands.find((c) => c.name() === 'train')
  if (!command) throw new Error('no train command')
  return command.options.map((o) => o.attributeName())
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort()

test('the core lists its keys and enum values', (t) => {
  t.is(core.keys[0], 'model')
  t.true(core.keys.includes('cgSteps') && core.keys.includes('recencyHalfLife'))
  t.is(new Set(core.keys).size, core.keys.length)
  t.deepEqual(core.modelKinds, ['bias', 'biased', 'genre', 'implicit', 'popular', 'toprated', 'bayesian'])
  t.deepEqual(core.hyperpriors, ['wishart', 'gamma'])
  t.deepEqual(core.solvers, ['cg', 'cholesky'])
})

test('the generated types and the TypeScript checks have exactly the core keys, in order', (t) => {
  const dts = generated()
  t.deepEqual(dts.fields('TrainConfig'), core.keys, 'index.d.ts TrainConfig')
  t.deepEqual(dts.fields('RankerConfig'), core.rankerKeys, 'index.d.ts RankerConfig')
  t.deepEqual(Object.keys(TRAIN_CONFIG_CHECKS), core.keys, 'src/train.ts TRAIN_CONFIG_CHECKS')
  t.deepEqual(Object.keys(RANKER_CONFIG_CHECKS), core.rankerKeys, 'src/train.ts RANKER_CONFIG_CHECKS')
  t.deepEqual(dts.union('ModelKind'), core.modelKinds, 'index.d.ts ModelKind')
  t.deepEqual(dts.union('ImplicitSolver'), core.solvers, 'index.d.ts ImplicitSolver')
  t.deepEqual(MODEL_KINDS, core.modelKinds, 'src/train.ts MODEL_KINDS')
  t.deepEqual(SOLVERS, core.solvers, 'src/train.ts SOLVERS')
})

test('the model-file reader reads exactly the core keys and enum values', (t) => {
  t.deepEqual([...READER_KEYS], core.keys, 'src/reader/config.ts CONFIG_KEYS')
  t.deepEqual([...READER_RANKER_KEYS], core.rankerKeys, 'src/reader/config.ts RANKER_KEYS')
  t.deepEqual([...READER_MODEL_KINDS], core.modelKinds, 'src/reader/config.ts MODEL_KINDS')
  t.deepEqual([...READER_SOLVERS], core.solvers, 'src/reader/config.ts SOLVERS')
})

test('the experiment schema takes every training key, by the same names but `kind`', (t) => {
  const model = experimentKeys('model').map((k) => EXPERIMENT_NAMES[k] ?? k)
  t.deepEqual(sorted(model), sorted(core.keys), 'src/experiment/config.ts modelShape')
  t.deepEqual(sorted(experimentKeys('model.ranker')), sorted(core.rankerKeys), 'src/experiment/config.ts rankerShape')
  t.deepEqual([...EXPERIMENT_MODEL_KINDS], core.modelKinds, 'src/experiment/config.ts MODEL_KINDS')
})

test('the grid varies every training key but the ones it says it does not', (t) => {
  const grid = GRID_KEYS.map((k: string) => EXPERIMENT_NAMES[k] ?? k)
  for (const key of Object.keys(NOT_GRIDDED)) t.true(core.keys.includes(key), `NOT_GRIDDED names ${key}, which is no longer a training key`)
  t.deepEqual(sorted(grid), sorted(core.keys.filter((k) => !(k in NOT_GRIDDED))), 'src/experiment/config.ts GRID_KEYS')
  // Grid keys are model keys of the experiment schema too.
  const model = experimentKeys('model')
  t.true(GRID_KEYS.every((k: string) => model.includes(k)))
})

test('alsrec train has a flag for every training key but the ones it leaves to the config file', (t) => {
  const flags = trainFlags()
  for (const key of Object.keys(NOT_FLAGS)) t.true(core.keys.includes(key), `NOT_FLAGS names ${key}, which is no longer a training key`)
  const configFlags = flags.filter((f) => !CLI_ONLY_FLAGS.includes(f))
  t.deepEqual(sorted(configFlags), sorted(core.keys.filter((k) => !(k in NOT_FLAGS))), 'src/cli/commands/train.ts flags')
  for (const f of CLI_ONLY_FLAGS) t.true(flags.includes(f), `CLI_ONLY_FLAGS names --${f}, which alsrec train no longer has`)
  // --model offers exactly the model kinds.
  const program = new Command()
  registerTrain(program)
  const choices = program.commands.find((c) => c.name() === 'train')?.options.find((o) => o.attributeName() === 'model')?.argChoices
  t.deepEqual(choices, core.modelKinds)
})
