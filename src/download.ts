// Fetches an official MovieLens zip, checks its published MD5 and unpacks it into a cache folder.
// The download goes to `<name>.zip.part` (resumed with an HTTP Range request after an
// interruption), becomes `<name>.zip` once complete, and is unpacked into a temporary folder that
// is renamed into place: `<cache>/<name>` exists only when it is complete and verified.
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'

import yauzl from 'yauzl'

import { AlsrecError, invalidArgument } from './errors.js'

/** The MovieLens sets GroupLens publishes as `<name>.zip` with `<name>.zip.md5`. */
export const MOVIELENS_DATASETS = ['ml-latest-small', 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m', 'ml-32m'] as const
export type MovieLensName = (typeof MOVIELENS_DATASETS)[number]

export const DEFAULT_DOWNLOAD_BASE = 'https://files.grouplens.org/datasets/movielens'

/** Written into an unpacked folder; its presence means "complete and verified". */
const MARKER = '.alsrec-download.json'
/** Attempts per download when the connection drops mid-transfer (each resumes where it stopped). */
const MAX_ATTEMPTS = 4

export interface DownloadProgress {
  phase: 'download' | 'verify' | 'unpack'
  /** Bytes of the zip on disk so far (download), hashed (verify) or entries written (unpack). */
  done: number
  /** The total, when known. */
  total: number | null
  /** Transfer rate of this run, bytes per second (download phase). */
  bytesPerSecond: number
}

export interface DownloadOptions {
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
  const cacheDir = path.resolve(options.cacheDir ?? defaultCacheDir())
  const base = (options.baseUrl ?? process.env.ALSREC_DOWNLOAD_BASE ?? DEFAULT_DOWNLOAD_BASE).replace(/\/+$/, '')
  const url = `${base}/${name}.zip`
  const dir = path.join(cacheDir, name)
  const zipPath = path.join(cacheDir, `${name}.zip`)
  const partPath = `${zipPath}.part`

  if (options.force) await rm(dir, { recursive: true, force: true })
  const cached = await readMarker(dir)
  if (cached) return { name, dir, cached: true, md5: cached.md5, bytes: cached.bytes, url: cached.url }
  if (await exists(dir)) {
    throw new AlsrecError('ALSREC_IO', `${dir} exists but was not unpacked by alsrec download; remove it or pass --force`)
  }

  await mkdir(cacheDir, { recursive: true })
  const expected = await fetchMd5(`${url}.md5`, options.signal)
  if (!(await exists(zipPath))) {
    await fetchResumable(url, partPath, options)
    await rename(partPath, zipPath)
  }
  const bytes = (await stat(zipPath)).size
  const actual = await md5File(zipPath, bytes, options.onProgress)
  if (actual !== expected) {
    await rm(zipPath, { force: true })
    throw new AlsrecError(
      'ALSREC_INVALID_DATA',
      `${name}.zip is corrupted: MD5 expected ${expected}, got ${actual}; deleted ${zipPath}, run again to fetch it anew`,
    )
  }
  await unpackAtomically(zipPath, dir, { name, url, md5: actual, bytes, unpackedAt: new Date().toISOString() }, options)
  // The unpacked folder is what we keep; the zip would only double the disk use.
  await rm(zipPath, { force: true })
  return { name, dir, cached: false, md5: actual, bytes, url }
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  )
}

async function readMarker(dir: string): Promise<Marker | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as Marker
  } catch {
    return null
  }
}

