// Fetches an official MovieLens zip, checks its published MD5 and unpacks it into a cache folder.
// The download goes to `<name>.zip.part` (resumed with an HTTP Range request after an
// interruption), becomes `<name>.zip` once complete, and is unpacked into a temporary folder that
// is renamed into place: `<cache>/<name>` exists only when it is complete and verified.
//
// The mirror is not trusted: every body is capped (the zip at its published size plus a margin,
// the checksum file at a few hundred bytes, the unpacked content at what the set needs), a
// transfer that stops sending or drags on past a deadline fails, and nothing in the cache is
// written or read through a symbolic link.
import { createHash } from 'node:crypto'
import { close as closeFd, constants as fsConstants, open as openFd } from 'node:fs'
import { lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'

import yauzl from 'yauzl'

import { abortError, AlsrecError, invalidArgument } from './errors.js'

/** The MovieLens sets GroupLens publishes as `<name>.zip` with `<name>.zip.md5`. */
export const MOVIELENS_DATASETS = ['ml-latest-small', 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m', 'ml-32m'] as const
export type MovieLensName = (typeof MOVIELENS_DATASETS)[number]

export const DEFAULT_DOWNLOAD_BASE = 'https://files.grouplens.org/datasets/movielens'

interface Published {
  /** Size of `<name>.zip` as GroupLens serves it, in bytes. */
  zipBytes: number
  /** About what the zip unpacks to (an estimate, rounded up). */
  unpackedBytes: number
  /** Files and folders in the zip. */
  entries: number
}

/** What the official zips hold; the default caps are derived from it. */
const PUBLISHED: Record<MovieLensName, Published> = {
  'ml-latest-small': { zipBytes: 978_202, unpackedBytes: 3_400_000, entries: 6 },
  'ml-100k': { zipBytes: 4_924_029, unpackedBytes: 16_500_000, entries: 24 },
  'ml-1m': { zipBytes: 5_917_549, unpackedBytes: 25_000_000, entries: 5 },
  'ml-10m': { zipBytes: 65_566_137, unpackedBytes: 270_000_000, entries: 7 },
  'ml-20m': { zipBytes: 198_702_078, unpackedBytes: 876_000_000, entries: 8 },
  'ml-25m': { zipBytes: 261_978_986, unpackedBytes: 1_157_000_000, entries: 8 },
  'ml-32m': { zipBytes: 238_950_008, unpackedBytes: 1_000_000_000, entries: 7 },
}

const MIB = 1024 * 1024
/** A mirror may serve a repacked zip: allow 10% and 1 MiB more than the official one. */
const zipCap = (bytes: number): number => Math.ceil(bytes * 1.1) + MIB
/** The unpacked sizes above are estimates: allow half as much again, and 16 MiB. */
const unpackedCap = (bytes: number): number => Math.ceil(bytes * 1.5) + 16 * MIB
const entriesCap = (entries: number): number => entries * 2 + 32
/** A checksum file is one line ("MD5 (x.zip) = <hex>"); anything longer is not one. */
const MAX_MD5_BYTES = 512
const DEFAULT_STALL_TIMEOUT_MS = 60_000
/** The default overall deadline: 10 minutes, plus the published size at a slow 32 KiB/s. */
const defaultTimeoutMs = (zipBytes: number): number => 10 * 60_000 + Math.ceil(zipBytes / 32_768) * 1000

/** Caps and timeouts of one download; the defaults are `datasetLimits(name)`, Infinity lifts one. */
export interface DownloadLimits {
  /** Most bytes accepted for `<name>.zip`. */
  maxZipBytes: number
  /** Most bytes the zip may unpack to. */
  maxUnpackedBytes: number
  /** Most entries (files and folders) the zip may hold. */
  maxEntries: number
  /** A transfer that receives nothing for this long fails, ms. */
  stallTimeoutMs: number
  /** The whole transfer (checksum, zip, retries) fails when it takes longer than this, ms. */
  timeoutMs: number
}

/** The caps and timeouts used for `name` unless the options say otherwise. */
export function datasetLimits(name: MovieLensName): DownloadLimits {
  const p = PUBLISHED[name]
  return {
    maxZipBytes: zipCap(p.zipBytes),
    maxUnpackedBytes: unpackedCap(p.unpackedBytes),
    maxEntries: entriesCap(p.entries),
    stallTimeoutMs: DEFAULT_STALL_TIMEOUT_MS,
    timeoutMs: defaultTimeoutMs(p.zipBytes),
  }
}

/** Written into an unpacked folder; its presence means "complete and verified". */
const MARKER = '.alsrec-download.json'
/** Attempts per download when the connection drops mid-transfer (each resumes where it stopped). */
const MAX_ATTEMPTS = 4
/** O_NOFOLLOW makes open() fail on a symbolic link; Windows has no such flag (and no such links by default). */
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0

export interface DownloadProgress {
  phase: 'download' | 'verify' | 'unpack'
  /** Bytes of the zip on disk so far (download), hashed (verify) or entries written (unpack). */
  done: number
  /** The total, when known. */
  total: number | null
  /** Transfer rate of this run, bytes per second (download phase). */
  bytesPerSecond: number
}

export interface DownloadOptions extends Partial<DownloadLimits> {
  /** Where datasets are kept: default `$XDG_CACHE_HOME/alsrec`, else `~/.cache/alsrec`. */
  cacheDir?: string
  /** Default `$ALSREC_DOWNLOAD_BASE`, else the GroupLens address. */
  baseUrl?: string
  signal?: AbortSignal
  onProgress?: (progress: DownloadProgress) => void
  /** Fetch again even when a verified copy is present. */
  force?: boolean
}

export interface DownloadResult {
  name: MovieLensName
  /** The unpacked folder, ready for `loadMovieLens`. */
  dir: string
  /** True when the folder was already there and nothing was fetched. */
  cached: boolean
  md5: string
  /** Size of the zip. */
  bytes: number
  url: string
}

interface Marker {
  name: string
  url: string
  md5: string
  bytes: number
  unpackedAt: string
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache'), 'alsrec')
}

export function isMovieLensName(name: string): name is MovieLensName {
  return (MOVIELENS_DATASETS as readonly string[]).includes(name)
}

/** Downloads (or finds in the cache) a MovieLens set and returns its unpacked folder. */
export async function download(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (!isMovieLensName(name)) {
    throw invalidArgument(`unknown dataset '${name}': choose one of ${MOVIELENS_DATASETS.join(', ')}`)
  }
  const limits = resolveLimits(name, options)
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir())
  const base = (options.baseUrl ?? process.env.ALSREC_DOWNLOAD_BASE ?? DEFAULT_DOWNLOAD_BASE).replace(/\/+$/, '')
  const url = `${base}/${name}.zip`
  const dir = path.join(cacheDir, name)
  const zipPath = path.join(cacheDir, `${name}.zip`)
  const partPath = `${zipPath}.part`

  await removeStaleUnpacking(cacheDir, name)
  // rm removes a link itself, never what it points to.
  if (options.force) await rm(dir, { recursive: true, force: true })
  const entry = await inspect(dir)
  if (entry.kind === 'link') throw linkError(dir, 'pass --force to replace it')
  const cached = entry.kind === 'dir' ? await readMarker(dir) : null
  if (cached) return { name, dir, cached: true, md5: cached.md5, bytes: cached.bytes, url: cached.url }
  if (entry.kind !== 'missing') {
    throw new AlsrecError('ALSREC_IO', `${dir} exists but was not unpacked by alsrec download; remove it or pass --force`)
  }

  await mkdir(cacheDir, { recursive: true })
  const watchdog = new Watchdog(options.signal, limits.stallTimeoutMs, limits.timeoutMs)
  let expected: string
  try {
    expected = await fetchMd5(`${url}.md5`, watchdog)
    let zip = await inspect(zipPath)
    if (zip.kind === 'link') throw linkError(zipPath)
    if (zip.kind === 'file' && zip.size > limits.maxZipBytes) {
      await rm(zipPath, { force: true })
      zip = { kind: 'missing', size: 0 }
    }
    if (zip.kind !== 'file') {
      await fetchResumable(url, partPath, limits.maxZipBytes, watchdog, options.onProgress)
      await rename(partPath, zipPath)
    }
  } catch (err) {
    // Fetch rejects with the signal's reason, which need not be an Error: report one.
    if (options.signal?.aborted) throw abortError()
    throw watchdog.failure ?? err
  } finally {
    watchdog.dispose()
  }

  const zipFile = await open(zipPath, fsConstants.O_RDONLY | O_NOFOLLOW).catch((err: unknown) => {
    throw isLinkError(err) ? linkError(zipPath) : err
  })
  let bytes: number
  let actual: string
  try {
    bytes = (await zipFile.stat()).size
    actual = await md5File(zipFile, bytes, options.onProgress)
  } finally {
    await zipFile.close()
  }
  if (actual !== expected) {
    await rm(zipPath, { force: true })
    throw new AlsrecError(
      'ALSREC_INVALID_DATA',
      `${name}.zip is corrupted: MD5 expected ${expected}, got ${actual}; deleted ${zipPath}, run again to fetch it anew`,
    )
  }
  try {
    await unpackAtomically(zipPath, dir, { name, url, md5: actual, bytes, unpackedAt: new Date().toISOString() }, limits, options)
  } catch (err) {
    // A zip that cannot be unpacked safely would fail the same way next time: do not keep it.
    if (err instanceof AlsrecError && err.code === 'ALSREC_INVALID_DATA') {
      await rm(zipPath, { force: true })
      throw new AlsrecError(err.code, `${err.message}; deleted ${zipPath}`, { cause: err })
    }
    throw err
  }
  // The unpacked folder is what we keep; the zip would only double the disk use.
  await rm(zipPath, { force: true })
  return { name, dir, cached: false, md5: actual, bytes, url }
}

function resolveLimits(name: MovieLensName, options: DownloadOptions): DownloadLimits {
  const limits = datasetLimits(name)
  for (const key of Object.keys(limits) as Array<keyof DownloadLimits>) {
    const value = options[key]
    if (value === undefined) continue
    // Infinity switches a cap or timeout off; zero, negative and NaN are mistakes.
    if (typeof value !== 'number' || !(value > 0)) throw invalidArgument(`${key} must be a positive number, got ${String(value)}`)
    limits[key] = value
  }
  return limits
}

type Kind = 'missing' | 'file' | 'dir' | 'link' | 'other'

/** What is at `p`, without following a link there. */
async function inspect(p: string): Promise<{ kind: Kind; size: number }> {
  try {
    const s = await lstat(p)
    const kind: Kind = s.isSymbolicLink() ? 'link' : s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other'
    return { kind, size: s.size }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', size: 0 }
    throw err
  }
}

function linkError(p: string, hint = 'remove it and run again'): AlsrecError {
  return new AlsrecError('ALSREC_IO', `${p} is a symbolic link; alsrec does not follow links in its cache: ${hint}`)
}

/** ELOOP is what open(O_NOFOLLOW) reports for a link (EMLINK on FreeBSD). */
function isLinkError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ELOOP' || code === 'EMLINK'
}

