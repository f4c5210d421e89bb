// Progress and interruption for long commands. Bars go to stderr when it is a terminal and are
// silent otherwise (pipes, CI, --json), so scripted output stays clean.
import cliProgress from 'cli-progress'

import type { ExperimentEvent } from '../../experiment/runner.js'
import { EXIT_INTERRUPTED } from './exit-codes.js'

/**
 * A one-line progress bar on stderr (downloads), redrawn at most every 100 ms. It draws only when
 * enabled and stderr is a terminal.
 */
export class ProgressBar {
  private readonly enabled: boolean
  private lastDraw = 0
  private drawn = false

  constructor(enabled = process.stderr.isTTY === true) {
    this.enabled = enabled
  }

  /** `fraction` in [0, 1] or null when the total is unknown; `text` follows the bar. */
  update(label: string, fraction: number | null, text: string, force = false): void {
    if (!this.enabled) return
    const now = performance.now()
    if (!force && now - this.lastDraw < 100) return
    this.lastDraw = now
    const width = 30
    const bar =
      fraction === null
        ? ''
        : `[${'#'.repeat(Math.round(Math.min(1, Math.max(0, fraction)) * width)).padEnd(width, '-')}] ${(fraction * 100).toFixed(0).padStart(3)}% `
    process.stderr.write(`\r\x1b[2K${label} ${bar}${text}`)
    this.drawn = true
  }

  /** Ends the bar's line so the next output starts on a fresh one. */
  done(): void {
    if (this.enabled && this.drawn) process.stderr.write('\n')
    this.drawn = false
  }
}

/** Multi-bar progress of experiment and grid runs (runs, and epochs of the current run). */

export interface ProgressReporter {
  onProgress: (event: ExperimentEvent) => void
  stop: () => void
}

export function progressReporter(enabled: boolean): ProgressReporter {
  if (!enabled || !process.stderr.isTTY) return { onProgress: () => {}, stop: () => {} }
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, clearOnComplete: false, hideCursor: true, format: ' {label} [{bar}] {value}/{total} {info}', barsize: 28 },
    cliProgress.Presets.shades_classic,
  )
  let overall: cliProgress.SingleBar | undefined
  let run: cliProgress.SingleBar | undefined
  let lastEpoch = 0
  return {
    onProgress(event) {
      switch (event.type) {
        case 'status':
          bars.log(`${event.message}\n`)
          break
        case 'run-start':
          if (event.total > 1) {
            overall ??= bars.create(event.total, 0, { label: 'runs  ', info: '' })
            overall.update(event.index, { info: event.run })
          }
          if (run) bars.remove(run)
          run = bars.create(event.epochs, 0, { label: 'epochs', info: '' })
          lastEpoch = 0
          break
        case 'epoch':
          lastEpoch = event.record.epoch
          run?.update(event.record.epoch, { info: `test RMSE ${event.record.testRmse?.toFixed(4) ?? '-'}` })
          break
        case 'run-end':
          // Training may stop early (tolerance, patience): show the bar as complete.
          run?.setTotal(lastEpoch)
          overall?.increment()
          break
      }
    },
    stop: () => bars.stop(),
  }
}

/**
 * Ctrl-C aborts the work through an AbortSignal (the current training stops within an epoch);
 * a second Ctrl-C exits at once.
 */
export function abortOnSigint(): { signal: AbortSignal; interrupted: () => boolean; dispose: () => void } {
  const controller = new AbortController()
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED)
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  return { signal: controller.signal, interrupted: () => controller.signal.aborted, dispose: () => process.off('SIGINT', onSigint) }
}
