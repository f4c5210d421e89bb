import test from 'ava'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { datasetLimits } from '../dist/download.js'
import { AlsrecError, download, loadMovieLens, MOVIELENS_DATASETS } from '../dist/index.js'
import { buildMovieLensZip, buildZip, md5, movieLensEntries, renameEntry, serve, type ServedFile } from './download-server.js'

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

// ---- A hostile or broken mirror ----

test('a zip bomb is refused on its declared size, with the default caps, and nothing is left behind', async (t) => {
  const cacheDir = tempCache(t)
  // 32 MiB of zeros deflate to about 32 KiB: a small download that would unpack far past what
  // ml-latest-small needs.
  const bomb = await buildZip([...movieLensEntries('ml-latest-small'), { name: 'ml-latest-small/zeros.csv', data: Buffer.alloc(32 * 1024 * 1024) }])
  const limits = datasetLimits('ml-latest-small')
  t.true(bomb.length < limits.maxZipBytes)
  t.true(limits.maxUnpackedBytes < 32 * 1024 * 1024)
  await withServer({ '/ml-latest-small.zip': { body: bomb } }, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', /unpacks to more than the \d+ bytes expected; deleted /)
    t.deepEqual(readdirSync(cacheDir), [], 'no zip, temporary folder or dataset folder is left')
  })
})

test('a zip with far more entries than the set holds is refused', async (t) => {
  const cacheDir = tempCache(t)
  const many = await buildZip(Array.from({ length: 200 }, (_, i) => ({ name: `ml-100k/f${i}.txt`, data: Buffer.from('x') })))
  await withServer({ '/ml-100k.zip': { body: many } }, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-100k', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', new RegExp(`holds 200 entries, more than the ${datasetLimits('ml-100k').maxEntries} expected`))
    t.deepEqual(readdirSync(cacheDir), [])
  })
})

test('the unpack caps are options: lowered they refuse the zip, raised they let it through', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-1m.zip': { body: zip } }, async (baseUrl) => {
    // The fixture holds 3 files and about 210 KB.
    const small = await t.throwsAsync(download('ml-1m', { cacheDir, baseUrl, maxUnpackedBytes: 100_000 }), { instanceOf: AlsrecError })
    t.regex(small?.message ?? '', /unpacks to more than the 100000 bytes expected/)
    const few = await t.throwsAsync(download('ml-1m', { cacheDir, baseUrl, maxEntries: 2 }), { instanceOf: AlsrecError })
    t.regex(few?.message ?? '', /holds 3 entries, more than the 2 expected/)
    const bad = await t.throwsAsync(download('ml-1m', { cacheDir, baseUrl, maxEntries: 0 }), { instanceOf: AlsrecError })
    t.is(bad?.code, 'ALSREC_INVALID_ARGUMENT')
    const ok = await download('ml-1m', { cacheDir, baseUrl, maxUnpackedBytes: 300_000, maxEntries: 3 })
    t.is(ok.md5, md5(zip))
  })
})

test('an endless .md5 body is cut off after a few hundred bytes', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip, endlessMd5: true } }, async (baseUrl, log) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', /\.md5 holds no MD5 checksum: it is longer than 512 bytes/)
    t.deepEqual(log, ['GET /ml-latest-small.zip.md5'])
    t.deepEqual(readdirSync(cacheDir), [])
  })
})

test('an endless zip body is cut off near the published size and its part deleted', async (t) => {
  const cacheDir = tempCache(t)
  const cap = datasetLimits('ml-latest-small').maxZipBytes
  // The published ml-latest-small.zip is 978,202 bytes; the cap leaves a margin, not a multiple.
  t.true(cap > 978_202 && cap < 3 * 978_202, String(cap))
  await withServer({ '/ml-latest-small.zip': { body: zip, endless: true } }, async (baseUrl) => {
    let most = 0
    const onProgress = (p: { phase: string; done: number }): void => {
      if (p.phase === 'download') most = Math.max(most, p.done)
    }
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl, onProgress }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', new RegExp(`the server sent more than ${cap} bytes`))
    t.true(most <= cap && most > cap - 256 * 1024, `${most} of ${cap}`)
    t.deepEqual(readdirSync(cacheDir), [], 'the oversized part is deleted')
  })
})

test('a zip announced larger than the cap is refused before a byte is written', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-10m.zip': { body: zip } }, async (baseUrl) => {
    const phases: string[] = []
    const err = await t.throwsAsync(download('ml-10m', { cacheDir, baseUrl, maxZipBytes: 100_000, onProgress: (p) => phases.push(p.phase) }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_INVALID_DATA')
    t.regex(err?.message ?? '', new RegExp(`the server announces ${zip.length} bytes, more than the 100000 bytes expected`))
    t.deepEqual(phases, [])
    t.deepEqual(readdirSync(cacheDir), [])
  })
})

