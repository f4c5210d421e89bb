// A MovieLens-like zip built in memory and a small HTTP server on 127.0.0.1 that serves it the
// way the tests need: cut halfway, ignore Range, wrong checksum, 404, and the hostile mirror's
// tricks (bodies that never end, requests that are never answered, a trickle of bytes).
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import yazl from 'yazl'

/** The files of a tiny MovieLens set under one top folder (as the official zips are laid out). */
export function movieLensEntries(folder: string): ZipEntry[] {
  const ratings = ['userId,movieId,rating,timestamp']
  for (let u = 1; u <= 20; u++) for (let m = 1; m <= 30; m++) if ((u * 7 + m * 3) % 4 !== 0) ratings.push(`${u},${m},${1 + ((u + m) % 9) / 2},964982703`)
  const movies = ['movieId,title,genres']
  for (let m = 1; m <= 30; m++) movies.push(`${m},"Movie ${m}, The (${1950 + m})",${m % 2 ? 'Drama|Comedy' : 'Action'}`)
  return [
    { name: `${folder}/ratings.csv`, data: Buffer.from(`${ratings.join('\n')}\n`) },
    { name: `${folder}/movies.csv`, data: Buffer.from(`${movies.join('\n')}\n`) },
    // Padding so that a transfer cut halfway leaves a sizeable part; stored uncompressed.
    { name: `${folder}/README.txt`, data: Buffer.alloc(200_000, 'x'), compress: false },
  ]
}

/** A zip with one top folder holding a tiny MovieLens set. */
export function buildMovieLensZip(folder: string): Promise<Buffer> {
  return buildZip(movieLensEntries(folder))
}

export interface ZipEntry {
  name: string
  data: Buffer
  /** Unix mode with the file type bits, e.g. 0o120777 for a symbolic link. */
  mode?: number
  compress?: boolean
}

/** A zip of exactly these entries (hostile ones included). */
export async function buildZip(entries: ZipEntry[]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const e of entries) zip.addBuffer(e.data, e.name, { ...(e.mode !== undefined ? { mode: e.mode } : {}), compress: e.compress ?? true })
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

/**
 * Renames an entry in a built zip (local header and central directory alike) to a name yazl
 * refuses to write, such as "../x" or "/x"; both names must have the same length.
 */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('renameEntry: names of different lengths')
  const out = Buffer.from(zip)
  const needle = Buffer.from(from)
  let replaced = 0
  for (let at = out.indexOf(needle); at !== -1; at = out.indexOf(needle, at + needle.length)) {
    out.write(to, at)
    replaced++
  }
  if (replaced === 0) throw new Error(`renameEntry: no entry ${from}`)
  return out
}

export function md5(data: Buffer): string {
  return createHash('md5').update(data).digest('hex')
}

export interface ServedFile {
  body: Buffer
  /** The checksum published in `<path>.md5` (the real one by default). */
  md5?: string
  /** Cut the first N full (non-range) responses halfway through the body. */
  cutFirst?: number
  /** Send half of the first full response, then hang (for abort tests). */
  stallFirst?: boolean
  /** Answer Range requests with the whole file (200), as servers without range support do. */
  ignoreRange?: boolean
  /** Send the body, then zeros, forever (no content-length). */
  endless?: boolean
  /** Make `<path>.md5` a body that never ends. */
  endlessMd5?: boolean
  /** Never answer `<path>.md5`. */
  hangMd5?: boolean
  /** Never answer (headers), or answer with headers and then never send a byte (body). */
  hang?: 'headers' | 'body'
  /** Send the first half of the body at once, then one byte every this many milliseconds. */
  dripMs?: number
}

/** Writes `first`, then zeros as fast as the client takes them, until the connection closes. */
function pour(res: http.ServerResponse, first: Buffer): void {
  const zeros = Buffer.alloc(64 * 1024)
  let open = true
  res.on('close', () => {
    open = false
  })
  const more = (): void => {
    while (open && res.write(zeros));
    if (open) res.once('drain', more)
  }
  res.write(first)
  more()
}

function drip(res: http.ServerResponse, body: Buffer, everyMs: number): void {
  let at = body.length >> 1
  res.write(body.subarray(0, at))
  const timer = setInterval(() => {
    if (at < body.length) res.write(body.subarray(at, ++at))
    else {
      clearInterval(timer)
      res.end()
    }
  }, everyMs)
  res.on('close', () => clearInterval(timer))
}

export interface TestServer {
  base: string
  /** "GET /path range" per request, in order. */
  log: string[]
  close: () => Promise<void>
}

/** Serves `files` (by URL path, e.g. "/ml-latest-small.zip") and their `.md5`s; anything else is 404. */
export async function serve(files: Record<string, ServedFile>): Promise<TestServer> {
  const log: string[] = []
  const cuts = new Map<string, number>()
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    const range = req.headers.range
    log.push(`${req.method} ${url}${range ? ` ${range}` : ''}`)
    if (url.endsWith('.md5')) {
      const file = files[url.slice(0, -4)]
      if (!file) return void res.writeHead(404).end('not found')
      if (file.hangMd5) return
      if (file.endlessMd5) {
        res.writeHead(200, { 'content-type': 'text/plain' })
        return pour(res, Buffer.from(`MD5 (${url.slice(1, -4)}) = ${md5(file.body)}\n`))
      }
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`MD5 (${url.slice(1, -4)}) = ${file.md5 ?? md5(file.body)}\n`)
    }
    const file = files[url]
    if (!file) return void res.writeHead(404).end('not found')
    if (file.hang === 'headers') return
    if (file.hang === 'body') return void res.writeHead(200, { 'content-length': file.body.length }).flushHeaders()
    if (file.endless) {
      res.writeHead(200, { 'content-type': 'application/zip' })
      return pour(res, file.body)
    }
    if (file.dripMs !== undefined) {
      res.writeHead(200, { 'content-length': file.body.length })
      return drip(res, file.body, file.dripMs)
    }
    const m = range && !file.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null
    if (m) {
      const start = Number(m[1])
      if (start >= file.body.length) return void res.writeHead(416, { 'content-range': `bytes */${file.body.length}` }).end()
      res.writeHead(206, { 'content-length': file.body.length - start, 'content-range': `bytes ${start}-${file.body.length - 1}/${file.body.length}` })
      return void res.end(file.body.subarray(start))
    }
    res.writeHead(200, { 'content-length': file.body.length, 'accept-ranges': 'bytes' })
    const cut = cuts.get(url) ?? 0
    if (file.stallFirst && cut === 0) {
      cuts.set(url, 1)
      res.write(file.body.subarray(0, file.body.length >> 1))
      return
    }
    if (cut < (file.cutFirst ?? 0)) {
      cuts.set(url, cut + 1)
      // Send half the body, then drop the connection.
      res.write(file.body.subarray(0, file.body.length >> 1), () => setTimeout(() => res.destroy(), 50))
      return
    }
    res.end(file.body)
  })
  server.keepAliveTimeout = 100
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    base: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
