import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { threadId } from 'node:worker_threads'

// Atomic writes: the content goes to a temp file in the target's folder, is fsynced, then renamed
// over the target, so a reader (or a crash) sees the old or the new content, never a torn one.
//
// Temp names are `.<name>.<pid>.<thread>-<16 hex>.tmp`, created with 'wx' (O_CREAT|O_EXCL): no
// two writes ever share a temp file, even writes of the same path in one process (async writes
// interleave at every await) or in several processes, and an existing file or symlink at that
// name is never written through. Of concurrent writes, the last rename wins and its content is whole.
//
// A write killed between open and rename (SIGKILL, power loss) leaves its temp file behind. The
// next write of the same path removes such leftovers: temps of a process that no longer runs,
// and temps of this thread that no write of it has open (a pid is reused, e.g. in containers).
// Temps of live processes and of this process's other threads stay: their writes may still be
// under way.

/** Temp files of writes in progress in this thread; the leftover sweep never touches these. */
const inFlight = new Set<string>()

function tempPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${threadId}-${randomBytes(8).toString('hex')}.tmp`)
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * The writer of `entry` when it is a temp file of an atomic write of `name`: this module's
 * pattern (a name without a thread is the main thread's), or the Rust core's (`.<name>.<pid>-<n>.tmp`,
 * and `.<name>.tmp-<pid>` of older builds), which writes model files.
 */
function tempOwner(entry: string, name: string): { pid: number; thread: number; native: boolean } | null {
  const n = escapeRegExp(name)
  const ours = new RegExp(`^\\.${n}\\.(\\d+)\\.(?:(\\d+)-)?[0-9a-z]+\\.tmp$`).exec(entry)
  if (ours?.[1] !== undefined) return { pid: Number(ours[1]), thread: Number(ours[2] ?? 0), native: false }
  const native = new RegExp(`^\\.${n}\\.(\\d+)-\\d+\\.tmp$`).exec(entry) ?? new RegExp(`^\\.${n}\\.tmp-(\\d+)$`).exec(entry)
  return native?.[1] !== undefined ? { pid: Number(native[1]), thread: 0, native: true } : null
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the temp files that killed writes of `names` (file names in `dir`) left behind.
 * Returns the removed names. A missing folder holds no leftovers.
 */
export function removeStaleTemps(dir: string, names: Iterable<string>): string[] {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return []
  }
  const wanted = new Set(names)
  const removed: string[] = []
  for (const entry of entries) {
    if (!entry.startsWith('.')) continue
    for (const name of wanted) {
      const owner = tempOwner(entry, name)
      if (owner === null) continue
      const full = path.join(dir, entry)
      // The core writes on its own threads (an async model save), out of sight of `inFlight`:
      // its temps count as stale only once their process is gone.
      const stale = owner.pid === process.pid ? !owner.native && owner.thread === threadId && !inFlight.has(full) : !processRuns(owner.pid)
      if (stale) {
        rmSync(full, { force: true })
        removed.push(entry)
      }
      break
    }
  }
  return removed
}

const bytesOf = (content: string | Uint8Array): Uint8Array => (typeof content === 'string' ? Buffer.from(content, 'utf8') : content)

/** Writes a file so readers see the old or the new content, never a torn one. */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const dir = path.dirname(file)
  mkdirSync(dir, { recursive: true })
  removeStaleTemps(dir, [path.basename(file)])
  const tmp = tempPath(file)
  inFlight.add(tmp)
  try {
    const fd = openSync(tmp, 'wx')
    try {
      const bytes = bytesOf(content)
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, file)
  } catch (err) {
    rmSync(tmp, { force: true })
    throw err
  } finally {
    inFlight.delete(tmp)
  }
}

/** The same guarantees as writeFileAtomic, without blocking the event loop. */
export async function writeFileAtomicAsync(file: string, content: string | Uint8Array): Promise<void> {
  await writeAtomicAsync(file, (write) => write(content))
}

/**
 * writeFileAtomicAsync for content made piece by piece: `produce` calls `write` for each piece,
 * so a large output never has to be held in memory whole. If `produce` throws (a cancelled
 * computation, a check that fails at the end), the temp file is removed and `file` is untouched.
 */
export async function writeAtomicAsync(file: string, produce: (write: (piece: string | Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = path.dirname(file)
  await mkdir(dir, { recursive: true })
  removeStaleTemps(dir, [path.basename(file)])
  const tmp = tempPath(file)
  inFlight.add(tmp)
  try {
    const handle = await open(tmp, 'wx')
    try {
      await produce(async (piece) => {
        const bytes = bytesOf(piece)
        for (let off = 0; off < bytes.length; ) off += (await handle.write(bytes, off)).bytesWritten
      })
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  } finally {
    inFlight.delete(tmp)
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`)
}

/** A CSV cell: quoted when it holds a comma, quote or newline. */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n'
}
