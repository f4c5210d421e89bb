// A check shared by the commands that write an experiment or grid folder (train, grid).
import path from 'node:path'

import { invalidArgument } from '../../errors.js'
import { MARKER_FILE, readMarker } from '../../experiment/folder.js'

/**
 * Refuses a run whose config.json would overwrite the config file it was read from, when that
 * file is the user's (in a folder that is not an alsrec run); forcing a folder replaces files of
 * alsrec's names, and the input config is the one the user would lose. An alsrec run's own
 * config.json may be re-run from: it is alsrec's file.
 */
export function refuseOverwritingInput(configFile: string | undefined, outDir: string): void {
  if (configFile === undefined) return
  if (path.resolve(configFile) !== path.join(path.resolve(outDir), 'config.json') || readMarker(outDir)) return
  throw invalidArgument(`${configFile} is the config.json the run would write into output.dir ${outDir} (not an alsrec run folder, no ${MARKER_FILE}); choose another output folder`)
}
