// The output folders of experiments and grids: which folders alsrec may write into, what it may
// replace there, and the files of one experiment folder (log, metrics as CSV + JSON, summary).
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'

import { AlsrecError, invalidArgument } from '../errors.js'
import type { RankingMetrics } from '../model.js'
import type { EpochRecord } from '../train.js'
import { removeStaleTemps, toCsv, writeFileAtomic, writeJsonAtomic } from './atomic.js'

// The rules of output folders (`alsrec train --out`, `alsrec grid --out`, output.dir):
//
// - An alsrec run folder is one holding the marker file MARKER_FILE. alsrec writes it into every
//   experiment and grid folder (and every run folder of a grid) before any other file, and lists
//   in it, before writing each one, every file and run folder it writes there. A folder without
//   the marker is the user's, even when it holds a config.json or a summary.md.
// - A folder that does not exist is created; an empty folder is used. A non-empty folder without
//   the marker is refused unless forced, so no user file is ever overwritten by surprise.
// - A folder that holds an alsrec run is refused unless forced. Forced, the new run first removes
//   the previous run's files (those the marker lists, and the fixed output names of its kind, as
//   `alsrec plot` redraws plots it does not list), then writes its own: the folder never mixes
//   files of two runs, e.g. a model.alsrec or plots from before a run with --no-save/--no-plots.
//   Run folders the marker lists are cleaned by the same rule and removed once empty.
// - Forced into a non-empty folder without the marker, alsrec writes its own file names there
//   (replacing the user's files of those names) and touches nothing else. It removes nothing, so
//   a run that saves no model refuses such a folder when it holds a model.alsrec: that model
//   would pass for this run's in `alsrec evaluate`.
// - Files that are not alsrec's are never removed or overwritten, forced or not; alsrec removes
//   only files it lists, its fixed output names in a marked folder, and the temp files of its
//   own killed writes.
// - The folder is checked before the data is loaded and made after, so a run that fails on its
//   config or data leaves no folder. A run that fails later, having written nothing, removes its
//   marker and the folders it created, and only those, when they are empty. A run that fails or
//   is aborted after writing keeps its config.json and log (which says why), marked unfinished.

/** The marker of an alsrec run folder: its kind, its status and the files alsrec wrote there. */
export const MARKER_FILE = 'alsrec-run.json'
export const MODEL_FILE = 'model.alsrec'

export type FolderKind = 'experiment' | 'grid'
export type RunStatus = 'running' | 'done' | 'failed' | 'aborted'

/** The fixed names alsrec writes into each kind of folder. */
export const OUTPUT_FILES: Record<FolderKind, readonly string[]> = {
  experiment: ['config.json', 'log.txt', 'metrics.csv', 'metrics.json', 'summary.md', MODEL_FILE, 'learning-curve.svg', 'learning-curve.png', 'movie-map.svg', 'movie-map.png'],
  grid: ['config.json', 'grid.log', 'results.csv', 'results.md', 'results.json', 'rmse-vs-k.svg', 'rmse-vs-k.png', 'learning-curves.svg', 'learning-curves.png', 'movie-map.svg', 'movie-map.png'],
}

export interface Marker {
  alsrec: FolderKind
  status: RunStatus
  /** Paths relative to the folder: files, and (in a grid) run folders. */
  files: string[]
  updated: string
}

const MARKER_NOTE = 'This folder is an alsrec run. A forced re-run (--force) into it removes the files listed here (and alsrec output names) before writing its own; other files stay.'

/** A path inside the folder (a hand-edited marker must not reach outside it). */
function isInside(rel: string): boolean {
  const n = path.normalize(rel)
  return n !== '.' && n !== '' && !path.isAbsolute(n) && n !== '..' && !n.startsWith(`..${path.sep}`)
}

/** The folder's marker, or null when it has none (or one alsrec did not write). */
export function readMarker(dir: string): Marker | null {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path.join(dir, MARKER_FILE), 'utf8'))
  } catch {
    return null
  }
  const m = value as Partial<Marker> | null
  if (!m || typeof m !== 'object' || (m.alsrec !== 'experiment' && m.alsrec !== 'grid')) return null
  if (!Array.isArray(m.files) || !m.files.every((f) => typeof f === 'string')) return null
  const status: RunStatus = m.status === 'done' || m.status === 'failed' || m.status === 'aborted' ? m.status : 'running'
  return { alsrec: m.alsrec, status, files: m.files.filter(isInside), updated: typeof m.updated === 'string' ? m.updated : '' }
}

