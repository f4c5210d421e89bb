// Runs on `npm install` in a clone: builds the native addon (needs Rust) and the TypeScript.
// An installed package never runs this: it ships dist/ and gets its addon from the
// per-platform package.
import { execSync } from 'node:child_process'

function run(cmd) {
  execSync(cmd, { stdio: 'inherit' })
}

try {
  execSync('cargo --version', { stdio: 'ignore' })
} catch {
  console.error('alsrec: building from source needs the Rust toolchain (cargo) on PATH; install it with rustup.')
  process.exit(1)
}
run('npm run build:native')
run('npm run build:ts')
