import { type Command } from 'commander'

import { invalidArgument } from '../../errors.js'
import { exportWeb } from '../../serve/export-web.js'
import { formatBytes, printJson } from '../shared/output.js'

interface ExportWebCliOptions {
  model?: string
  out?: string
  force?: boolean
  json?: boolean
}

export function registerExportWeb(program: Command): void {
  program
    .command('export-web')
    .description('write the explorer as a static site that answers in the browser (no server), for models up to 64 MiB')
    .option('--model <file>', 'the model file (required)')
    .option('--out <dir>', 'the folder to write (required)')
    .option('--force', 'write into a folder that is not empty')
    .option('--json', 'print JSON instead of text')
    .addHelpText('after', ['', 'Examples:', '  $ alsrec export-web --model runs/sample/model.alsrec --out site', '  $ python3 -m http.server -d site 8000    # any static file server'].join('\n'))
    .action(async (o: ExportWebCliOptions) => {
      if (o.model === undefined || o.out === undefined) throw invalidArgument('export-web needs --model <file> and --out <dir>')
      const r = await exportWeb({ model: o.model, out: o.out, force: o.force === true })
      if (o.json === true) return printJson(r)
      console.log(`Wrote the static explorer to ${r.out} (${r.movies.toLocaleString('en-US')} movies, model ${formatBytes(r.modelBytes)}); host the folder with any static file server.`)
    })
}
