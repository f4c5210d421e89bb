export { writePlot, toSvg, svgToPng, type PlotSpec } from './render.js'
export { learningCurvesSpec, type CurveSeries } from './learning-curves.js'
export { rmseVsKSpec, type RmseAtK } from './rmse-vs-k.js'
export { movieMapSpec, type MovieMapInput, type MovieMapOptions } from './movie-map.js'