function httpError(url: string, res: Response): AlsrecError {
  const code = res.status === 404 ? 'ALSREC_NOT_FOUND' : 'ALSREC_IO'
  return new AlsrecError(code, `download of ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd())
}

async function get(url: string, signal: AbortSignal | undefined, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, { headers, signal: signal ?? null, redirect: 'follow' })
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : ''
    throw new AlsrecError('ALSREC_IO', `cannot reach ${url}${cause}`, { cause: err })
  }
}

/** The published checksum: "MD5 (x.zip) = <hex>" or "<hex>  x.zip". */
async function fetchMd5(url: string, signal: AbortSignal | undefined): Promise<string> {
  const res = await get(url, signal)
  if (!res.ok) throw httpError(url, res)
  const text = await res.text()
  const match = /\b([0-9a-f]{32})\b/i.exec(text)
  if (!match?.[1]) throw new AlsrecError('ALSREC_INVALID_DATA', `${url} holds no MD5 checksum (got "${text.slice(0, 80).trim()}")`)
  return match[1].toLowerCase()
}

/**
 * Downloads into `partPath`, continuing an existing part with a Range request. A server that
 * answers 200 instead of 206 gets a clean restart; a dropped connection is retried from where it
 * stopped.
 */
async function fetchResumable(url: string, partPath: string, options: DownloadOptions): Promise<void> {
  const started = performance.now()
  let fetchedThisRun = 0
  for (let attempt = 1; ; attempt++) {
    const have = await stat(partPath).then(
      (s) => s.size,
      () => 0,
    )
    const res = await get(url, options.signal, have > 0 ? { Range: `bytes=${have}-` } : {})
    if (res.status === 416) {
      await res.body?.cancel()
      // "bytes */N" with N = what we have: the part is complete (an earlier run stopped just
      // before renaming it). Anything else: the part does not fit the file, so start over.
      if (/^bytes \*\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1] === String(have)) return
      await rm(partPath, { force: true })
      if (attempt >= MAX_ATTEMPTS) throw httpError(url, res)
      continue
    }
    if (!res.ok || !res.body) throw httpError(url, res)
    const resumed = res.status === 206 && contentRangeStart(res) === have
    if (res.status === 206 && !resumed) {
      await res.body.cancel()
      throw new AlsrecError('ALSREC_IO', `download of ${url} failed: the server answered a range other than bytes=${have}-`)
    }
    const offset = resumed ? have : 0
    const length = Number(res.headers.get('content-length'))
    const total = Number.isFinite(length) && length > 0 ? offset + length : null
    let done = offset
    const report = (): void =>
      options.onProgress?.({ phase: 'download', done, total, bytesPerSecond: fetchedThisRun / Math.max((performance.now() - started) / 1000, 1e-3) })
    report()
    const out = createWriteStream(partPath, { flags: resumed ? 'a' : 'w' })
    try {
      await pipeline(
        Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
        async function* count(source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            done += chunk.byteLength
            fetchedThisRun += chunk.byteLength
            report()
            yield chunk
          }
        },
        out,
        options.signal ? { signal: options.signal } : {},
      )
    } catch (err) {
      // Keep the part for the next attempt (or the next run, after an abort).
      if (err instanceof Error && err.name === 'AbortError') throw err
      if (attempt >= MAX_ATTEMPTS) {
        throw new AlsrecError('ALSREC_IO', `download of ${url} broke off after ${done} bytes (${attempt} attempts); run again to resume`, { cause: err })
      }
      // A short, growing pause lets a flaky link or a busy server recover.
      await sleep(250 * attempt, undefined, options.signal ? { signal: options.signal } : {})
      continue
    }
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

async function md5File(file: string, total: number, onProgress: DownloadOptions['onProgress']): Promise<string> {
  const hash = createHash('md5')
  let done = 0
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    done += chunk.length
    onProgress?.({ phase: 'verify', done, total, bytesPerSecond: 0 })
  }
  return hash.digest('hex')
}

/**
 * Unpacks into a temporary sibling folder and renames it to `dir`. MovieLens zips hold one top
 * folder (ml-10m's is "ml-10M100K"); its content becomes `dir`.
 */
async function unpackAtomically(zipPath: string, dir: string, marker: Marker, options: DownloadOptions): Promise<void> {
  const tmp = await mkdtemp(path.join(path.dirname(dir), `.${path.basename(dir)}.unpacking-`))
  try {
    await extractZip(zipPath, tmp, options)
    const entries = await readdir(tmp, { withFileTypes: true })
    const only = entries.length === 1 ? entries[0] : undefined
    const root = only?.isDirectory() ? path.join(tmp, only.name) : tmp
    await writeFile(path.join(root, MARKER), `${JSON.stringify(marker, null, 2)}\n`)
    await rename(root, dir)
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

function extractZip(zipPath: string, dest: string, options: DownloadOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    // yauzl checks entry names (no absolute paths, no "..") and sizes against the directory.
    yauzl.open(zipPath, { lazyEntries: true }, (openErr, zip) => {
      if (openErr) return reject(new AlsrecError('ALSREC_INVALID_DATA', `${zipPath} is no valid zip: ${openErr.message}`))
      const total = zip.entryCount
      let done = 0
      const fail = (err: unknown): void => {
        zip.close()
        reject(err instanceof AlsrecError || (err instanceof Error && err.name === 'AbortError') ? err : new AlsrecError('ALSREC_INVALID_DATA', `cannot unpack ${zipPath}: ${err instanceof Error ? err.message : String(err)}`))
      }
      zip.on('error', fail)
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        if (options.signal?.aborted) return fail(options.signal.reason)
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
          mkdir(path.dirname(target), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(target)))
            .then(next, fail)
        })
      })
      zip.readEntry()
    })
  })
}
