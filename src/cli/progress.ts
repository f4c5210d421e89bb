// Progress bars for long commands: on stderr when it is a terminal, silent otherwise (pipes,
// CI, --json), so scripted output stays clean.
import cliProgress from 'cli-progress'

import type { ExperimentEvent } from '../experiment/runner.js'

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
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
  }
  process.on('SIGINT', onSigint)
  return { signal: controller.signal, interrupted: () => controller.signal.aborted, dispose: () => process.off('SIGINT', onSigint) }
}

/** Exit code of a process stopped by SIGINT (128 + 2), as shells report it. */
export const EXIT_INTERRUPTED = 130