async function readMarker(dir: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), { encoding: 'utf8', flag: fsConstants.O_RDONLY | O_NOFOLLOW })) as Marker
  } catch {
    return null
  }
}

/**
 * Removes the temporary folders of unpacks that were killed before they could clean up. The
 * folder name carries the unpacking process id, so a concurrent unpack by a live process is left
 * alone.
 */
async function removeStaleUnpacking(cacheDir: string, name: string): Promise<void> {
  const entries = await readdir(cacheDir).catch(() => [] as string[])
  const prefix = `.${name}.unpacking-`
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue
    const pid = /^(\d+)-/.exec(entry.slice(prefix.length))?.[1]
    if (pid !== undefined && isRunning(Number(pid))) continue
    await rm(path.join(cacheDir, entry), { recursive: true, force: true })
  }
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(3))} s`

/**
 * One abort signal for a whole transfer that fires when the caller aborts, when no byte has
 * arrived for `stallMs` while a request is open, or when the transfer outlasts `deadlineMs`.
 * `failure` then holds the error to report in place of whatever the aborted fetch threw.
 */
class Watchdog {
  private readonly controller = new AbortController()
  readonly signal = this.controller.signal
  failure: AlsrecError | null = null
  private url = ''
  private stallTimer: NodeJS.Timeout | undefined
  private readonly deadlineTimer: NodeJS.Timeout | undefined
  private readonly onCallerAbort: () => void

  constructor(
    private readonly caller: AbortSignal | undefined,
    private readonly stallMs: number,
    deadlineMs: number,
  ) {
    this.onCallerAbort = () => this.controller.abort(caller?.reason)
    if (caller?.aborted) this.onCallerAbort()
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true })
    if (Number.isFinite(deadlineMs)) {
      this.deadlineTimer = setTimeout(
        () => this.fail(new AlsrecError('ALSREC_IO', `download of ${this.url} timed out: the transfer took longer than ${seconds(deadlineMs)} in all; run again to resume`)),
        clampDelay(deadlineMs),
      )
    }
  }

  /** Data (or a response) arrived from `url`: restart the stall clock. */
  alive(url: string): void {
    this.url = url
    clearTimeout(this.stallTimer)
    if (!Number.isFinite(this.stallMs)) return
    this.stallTimer = setTimeout(
      () => this.fail(new AlsrecError('ALSREC_IO', `download of ${url} stalled: no data for ${seconds(this.stallMs)}; run again to resume`)),
      clampDelay(this.stallMs),
    )
  }

  /** No request is open (a pause between attempts): silence is expected. */
  idle(): void {
    clearTimeout(this.stallTimer)
    this.stallTimer = undefined
  }

  private fail(err: AlsrecError): void {
    if (this.signal.aborted) return
    this.failure = err
    this.controller.abort(err)
  }

  dispose(): void {
    this.idle()
    clearTimeout(this.deadlineTimer)
    this.caller?.removeEventListener('abort', this.onCallerAbort)
  }
}

/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days). */
const clampDelay = (ms: number): number => Math.min(ms, 2 ** 31 - 1)

function httpError(url: string, res: Response): AlsrecError {
  const code = res.status === 404 ? 'ALSREC_NOT_FOUND' : 'ALSREC_IO'
  return new AlsrecError(code, `download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd())
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {})
}

