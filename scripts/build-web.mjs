// Bundles the web explorer (web/) into dist/web with esbuild: one script, one stylesheet, the
// page. Everything the page loads is in that folder, so it works offline. Run by build:ts.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, 'dist', 'web')
mkdirSync(out, { recursive: true })
const common = { bundle: true, minify: true, sourcemap: true, target: ['es2020'], format: 'iife', logLevel: 'warning' }
await build({ ...common, entryPoints: [path.join(root, 'web', 'src', 'main.ts')], outfile: path.join(out, 'app.js') })
// The static export's script (alsrec export-web copies it), kept out of what `serve` serves.
const staticOut = path.join(root, 'dist', 'web-static')
mkdirSync(staticOut, { recursive: true })
await build({ ...common, sourcemap: false, entryPoints: [path.join(root, 'web', 'src', 'static-main.ts')], outfile: path.join(staticOut, 'app.js') })
copyFileSync(path.join(root, 'web', 'style.css'), path.join(out, 'app.css'))
copyFileSync(path.join(root, 'web', 'index.html'), path.join(out, 'index.html'))