export type FolderState = { state: 'absent' } | { state: 'empty' } | { state: 'run'; marker: Marker } | { state: 'foreign' }

function folderState(dir: string): FolderState {
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    return { state: 'absent' }
  }
  if (!isDir) throw invalidArgument(`output.dir: ${dir} is a file, not a folder`)
  const marker = readMarker(dir)
  if (marker) return { state: 'run', marker }
  return readdirSync(dir).length === 0 ? { state: 'empty' } : { state: 'foreign' }
}

export interface FolderOptions {
  kind: FolderKind
  /** Write into a folder that holds an alsrec run, or a non-empty folder (see the rules above). */
  force?: boolean | undefined
  /** Whether the run writes model.alsrec (experiment folders). */
  saveModel?: boolean | undefined
  /**
   * Continue an earlier run of this kind in the folder (`alsrec grid --resume`): its files stay,
   * and the new run adds to its marker. An absent or empty folder is simply used.
   */
  resume?: boolean | undefined
}

/**
 * Throws unless `dir` may take a run of this kind; writes nothing. Runs call this before loading
 * their data, so a refused folder costs no time.
 */
export function checkOutputFolder(dir: string, options: FolderOptions): FolderState {
  const s = folderState(dir)
  const what = options.kind === 'grid' ? 'grid' : 'run'
  if (s.state === 'run' && options.resume) {
    if (s.marker.alsrec !== options.kind) throw invalidArgument(`output.dir: ${dir} holds an alsrec ${s.marker.alsrec}, not a ${options.kind}; resume works on a ${options.kind} folder only`)
    return s
  }
  if (s.state === 'run' && !options.force) {
    const unfinished = s.marker.status === 'done' ? '' : ` (unfinished: ${s.marker.status})`
    throw invalidArgument(`output.dir: ${dir} already holds an experiment: an alsrec ${s.marker.alsrec}${unfinished} (${MARKER_FILE}); choose another folder, or pass force (--force) to replace that ${s.marker.alsrec}'s files (only files alsrec wrote there; other files stay)`)
  }
  if (s.state === 'foreign') {
    if (!options.force)
      throw invalidArgument(`output.dir: ${dir} is not empty and is not an alsrec run folder (no ${MARKER_FILE}); alsrec writes only into a new or empty folder or an earlier alsrec ${what}, so it overwrites none of your files. Choose another folder, or pass force (--force) to write alsrec's files (${OUTPUT_FILES[options.kind].join(', ')}) there, replacing files of those names and keeping all others`)
    if (options.kind === 'experiment' && options.saveModel === false && existsSync(path.join(dir, MODEL_FILE)))
      throw invalidArgument(`output.dir: ${path.join(dir, MODEL_FILE)} is not from an alsrec run in this folder (no ${MARKER_FILE}) and this run saves no model (--no-save), so \`alsrec evaluate\` would take it for this run's model; alsrec never deletes files it did not write: move it away, or let the run save its model`)
  }
  return s
}

/** Removes a marked folder's outputs: its listed files and run folders, and its kind's fixed names. */
function removeOutputs(dir: string, marker: Marker): void {
  const listed = new Set(marker.files)
  for (const name of new Set([...OUTPUT_FILES[marker.alsrec], ...marker.files])) {
    const full = path.join(dir, name)
    let isDir: boolean
    try {
      isDir = lstatSync(full).isDirectory()
    } catch {
      continue
    }
    if (!isDir) rmSync(full, { force: true })
    else if (listed.has(name)) removeRunFolder(dir, name)
  }
  for (const name of marker.files) removeStaleTemps(path.dirname(path.join(dir, name)), [path.basename(name)])
  removeStaleTemps(dir, [...OUTPUT_FILES[marker.alsrec], MARKER_FILE])
}

/** Cleans a run folder a grid listed, then removes it and its parents below `root` once empty. */
function removeRunFolder(root: string, rel: string): void {
  const dir = path.join(root, rel)
  const marker = readMarker(dir)
  if (marker) {
    removeOutputs(dir, marker)
    rmSync(path.join(dir, MARKER_FILE), { force: true })
  }
  removeStaleTemps(dir, [...OUTPUT_FILES.experiment, MARKER_FILE])
  removeEmptyDirs(dir, (d) => path.relative(root, d) !== '' && isInside(path.relative(root, d)))
}

/** rmdir `dir`, then its parents while `within` holds, stopping at the first non-empty one. */
function removeEmptyDirs(dir: string, within: (d: string) => boolean): void {
  for (let d = dir; within(d); d = path.dirname(d)) {
    try {
      rmdirSync(d)
    } catch {
      return
    }
  }
}

