// The explorer served by `alsrec serve`: the same page answered by the server's JSON API.
import { HttpBackend } from './backend.js'
import { startExplorer } from './explorer.js'

startExplorer(new HttpBackend()).catch((err: unknown) => {
  const info = document.getElementById('model-info')
  if (info) info.textContent = `The explorer could not start: ${err instanceof Error ? err.message : String(err)}`
})
