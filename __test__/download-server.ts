// A MovieLens-like zip built in memory and a small HTTP server on 127.0.0.1 that serves it the
// way the tests need (cut halfway, ignore Range, wrong checksum, 404).
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

import yazl from 'yazl'

/** A zip with one top folder holding a tiny MovieLens set (as the official zips are laid out). */
export async function buildMovieLensZip(folder: string): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  const ratings = ['userId,movieId,rating,timestamp']
  for (let u = 1; u <= 20; u++) for (let m = 1; m <= 30; m++) if ((u * 7 + m * 3) % 4 !== 0) ratings.push(`${u},${m},${1 + ((u + m) % 9) / 2},964982703`)
  const movies = ['movieId,title,genres']
  for (let m = 1; m <= 30; m++) movies.push(`${m},"Movie ${m}, The (${1950 + m})",${m % 2 ? 'Drama|Comedy' : 'Action'}`)
  zip.addBuffer(Buffer.from(`${ratings.join('\n')}\n`), `${folder}/ratings.csv`)
  zip.addBuffer(Buffer.from(`${movies.join('\n')}\n`), `${folder}/movies.csv`)
  // Padding so that a transfer cut halfway leaves a sizeable part; stored uncompressed.
  zip.addBuffer(Buffer.alloc(200_000, 'x'), `${folder}/README.txt`, { compress: false })
  zip.end()
  const chunks: Buffer[] = []
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
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
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`MD5 (${url.slice(1, -4)}) = ${file.md5 ?? md5(file.body)}\n`)
    }
    const file = files[url]
    if (!file) return void res.writeHead(404).end('not found')
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