/**
 * An output folder being written: opened (checked, created or cleaned, marked) after the data
 * loaded, told each file before it is written, and finished or failed at the end.
 */
export class OutputFolder {
  private readonly files = new Set<string>()
  private status: RunStatus = 'running'

  private constructor(
    readonly dir: string,
    readonly kind: FolderKind,
    /** The topmost folder this run created, if it created any. */
    private readonly created: string | undefined,
  ) {}

  static open(dir: string, options: FolderOptions): OutputFolder {
    const s = checkOutputFolder(dir, options)
    let created: string | undefined
    if (s.state === 'absent') {
      try {
        created = mkdirSync(dir, { recursive: true })
      } catch (err) {
        throw new AlsrecError('ALSREC_IO', `output.dir: cannot create ${dir}: ${(err as Error).message}`, { cause: err })
      }
    }
    const resuming = s.state === 'run' && options.resume === true
    if (s.state === 'run' && !resuming) removeOutputs(dir, s.marker)
    removeStaleTemps(dir, [...OUTPUT_FILES[options.kind], MARKER_FILE])
    const folder = new OutputFolder(dir, options.kind, created)
    // Resumed: what the earlier run wrote stays listed, so a later --force still cleans it.
    if (resuming && s.state === 'run') for (const f of s.marker.files) folder.files.add(f)
    folder.writeMarker()
    return folder
  }

  /** Records files (paths relative to the folder) in the marker before they are written. */
  claim(...names: string[]): void {
    const fresh = names.filter((n) => !this.files.has(n))
    if (fresh.length === 0) return
    for (const n of fresh) this.files.add(n)
    this.writeMarker()
  }

  finish(status: 'done' | 'aborted' = 'done'): void {
    this.status = status
    this.writeMarker()
  }

  /**
   * After an error: marks the folder unfinished, or, when the run wrote none of its files,
   * removes the marker and the (empty) folders the run created. Never throws, so the caller
   * rethrows the error that matters.
   */
  fail(err: unknown): void {
    try {
      const wrote = [...this.files].some((f) => existsSync(path.join(this.dir, f)))
      if (wrote) {
        this.status = err instanceof Error && err.name === 'AbortError' ? 'aborted' : 'failed'
        this.writeMarker()
        return
      }
      rmSync(path.join(this.dir, MARKER_FILE), { force: true })
      removeStaleTemps(this.dir, [...OUTPUT_FILES[this.kind], MARKER_FILE])
      if (this.created === undefined) return
      const created = path.resolve(this.created)
      removeEmptyDirs(path.resolve(this.dir), (d) => d === created || d.startsWith(created + path.sep))
    } catch {
      // The folder stays as it is; the run's own error says what went wrong.
    }
  }

  private writeMarker(): void {
    const marker: Marker & { note: string } = { alsrec: this.kind, status: this.status, files: [...this.files], updated: new Date().toISOString(), note: MARKER_NOTE }
    writeJsonAtomic(path.join(this.dir, MARKER_FILE), marker)
  }
}

/** A log file rewritten atomically after each line, so it is complete up to any crash. */
export class RunLog {
  private lines: string[] = []
  /** `append`: keep what the file holds (a resumed grid's log goes on). */
  constructor(
    readonly file: string,
    append = false,
  ) {
    if (!append) return
    try {
      this.lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '')
    } catch {
      // No earlier log: start one.
    }
  }
  write(message: string): void {
    this.lines.push(`${new Date().toISOString()}  ${message}`)
    writeFileAtomic(this.file, `${this.lines.join('\n')}\n`)
  }
}

export interface FinalMetrics {
  epochs: number
  /** The epoch whose model was kept (the last, or the best one under `patience`). */
  keptEpoch: number
  trainRmse: number
  trainMae: number
  testRmse: number | null
  testMae: number | null
  seconds: number
}

export interface RunMetrics {
  model: string
  factors: number | null
  fold: number | null
  history: EpochRecord[]
  final: FinalMetrics
  ranking: RankingMetrics | null
  rankingNote?: string
}

/**
 * The figures of the epoch whose model was kept: `keptEpoch` is the model's (`model.keptEpoch`,
 * the core's rule: under `patience` the first epoch with the lowest test RMSE, else the last).
 */
