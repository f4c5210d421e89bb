import test from 'ava'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { AlsrecError, download, loadMovieLens, MOVIELENS_DATASETS } from '../dist/index.js'
import { buildMovieLensZip, md5, serve, type ServedFile } from './download-server.js'

function tempCache(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'alsrec-download-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function withServer<T>(files: Record<string, ServedFile>, fn: (base: string, log: string[]) => Promise<T>): Promise<T> {
  const server = await serve(files)
  try {
    return await fn(server.base, server.log)
  } finally {
    await server.close()
  }
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/alsrec.js', ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

let zip: Buffer = Buffer.alloc(0)
test.before(async () => {
  zip = await buildMovieLensZip('ml-latest-small')
})

test('downloads, verifies and unpacks a dataset, then reuses the cache without fetching', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl, log) => {
    const phases = new Set<string>()
    const first = await download('ml-latest-small', { cacheDir, baseUrl, onProgress: (p) => phases.add(p.phase) })
    t.false(first.cached)
    t.is(first.dir, path.join(cacheDir, 'ml-latest-small'))
    t.is(first.md5, md5(zip))
    t.is(first.bytes, zip.length)
    t.deepEqual([...phases].sort(), ['download', 'unpack', 'verify'])
    // The zip's top folder became the cache folder; the zip itself and temp folders are gone.
    t.deepEqual(readdirSync(cacheDir), ['ml-latest-small'])
    const data = await loadMovieLens(first.dir)
    t.is(data.numUsers, 20)
    t.is(data.catalog.size, 30)
    t.deepEqual(log, ['GET /ml-latest-small.zip.md5', 'GET /ml-latest-small.zip'])

    const again = await download('ml-latest-small', { cacheDir, baseUrl })
    t.true(again.cached)
    t.is(again.dir, first.dir)
    t.is(log.length, 2, 'a verified dataset is not fetched again')
  })
})

test('resumes with a Range request after the server cuts the transfer halfway', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-1m.zip': { body: zip, cutFirst: 1 } }, async (baseUrl, log) => {
    const result = await download('ml-1m', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    t.deepEqual(log.slice(0, 2), ['GET /ml-1m.zip.md5', 'GET /ml-1m.zip'])
    t.is(log.length, 3)
    // The second request continues from what reached the disk (at most the half that was sent).
    const resumedAt = Number(/^GET \/ml-1m\.zip bytes=(\d+)-$/.exec(log[2] ?? '')?.[1])
    t.true(resumedAt > 0 && resumedAt <= zip.length >> 1, log[2])
    t.true(existsSync(path.join(result.dir, 'ratings.csv')))
  })
})

test('restarts cleanly when the server ignores the Range request', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-1m.zip': { body: zip, cutFirst: 1, ignoreRange: true } }, async (baseUrl, log) => {
    const result = await download('ml-1m', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    t.is(log.length, 3)
    t.is(readFileSync(path.join(result.dir, 'movies.csv'), 'utf8').split('\n')[1], '1,"Movie 1, The (1951)",Drama|Comedy')
  })
})

test('continues a partial file left by an earlier run', async (t) => {
  const cacheDir = tempCache(t)
  const kept = 150_000
  writeFileSync(path.join(cacheDir, 'ml-100k.zip.part'), zip.subarray(0, kept))
  await withServer({ '/ml-100k.zip': { body: zip } }, async (baseUrl, log) => {
    const progress: number[] = []
    const result = await download('ml-100k', { cacheDir, baseUrl, onProgress: (p) => p.phase === 'download' && progress.push(p.done) })
    t.is(result.md5, md5(zip))
    t.deepEqual(log, ['GET /ml-100k.zip.md5', `GET /ml-100k.zip bytes=${kept}-`])
    t.is(progress[0], kept, 'progress counts the bytes already on disk')
    t.is(progress.at(-1), zip.length)
  })
})

