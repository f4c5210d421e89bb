// The explorer of a static export (`alsrec export-web`): the same page, answered in the page.
import { startExplorer } from './explorer.js'
import { StaticBackend } from './static-backend.js'

StaticBackend.load()
  .then((backend) => startExplorer(backend))
  .catch((err: unknown) => {
    const info = document.getElementById('model-info')
    if (info) info.textContent = `The explorer could not start: ${err instanceof Error ? err.message : String(err)}`
  })