export function finalMetrics(history: EpochRecord[], keptEpoch: number): FinalMetrics {
  const kept = history.find((h) => h.epoch === keptEpoch) ?? history.at(-1)
  return {
    epochs: history.length,
    keptEpoch: kept?.epoch ?? 0,
    trainRmse: kept?.trainRmse ?? Number.NaN,
    trainMae: kept?.trainMae ?? Number.NaN,
    testRmse: kept?.testRmse ?? null,
    testMae: kept?.testMae ?? null,
    seconds: history.reduce((s, h) => s + h.seconds, 0),
  }
}

/** Columns of metrics.csv: one row per epoch; `kept` is 1 on the epoch whose model was kept. */
export const EPOCH_COLUMNS = ['epoch', 'train_rmse', 'train_mae', 'test_rmse', 'test_mae', 'loss', 'seconds', 'kept'] as const

export function writeMetrics(dir: string, metrics: RunMetrics): void {
  const rows = metrics.history.map((h) => [h.epoch, h.trainRmse, h.trainMae, h.testRmse ?? '', h.testMae ?? '', h.loss, h.seconds, h.epoch === metrics.final.keptEpoch ? 1 : 0])
  writeFileAtomic(path.join(dir, 'metrics.csv'), toCsv([...EPOCH_COLUMNS], rows))
  writeJsonAtomic(path.join(dir, 'metrics.json'), metrics)
}

export function readMetrics(dir: string): RunMetrics {
  const file = path.join(dir, 'metrics.json')
  if (!existsSync(file)) throw new AlsrecError('ALSREC_NOT_FOUND', `${dir} is not an experiment folder (no metrics.json)`)
  return JSON.parse(readFileSync(file, 'utf8')) as RunMetrics
}

const f4 = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(4))

export interface SummaryInput {
  title: string
  dataDescription: string
  splitDescription: string
  trainConfig: Record<string, unknown>
  metrics: RunMetrics
  noiseFloorRmse: number | null
  files: string[]
  notes: string[]
}

export function writeSummary(dir: string, s: SummaryInput): void {
  const m = s.metrics.final
  const lines = [
    `# ${s.title}`,
    '',
    `- Data: ${s.dataDescription}; ${s.splitDescription}.`,
    `- Model: \`${JSON.stringify(s.trainConfig)}\``,
    `- Trained ${m.epochs} epochs in ${m.seconds.toFixed(2)} s; kept epoch ${m.keptEpoch}${m.keptEpoch !== m.epochs ? ` (the best test RMSE; training stopped ${m.epochs - m.keptEpoch} epoch(s) later, under patience)` : ' (the last)'}.`,
    `- Test RMSE **${f4(m.testRmse)}**, test MAE ${f4(m.testMae)} (train RMSE ${f4(m.trainRmse)}), of the kept epoch.`,
    ...(s.noiseFloorRmse !== null ? [`- Noise floor of this synthetic set (best reachable test RMSE): ${f4(s.noiseFloorRmse)}.`] : []),
  ]
  for (const note of s.notes) lines.push(`- Note: ${note}`)
  const r = s.metrics.ranking
  if (r)
    lines.push(
      '',
      `## Ranking metrics @${r.k}`,
      '',
      `Relevant: a test rating ≥ ${r.threshold}; over the ${r.users} test users the model knows that have one.`,
      '',
      `| precision@${r.k} | recall@${r.k} | NDCG@${r.k} | MAP@${r.k} | hit rate@${r.k} | coverage | novelty |`,
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| ${[r.precision, r.recall, r.ndcg, r.map, r.hitRate, r.coverage].map(f4).join(' | ')} | ${r.novelty.toFixed(1)} |`,
    )
  else if (s.metrics.rankingNote) lines.push('', `Ranking metrics: not computed (${s.metrics.rankingNote}).`)
  const h = s.metrics.history
  if (h.length > 0) {
    lines.push('', '## Epochs', '', '| epoch | train RMSE | test RMSE | test MAE | loss | seconds | |', '| --- | --- | --- | --- | --- | --- | --- |')
    for (const e of h) lines.push(`| ${e.epoch} | ${f4(e.trainRmse)} | ${f4(e.testRmse)} | ${f4(e.testMae)} | ${e.loss.toExponential(4)} | ${e.seconds.toFixed(3)} | ${e.epoch === m.keptEpoch ? '**kept**' : ''} |`)
  }
  lines.push('', `Files: ${s.files.map((f) => `\`${f}\``).join(', ')}.`)
  if (s.files.includes('learning-curve.png')) lines.push('', '![Learning curve](learning-curve.png)')
  if (s.files.includes('movie-map.png')) lines.push('', '![Movie map](movie-map.png)')
  writeFileAtomic(path.join(dir, 'summary.md'), `${lines.join('\n')}\n`)
}