async function get(url: string, watchdog: Watchdog, headers: Record<string, string> = {}): Promise<Response> {
  watchdog.alive(url)
  try {
    const res = await fetch(url, { headers, signal: watchdog.signal, redirect: 'follow' })
    watchdog.alive(url)
    return res
  } catch (err) {
    if (watchdog.signal.aborted) throw err
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
    throw new AlsrecError('ALSREC_IO', `cannot reach ${url}${cause}`, { cause: err })
  }
}

/** The published checksum: "MD5 (x.zip) = <hex>" or "<hex>  x.zip". */
async function fetchMd5(url: string, watchdog: Watchdog): Promise<string> {
  const res = await get(url, watchdog)
  if (!res.ok || !res.body) {
    await discard(res)
    throw httpError(url, res)
  }
  const tooLong = (): AlsrecError => new AlsrecError('ALSREC_INVALID_DATA', `${url} holds no MD5 checksum: it is longer than ${MAX_MD5_BYTES} bytes`)
  if (Number(res.headers.get('content-length')) > MAX_MD5_BYTES) {
    await discard(res)
    throw tooLong()
  }
  const reader = (res.body as WebReadableStream<Uint8Array>).getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    watchdog.alive(url)
    size += value.byteLength
    if (size > MAX_MD5_BYTES) {
      await reader.cancel().catch(() => {})
      throw tooLong()
    }
    chunks.push(value)
  }
  watchdog.idle()
  const text = Buffer.concat(chunks).toString('utf8')
  const match = /\b([0-9a-f]{32})\b/i.exec(text)
  if (!match?.[1]) throw new AlsrecError('ALSREC_INVALID_DATA', `${url} holds no MD5 checksum (got "${text.slice(0, 80).trim()}")`)
  return match[1].toLowerCase()
}