test('a complete part left by an earlier run is used as it is', async (t) => {
  const cacheDir = tempCache(t)
  writeFileSync(path.join(cacheDir, 'ml-20m.zip.part'), zip)
  await withServer({ '/ml-20m.zip': { body: zip } }, async (baseUrl, log) => {
    const result = await download('ml-20m', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    // The server answers 416 "bytes */<size>": nothing is left to fetch.
    t.deepEqual(log, ['GET /ml-20m.zip.md5', `GET /ml-20m.zip bytes=${zip.length}-`])
  })
})

test('a part that does not fit the file is discarded and fetched anew', async (t) => {
  const cacheDir = tempCache(t)
  writeFileSync(path.join(cacheDir, 'ml-20m.zip.part'), Buffer.concat([zip, Buffer.from('junk')]))
  await withServer({ '/ml-20m.zip': { body: zip } }, async (baseUrl, log) => {
    const result = await download('ml-20m', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    t.deepEqual(log, ['GET /ml-20m.zip.md5', `GET /ml-20m.zip bytes=${zip.length + 4}-`, 'GET /ml-20m.zip'])
  })
})

test('a download whose MD5 does not match is deleted with a clear error', async (t) => {
  const cacheDir = tempCache(t)
  const wrong = '0123456789abcdef0123456789abcdef'
  await withServer({ '/ml-latest-small.zip': { body: zip, md5: wrong } }, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', new RegExp(`expected ${wrong}, got ${md5(zip)}`))
    t.regex(err?.message ?? '', /deleted/)
    t.deepEqual(readdirSync(cacheDir), [], 'no zip, part or folder is left behind')
  })
})

test('a missing file on the server is a clear not-found error', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({}, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-25m', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_NOT_FOUND')
    t.is(err?.message, `download of ${baseUrl}/ml-25m.zip.md5 failed: HTTP 404 Not Found`)
    const run = await cli(['download', 'ml-25m', '--cache-dir', cacheDir, '--base-url', baseUrl], {})
    t.is(run.code, 1)
    t.is(run.stderr.trim().split('\n').length, 1, run.stderr)
    t.regex(run.stderr, /HTTP 404/)
  })
})

test('an unknown dataset name is a usage error that lists the valid names', async (t) => {
  const err = await t.throwsAsync(download('ml-2m'), { instanceOf: AlsrecError })
  t.is(err?.code, 'ALSREC_INVALID_ARGUMENT')
  const run = await cli(['download', 'ml-2m'], {})
  t.is(run.code, 2)
  for (const name of MOVIELENS_DATASETS) t.true(run.stderr.includes(name), name)
  t.is(run.stdout, '')
})

test('the CLI prints only the ready folder with --quiet, taking the base and cache from the environment', async (t) => {
  const cache = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (base) => {
    const env = { ALSREC_DOWNLOAD_BASE: base, XDG_CACHE_HOME: cache }
    const run = await cli(['download', 'ml-latest-small', '--quiet'], env)
    t.is(run.code, 0, run.stderr)
    t.is(run.stdout, `${path.join(cache, 'alsrec', 'ml-latest-small')}\n`)
    t.is(run.stderr, '')
    const json = await cli(['download', 'ml-latest-small', '--json'], env)
    t.is(json.code, 0)
    const parsed = JSON.parse(json.stdout) as { cached: boolean; md5: string }
    t.true(parsed.cached)
    t.is(parsed.md5, md5(zip))
  })
})

test('an AbortSignal stops a download and keeps the part for the next run', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip, stallFirst: true } }, async (baseUrl, log) => {
    const controller = new AbortController()
    let armed = false
    const onProgress = (p: { phase: string; done: number }): void => {
      // Abort while the transfer hangs, once the first bytes had time to reach the disk.
      if (p.phase === 'download' && p.done > 0 && !armed) {
        armed = true
        setTimeout(() => controller.abort(), 300)
      }
    }
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl, signal: controller.signal, onProgress }))
    t.is(err?.name, 'AbortError')
    t.deepEqual(readdirSync(cacheDir), ['ml-latest-small.zip.part'])
    const result = await download('ml-latest-small', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    t.regex(log.at(-1) ?? '', /^GET \/ml-latest-small\.zip bytes=\d+-$/, 'the second run resumes')
  })
})
