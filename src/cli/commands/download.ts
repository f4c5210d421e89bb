import { type Command } from 'commander'

import { defaultCacheDir, download, MOVIELENS_DATASETS, type DownloadLimits, type DownloadProgress } from '../../download.js'
import { parseCount, parsePositive, parseSize } from '../shared/options.js'
import { formatBytes, printJson } from '../shared/output.js'
import { abortOnSigint, ProgressBar } from '../shared/progress.js'

interface DownloadCliOptions {
  cacheDir?: string
  baseUrl?: string
  force?: boolean
  quiet?: boolean
  json?: boolean
  stallTimeout?: number
  timeout?: number
  maxZipSize?: number
  maxUnpackedSize?: number
  maxEntries?: number
}

export function registerDownload(program: Command): void {
  program
    .command('download')
    .description('fetch a MovieLens set, verify its MD5, unpack it into the cache and print its folder')
    .argument('<name>', `one of ${MOVIELENS_DATASETS.join(', ')}`)
    .option('--cache-dir <dir>', 'where datasets are kept', defaultCacheDir())
    .option('--base-url <url>', 'where <name>.zip and <name>.zip.md5 are fetched from (env ALSREC_DOWNLOAD_BASE)')
    .option('--force', 'fetch again even when a verified copy is in the cache')
    .option('-q, --quiet', 'print only the folder (no progress, no messages)')
    .option('--json', 'print the result as JSON')
    .option('--stall-timeout <seconds>', 'fail when no data arrives for this long (default 60)', parsePositive)
    .option('--timeout <seconds>', 'fail when the transfer takes longer than this in all (default: 10 min plus 32 KiB/s of the zip)', parsePositive)
    .option('--max-zip-size <size>', "refuse a zip larger than this (default: the set's published size plus 10% and 1 MiB)", parseSize)
    .option('--max-unpacked-size <size>', 'refuse a zip that unpacks to more than this (default: what the set needs, with a margin)', parseSize)
    .option('--max-entries <n>', 'refuse a zip with more entries than this (default: what the set holds, with a margin)', parseCount)
    .addHelpText(
      'after',
      [
        '',
        'The folder is printed alone on stdout; progress and messages go to stderr.',
        '',
        'Examples:',
        '  $ alsrec download ml-latest-small',
        '  $ alsrec demo --data "$(alsrec download ml-latest-small --quiet)"',
        '  $ alsrec download ml-25m --base-url https://mirror.example/movielens --max-unpacked-size 2G',
      ].join('\n'),
    )
    .action(async (name: string, o: DownloadCliOptions) => runDownload(name, o))
}

async function runDownload(name: string, o: DownloadCliOptions): Promise<void> {
  const say = o.quiet || o.json ? () => {} : (line: string) => process.stderr.write(`${line}\n`)
  const bar = new ProgressBar(!o.quiet && !o.json && process.stderr.isTTY === true)
  let phase: DownloadProgress['phase'] | null = null
  const onProgress = (p: DownloadProgress): void => {
    if (p.phase !== phase) {
      bar.done()
      phase = p.phase
    }
    const fraction = p.total ? p.done / p.total : null
    if (p.phase === 'download') {
      const size = p.total ? `${formatBytes(p.done)} / ${formatBytes(p.total)}` : formatBytes(p.done)
      bar.update(`download ${name}`, fraction, `${size}  ${formatBytes(p.bytesPerSecond)}/s`, p.done === p.total)
    } else if (p.phase === 'verify') bar.update('verify MD5', fraction, formatBytes(p.done), p.done === p.total)
    else bar.update('unpack', fraction, `${p.done} / ${p.total ?? '?'} files`, p.done === p.total)
  }
  const sigint = abortOnSigint()
  const t0 = performance.now()
  const limits: Partial<DownloadLimits> = {}
  if (o.stallTimeout !== undefined) limits.stallTimeoutMs = o.stallTimeout * 1000
  if (o.timeout !== undefined) limits.timeoutMs = o.timeout * 1000
  if (o.maxZipSize !== undefined) limits.maxZipBytes = o.maxZipSize
  if (o.maxUnpackedSize !== undefined) limits.maxUnpackedBytes = o.maxUnpackedSize
  if (o.maxEntries !== undefined) limits.maxEntries = o.maxEntries
  try {
    const result = await download(name, {
      cacheDir: o.cacheDir,
      ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
      ...limits,
      force: o.force === true,
      signal: sigint.signal,
      onProgress,
    })
    bar.done()
    if (o.json) return printJson(result)
    if (result.cached) say(`${name} is already in the cache (MD5 ${result.md5} verified when it was fetched)`)
    else say(`${name}: ${formatBytes(result.bytes)} fetched, MD5 ${result.md5} verified, unpacked in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    console.log(result.dir)
  } catch (err) {
    bar.done()
    if (sigint.interrupted()) throw new Error('download interrupted; run the same command again to resume it')
    throw err
  } finally {
    sigint.dispose()
  }
}