/**
 * Downloads into `partPath`, continuing an existing part with a Range request. A server that
 * answers 200 instead of 206 gets a clean restart; a dropped connection is retried from where it
 * stopped. More than `maxBytes` in all (announced or received) deletes the part and fails.
 */
async function fetchResumable(url: string, partPath: string, maxBytes: number, watchdog: Watchdog, onProgress: DownloadOptions['onProgress']): Promise<void> {
  const started = performance.now()
  let fetchedThisRun = 0
  const tooBig = async (what: string): Promise<AlsrecError> => {
    await rm(partPath, { force: true })
    return new AlsrecError('ALSREC_INVALID_DATA', `download of ${url} refused: ${what}, more than the ${maxBytes} bytes expected; deleted the partial file`)
  }
  for (let attempt = 1; ; attempt++) {
    const part = await inspect(partPath)
    if (part.kind === 'link') throw linkError(partPath)
    if (part.kind === 'other' || part.kind === 'dir') throw new AlsrecError('ALSREC_IO', `${partPath} is not a regular file; remove it and run again`)
    if (part.size > maxBytes) await rm(partPath, { force: true })
    const have = part.size > maxBytes ? 0 : part.size
    const res = await get(url, watchdog, have > 0 ? { Range: `bytes=${have}-` } : {})
    if (res.status === 416) {
      await discard(res)
      // "bytes */N" with N = what we have: the part is complete (an earlier run stopped just
      // before renaming it). Anything else: the part does not fit the file, so start over.
      if (/^bytes \*\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] === String(have)) return
      await rm(partPath, { force: true })
      if (attempt >= MAX_ATTEMPTS) throw httpError(url, res)
      continue
    }
    if (!res.ok || !res.body) {
      await discard(res)
      throw httpError(url, res)
    }
    const resumed = res.status === 206 && contentRangeStart(res) === have
    if (res.status === 206 && !resumed) {
      await discard(res)
      throw new AlsrecError('ALSREC_IO', `download of ${url} failed: the server answered a range other than bytes=${have}-`)
    }
    const offset = resumed ? have : 0
    const length = Number(res.headers.get('content-length'))
    const total = Number.isFinite(length) && length > 0 ? offset + length : null
    if (total !== null && total > maxBytes) {
      await discard(res)
      throw await tooBig(`the server announces ${total} bytes`)
    }
    let done = offset
    const report = (): void =>
      onProgress?.({ phase: 'download', done, total, bytesPerSecond: fetchedThisRun / Math.max((performance.now() - started) / 1000, 1e-3) })
    report()
    // O_NOFOLLOW: a link planted at the part path since the check above is refused, not written through.
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | O_NOFOLLOW | (resumed ? fsConstants.O_APPEND : fsConstants.O_TRUNC)
    const out = await open(partPath, flags, 0o644).catch(async (err: unknown) => {
      await discard(res)
      throw isLinkError(err) ? linkError(partPath) : err
    })
    let overflow = false
    try {
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            watchdog.alive(url)
            if (done + chunk.byteLength > maxBytes) {
              overflow = true
              throw new Error('too big')
            }
            done += chunk.byteLength
            fetchedThisRun += chunk.byteLength
            report()
            yield chunk
          }
        },
        out.createWriteStream(),
      )
    } catch (err) {
      watchdog.idle()
      if (overflow) throw await tooBig(`the server sent more than ${maxBytes} bytes`)
      // Stopped by the caller or the watchdog: keep what arrived for the next run.
      if (watchdog.signal.aborted) {
        if (done === 0) await rm(partPath, { force: true })
        throw err
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new AlsrecError('ALSREC_IO', `download of ${url} broke off after ${done} bytes (${attempt} attempts); run again to resume`, { cause: err })
      }
      // A short, growing pause lets a flaky link or a busy server recover.
      await sleep(250 * attempt, undefined, { signal: watchdog.signal })
      continue
    }
    watchdog.idle()
    if (total !== null && done !== total) {
      if (attempt >= MAX_ATTEMPTS) throw new AlsrecError('ALSREC_IO', `download of ${url} ended at ${done} of ${total} bytes; run again to resume`)
      continue
    }
    return
  }
}