// Serial, like the deadline test below: a healthy answer from this test process's own server
// must not be late because other tests keep it busy.
test.serial('a transfer that never sends a byte fails with a coded error within the stall timeout', async (t) => {
  const cacheDir = tempCache(t)
  const cases: Array<[string, ServedFile]> = [
    ['.md5 never answered', { body: zip, hangMd5: true }],
    ['zip never answered', { body: zip, hang: 'headers' }],
    ['zip headers, then nothing', { body: zip, hang: 'body' }],
  ]
  for (const [what, file] of cases) {
    await withServer({ '/ml-25m.zip': file }, async (baseUrl, log) => {
      const t0 = performance.now()
      const err = await t.throwsAsync(download('ml-25m', { cacheDir, baseUrl, stallTimeoutMs: 1000 }), { instanceOf: AlsrecError }, what)
      const elapsed = performance.now() - t0
      t.is(err?.code, 'ALSREC_IO', what)
      t.regex(err?.message ?? '', /stalled: no data for 1 s; run again to resume$/, what)
      // A stall fails at once: no retry, and no waiting for the HTTP client's own 5-minute timeouts.
      t.deepEqual(log, file.hangMd5 ? ['GET /ml-25m.zip.md5'] : ['GET /ml-25m.zip.md5', 'GET /ml-25m.zip'], what)
      t.true(elapsed < 10_000, `${what}: ${elapsed} ms`)
      t.deepEqual(readdirSync(cacheDir), [], `${what}: no empty part is left`)
    })
  }
})

// Serial: the deadline must fall while the trickle is under way, not while a busy test process
// is still answering the checksum request.
test.serial('a transfer that trickles on past the overall timeout fails and keeps its part', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip, dripMs: 10 } }, async (baseUrl, log) => {
    const t0 = performance.now()
    // Bytes keep arriving, so only the overall deadline can stop this.
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl, timeoutMs: 2000, stallTimeoutMs: 60_000 }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_IO')
    t.is(err?.message, `download of ${baseUrl}/ml-latest-small.zip timed out: the transfer took longer than 2 s in all; run again to resume`)
    t.deepEqual(log, ['GET /ml-latest-small.zip.md5', 'GET /ml-latest-small.zip'])
    t.true(performance.now() - t0 < 10_000)
    t.deepEqual(readdirSync(cacheDir), ['ml-latest-small.zip.part'], 'what arrived is kept for a resume')
  })
})

test('the CLI takes the caps and the stall timeout as flags', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-1m.zip': { body: zip }, '/ml-20m.zip': { body: zip, hang: 'headers' } }, async (baseUrl) => {
    const common = ['--cache-dir', cacheDir, '--base-url', baseUrl]
    const [stalled, capped, usage] = await Promise.all([
      cli(['download', 'ml-20m', ...common, '--stall-timeout', '0.3'], {}),
      cli(['download', 'ml-1m', ...common, '--max-unpacked-size', '100K'], {}),
      cli(['download', 'ml-1m', ...common, '--max-entries', '-3'], {}),
    ])
    t.is(stalled.code, 1, stalled.stderr)
    t.regex(stalled.stderr, /stalled: no data for 0\.3 s.*\[ALSREC_IO\]\n$/)
    t.is(capped.code, 1, capped.stderr)
    t.regex(capped.stderr, /unpacks to more than the 102400 bytes expected.*\[ALSREC_INVALID_DATA\]\n$/)
    t.is(usage.code, 2, usage.stderr)
    t.regex(usage.stderr, /--max-entries/)
  })
})

test('a symlink planted at the .part path is refused and its target left alone', async (t) => {
  const cacheDir = tempCache(t)
  const outside = tempCache(t)
  const victim = path.join(outside, 'victim.txt')
  writeFileSync(victim, 'precious')
  const part = path.join(cacheDir, 'ml-latest-small.zip.part')
  symlinkSync(victim, part)
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_IO')
    t.regex(err?.message ?? '', /ml-latest-small\.zip\.part is a symbolic link/)
    t.is(readFileSync(victim, 'utf8'), 'precious')
    t.true(lstatSync(part).isSymbolicLink(), 'the link is reported, not silently replaced')

    // A link planted after the check, just before the part is opened, meets O_NOFOLLOW.
    rmSync(part)
    let planted = false
    const onProgress = (p: { phase: string }): void => {
      if (p.phase === 'download' && !planted) {
        planted = true
        symlinkSync(victim, part)
      }
    }
    const raced = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl, onProgress }), { instanceOf: AlsrecError })
    t.true(planted)
    t.is(raced?.code, 'ALSREC_IO')
    t.regex(raced?.message ?? '', /ml-latest-small\.zip\.part is a symbolic link/)
    t.is(readFileSync(victim, 'utf8'), 'precious')
  })
})

test('a symlink planted at the zip path is refused and its target left alone', async (t) => {
  const cacheDir = tempCache(t)
  const outside = tempCache(t)
  const victim = path.join(outside, 'victim.zip')
  writeFileSync(victim, zip)
  symlinkSync(victim, path.join(cacheDir, 'ml-latest-small.zip'))
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_IO')
    t.regex(err?.message ?? '', /ml-latest-small\.zip is a symbolic link/)
    t.true(readFileSync(victim).equals(zip))
  })
})

