// `engine: 'spark'` (docs/spark.md): the training set goes to Parquet, the bundled PySpark job
// (scripts/spark/alsrec_spark_train.py) fits the biases with Spark SQL and MLlib ALS on the
// residuals, and its ALSModel folder comes back as an alsrec model. Spark's output is streamed
// to spark.log; a failure is one line naming that file.
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import type { Dataset } from '../dataset.js'
import { abortError, AlsrecError, call, invalidArgument } from '../errors.js'
import { importSpark, writeParquet } from '../interop.js'
import type { Model } from '../model.js'
import { native } from '../native.js'
import { packageRoot } from '../paths.js'
import type { TrainConfig } from '../train.js'

/** Where and how Spark runs. */
export interface SparkEngineOptions {
  /** Spark master: local[2] (default), local[*], spark://host:7077, yarn, … */
  master?: string
  /** A spark-submit to run the job with; without it the job runs as `python job.py` with the pyspark package. */
  sparkSubmit?: string
  /** The Python with pyspark (default: $ALSREC_PYTHON, then build/spark-venv of the package, then python3). */
  python?: string
}

export const SPARK_JOB = path.join(packageRoot, 'scripts', 'spark', 'alsrec_spark_train.py')

/** The Python that runs the job when no spark-submit is given. */
export function sparkPython(explicit?: string): string {
  if (explicit !== undefined) return explicit
  const env = process.env.ALSREC_PYTHON
  if (env !== undefined && env !== '') return env
  const venv = path.join(packageRoot, 'build', 'spark-venv', 'bin', 'python')
  return existsSync(venv) ? venv : 'python3'
}

export interface SparkRunOptions extends SparkEngineOptions {
  /** The run folder: the Spark model goes to `<dir>/spark-model`, Spark's output to `<dir>/spark.log`. */
  dir: string
  testSet?: Dataset
  log?: (line: string) => void
  onPhase?: (phase: string, event: Record<string, unknown>) => void
  signal?: AbortSignal
}

export interface SparkRun {
  model: Model
  /** The Spark ALSModel folder (Spark loads it; alsrec imported it). */
  modelDir: string
  logFile: string
  regParam: number
  seconds: number
  secondsPerIteration: number | null
  notes: string[]
}

interface Sidecar {
  history: Array<Record<string, unknown>>
  spark?: { secondsPerIteration?: number }
}

/** Trains `config` on Spark and imports the result (the training ratings mark seen movies). */
export async function trainOnSpark(trainSet: Dataset, config: TrainConfig, options: SparkRunOptions): Promise<SparkRun> {
  const started = performance.now()
  const plan = call(() => native.sparkPlan(JSON.stringify(config), trainSet.handle))
  const modelDir = path.join(options.dir, 'spark-model')
  if (existsSync(modelDir)) rmSync(modelDir, { recursive: true, force: true })
  const logFile = path.join(options.dir, 'spark.log')
  const work = mkdtempSync(path.join(os.tmpdir(), 'alsrec-spark-'))
  try {
    const data = path.join(work, 'data')
    await writeParquet(trainSet, data)
    const configFile = path.join(work, 'config.json')
    writeFileSync(configFile, plan.configJson)
    const master = options.master ?? 'local[2]'
    const jobArgs = [SPARK_JOB, '--train', path.join(data, 'ratings.parquet'), '--out', modelDir, '--config', configFile, '--reg-param', String(plan.regParam), '--bias-damping', String(plan.biasDamping)]
    const [command, args] = options.sparkSubmit !== undefined ? [options.sparkSubmit, ['--master', master, ...jobArgs]] : [sparkPython(options.python), [...jobArgs, '--master', master]]
    options.log?.(`spark: ${command} ${args.map((a) => (/[\s[\]]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`)
    options.log?.(`spark: regParam ${plan.regParam.toPrecision(4)}, bias damping ${plan.biasDamping}; output in ${logFile}`)
    for (const note of plan.notes) options.log?.(`spark: ${note}`)
    await runJob(command, args, logFile, options)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  // Imported once to measure with alsrec's own metrics, which go into the sidecar's history so
  // the model (imported again) carries them like any other run.
  const sidecarPath = path.join(modelDir, 'alsrec.json')
  const first = await importSpark(modelDir, { ratings: trainSet })
  const train = call(() => native.ratingErrorsById(first.model.handle, trainSet.handle))
  const test = options.testSet === undefined ? undefined : call(() => native.ratingErrorsById(first.model.handle, options.testSet!.handle))
  const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Sidecar
  const last = sidecar.history[sidecar.history.length - 1] ?? {}
  if (first.model.kind !== 'implicit') {
    Object.assign(last, { trainRmse: train.rmse, trainMae: train.mae, ...(test ? { testRmse: test.rmse, testMae: test.mae } : {}) })
  }
  sidecar.history = [last]
  writeFileSync(sidecarPath, JSON.stringify(sidecar, null, 1))
  const { model } = await importSpark(modelDir, { ratings: trainSet })
  return {
    model,
    modelDir,
    logFile,
    regParam: plan.regParam,
    seconds: (performance.now() - started) / 1000,
    secondsPerIteration: sidecar.spark?.secondsPerIteration ?? null,
    notes: plan.notes,
  }
}

/** Runs the job with its output appended to `logFile`; progress lines go to `onPhase`. */
async function runJob(command: string, args: string[], logFile: string, options: SparkRunOptions): Promise<void> {
  if (options.signal?.aborted) throw abortError()
  const out = createWriteStream(logFile, { flags: 'w' })
  let lastError: string | undefined
  let spawnError: Error | undefined
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYSPARK_PYTHON: process.env.PYSPARK_PYTHON ?? (options.sparkSubmit === undefined ? command : 'python3') } })
  const onAbort = (): void => {
    child.kill('SIGTERM')
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  let pending = ''
  const lines = (chunk: Buffer): void => {
    out.write(chunk)
    pending += chunk.toString('utf8')
    const parts = pending.split('\n')
    pending = parts.pop() ?? ''
    for (const line of parts) {
      const m = /^alsrec-(progress|error) (\{.*\})\s*$/.exec(line)
      if (!m) continue
      try {
        const event = JSON.parse(m[2] ?? '{}') as Record<string, unknown>
        if (m[1] === 'error') lastError = String(event.message)
        else {
          const phase = String(event.phase)
          options.onPhase?.(phase, event)
          options.log?.(`spark: ${phase} ${JSON.stringify(event)}`)
        }
      } catch {
        // Not ours after all: it stays in the log.
      }
    }
  }
  child.stdout.on('data', lines)
  child.stderr.on('data', (chunk: Buffer) => out.write(chunk))
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      spawnError = err
      resolve(null)
    })
    child.on('close', (c) => resolve(c))
  })
  options.signal?.removeEventListener('abort', onAbort)
  await new Promise<void>((resolve) => out.end(resolve))
  if (options.signal?.aborted) throw abortError()
  if (spawnError !== undefined) {
    const missing = (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
    throw missing ? invalidArgument(`cannot run ${command}: not found (give --spark-submit, or a Python with pyspark via --python or ALSREC_PYTHON; scripts/spark/spark-venv.sh makes one)`) : new AlsrecError('ALSREC_IO', `cannot run ${command}: ${spawnError.message}`)
  }
  if (code !== 0) throw new AlsrecError('ALSREC_IO', `the Spark job failed (exit ${code ?? 'signal'})${lastError !== undefined ? `: ${lastError}` : ''}; see ${logFile}`)
}
