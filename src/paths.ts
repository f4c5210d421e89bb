import path from 'node:path'

/** The package root (this file lives in dist/ or src/ one level below it). */
export const packageRoot = path.resolve(__dirname, '..')

/** The bundled synthetic sample, in MovieLens format. */
export const samplePath = path.join(packageRoot, 'data', 'sample')