test('a cache entry that is a symlink is refused, not trusted; --force replaces the link only', async (t) => {
  const cacheDir = tempCache(t)
  const decoy = tempCache(t)
  // Looks like a verified dataset to a reader that follows links.
  const marker = { name: 'ml-latest-small', url: 'x', md5: md5(zip), bytes: zip.length, unpackedAt: '2020-01-01' }
  writeFileSync(path.join(decoy, '.alsrec-download.json'), JSON.stringify(marker))
  writeFileSync(path.join(decoy, 'ratings.csv'), 'planted')
  const entry = path.join(cacheDir, 'ml-latest-small')
  symlinkSync(decoy, entry)
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl, log) => {
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError })
    t.is(err?.code, 'ALSREC_IO')
    t.regex(err?.message ?? '', /ml-latest-small is a symbolic link; .*--force/)
    t.deepEqual(log, [], 'nothing is fetched')
    const forced = await download('ml-latest-small', { cacheDir, baseUrl, force: true })
    t.false(forced.cached)
    t.true(lstatSync(entry).isDirectory())
    t.is(readFileSync(path.join(decoy, 'ratings.csv'), 'utf8'), 'planted', 'the link target is untouched')
  })
})

test('leftovers of a killed unpack are removed on the next run; a live unpack is left alone', async (t) => {
  const cacheDir = tempCache(t)
  // A pid that has exited, as after a kill -9 in the middle of an unpack.
  const dead = spawnSync(process.execPath, ['-e', '']).pid
  const stale = [`.ml-latest-small.unpacking-${dead}-AbC123`, '.ml-latest-small.unpacking-XyZ789']
  const live = `.ml-latest-small.unpacking-${process.ppid}-LiVe00`
  for (const dir of [...stale, live]) {
    mkdirSync(path.join(cacheDir, dir, 'ml-latest-small'), { recursive: true })
    writeFileSync(path.join(cacheDir, dir, 'ml-latest-small', 'ratings.csv'), 'half')
  }
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl) => {
    await download('ml-latest-small', { cacheDir, baseUrl })
    t.deepEqual(readdirSync(cacheDir).sort(), [live, 'ml-latest-small'].sort())
  })
})

test('an abort during the unpack removes the temporary folder and keeps the zip for the next run', async (t) => {
  const cacheDir = tempCache(t)
  await withServer({ '/ml-latest-small.zip': { body: zip } }, async (baseUrl, log) => {
    const controller = new AbortController()
    const onProgress = (p: { phase: string }): void => {
      if (p.phase === 'unpack') controller.abort()
    }
    const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl, signal: controller.signal, onProgress }))
    t.is(err?.name, 'AbortError')
    t.deepEqual(readdirSync(cacheDir), ['ml-latest-small.zip'])
    const result = await download('ml-latest-small', { cacheDir, baseUrl })
    t.is(result.md5, md5(zip))
    t.is(log.filter((l) => l === 'GET /ml-latest-small.zip').length, 1, 'the zip is not fetched again')
  })
})

test('zip entries that escape the folder, are absolute or are links are refused', async (t) => {
  const cacheDir = tempCache(t)
  const outside = tempCache(t)
  const base = movieLensEntries('ml-latest-small')
  // Two levels up from the unpack folder is outside the cache.
  const slipName = `../../${path.basename(outside)}/slip.txt`
  const absolute = path.join(outside, 'absolute.txt')
  const victimDir = path.join(outside, 'victim')
  mkdirSync(victimDir)
  // yazl refuses to write such names, so the zip is built with a same-length stand-in.
  const hostile = async (name: string, standIn: string): Promise<Buffer> => renameEntry(await buildZip([...base, { name: standIn, data: Buffer.from('evil') }]), standIn, name)
  const zips: Array<[string, Buffer, RegExp]> = [
    ['zip slip', await hostile(slipName, slipName.replace('../../', 'XX/XX/')), /invalid relative path/],
    ['absolute path', await hostile(absolute, `X${absolute.slice(1)}`), /absolute path/],
    [
      'symbolic link',
      await buildZip([
        ...base,
        { name: 'ml-latest-small/link', data: Buffer.from(victimDir), mode: 0o120777 },
        { name: 'ml-latest-small/link/evil.txt', data: Buffer.from('evil') },
      ]),
      /entry ml-latest-small\/link is a symbolic link/,
    ],
  ]
  for (const [what, body, message] of zips) {
    await withServer({ '/ml-latest-small.zip': { body } }, async (baseUrl) => {
      const err = await t.throwsAsync(download('ml-latest-small', { cacheDir, baseUrl }), { instanceOf: AlsrecError }, what)
      t.is(err?.code, 'ALSREC_INVALID_DATA', what)
      t.regex(err?.message ?? '', message, what)
      t.deepEqual(readdirSync(cacheDir), [], what)
    })
  }
  t.deepEqual(readdirSync(outside).sort(), ['victim'], 'nothing was written outside the cache')
  t.deepEqual(readdirSync(victimDir), [])
})