function contentRangeStart(res: Response): number | null {
  const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')
  return m?.[1] !== undefined ? Number(m[1]) : null
}

async function md5File(file: FileHandle, total: number, onProgress: DownloadOptions['onProgress']): Promise<string> {
  const hash = createHash('md5')
  let done = 0
  for await (const chunk of file.createReadStream({ autoClose: false, start: 0 }) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    done += chunk.length
    onProgress?.({ phase: 'verify', done, total, bytesPerSecond: 0 })
  }
  return hash.digest('hex')
}

/**
 * Unpacks into a temporary sibling folder and renames it to `dir`. MovieLens zips hold one top
 * folder (ml-10m's is "ml-10M100K"); its content becomes `dir`. The temporary folder's name
 * carries our process id so that a later run can tell a killed unpack's leftover from a live one.
 */
async function unpackAtomically(zipPath: string, dir: string, marker: Marker, limits: DownloadLimits, options: DownloadOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(path.dirname(dir), `.${path.basename(dir)}.unpacking-${process.pid}-`))
  try {
    await extractZip(zipPath, tmp, limits, options)
    const entries = await readdir(tmp, { withFileTypes: true })
    const only = entries.length === 1 ? entries[0] : undefined
    const root = only?.isDirectory() ? path.join(tmp, only.name) : tmp
    await writeFile(path.join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`)
    await rename(root, dir)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000

function invalidZip(zipPath: string, why: string): AlsrecError {
  return new AlsrecError('ALSREC_INVALID_DATA', `cannot unpack ${zipPath}: ${why}`)
}

async function extractZip(zipPath: string, dest: string, limits: DownloadLimits, options: DownloadOptions): Promise<void> {
  // A plain descriptor, not a FileHandle: yauzl closes it itself (autoClose).
  const fd = await new Promise<number>((resolve, reject) =>
    openFd(zipPath, fsConstants.O_RDONLY | O_NOFOLLOW, (err, fd) => (err ? reject(isLinkError(err) ? linkError(zipPath) : err) : resolve(fd))),
  )
  const signal = options.signal
  return new Promise((resolve, reject) => {
    // yauzl refuses entry names with "..", absolute paths and backslashes, and checks that every
    // entry inflates to exactly its declared size.
    yauzl.fromFd(fd, { lazyEntries: true, autoClose: true }, (openErr, zip) => {
      if (openErr) {
        closeFd(fd, () => {})
        return reject(invalidZip(zipPath, `not a valid zip (${openErr.message})`))
      }
      const total = zip.entryCount
      let done = 0
      let declared = 0
      let written = 0
      let failed = false
      const fail = (err: unknown): void => {
        if (failed) return
        failed = true
        zip.close()
        reject(err instanceof AlsrecError || (err instanceof Error && err.name === 'AbortError') ? err : invalidZip(zipPath, err instanceof Error ? err.message : String(err)))
      }
      if (total > limits.maxEntries) {
        return fail(invalidZip(zipPath, `it holds ${total} entries, more than the ${limits.maxEntries} expected`))
      }
      const tooBig = (): AlsrecError => invalidZip(zipPath, `it unpacks to more than the ${limits.maxUnpackedBytes} bytes expected`)
      zip.on('error', fail)
      zip.on('end', () => {
        if (!failed) resolve()
      })
      zip.on('entry', (entry: yauzl.Entry) => {
        if (signal?.aborted) return fail(abortError())
        // The high 16 bits hold the file type and mode when the zip was made on Unix or macOS.
        const host = entry.versionMadeBy >> 8
        const type = host === 3 || host === 19 ? (entry.externalFileAttributes >>> 16) & S_IFMT : 0
        if (type === S_IFLNK) return fail(invalidZip(zipPath, `entry ${entry.fileName} is a symbolic link`))
        if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) return fail(invalidZip(zipPath, `entry ${entry.fileName} is not a file or a folder`))
        // Refuse on the declared size before writing a byte (yauzl holds each entry to it);
        // the bytes written are counted too.
        declared += entry.uncompressedSize
        if (declared > limits.maxUnpackedBytes) return fail(tooBig())
        const target = path.join(dest, entry.fileName)
        const next = (): void => {
          done++
          options.onProgress?.({ phase: 'unpack', done, total, bytesPerSecond: 0 })
          zip.readEntry()
        }
        if (entry.fileName.endsWith('/')) {
          mkdir(target, { recursive: true }).then(next, fail)
          return
        }
        zip.openReadStream(entry, (streamErr, stream) => {
          if (streamErr) return fail(streamErr)
          const counter = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              written += chunk.length
              callback(written > limits.maxUnpackedBytes ? tooBig() : null, chunk)
            },
          })
          // O_EXCL | O_NOFOLLOW: never write into something that is already there.
          const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | O_NOFOLLOW
          mkdir(path.dirname(target), { recursive: true })
            .then(() => open(target, flags, 0o644))
            .then((out) => pipeline(stream, counter, out.createWriteStream(), signal ? { signal } : {}))
            .then(next, fail)
        })
      })
      zip.readEntry()
    })
  })
}
