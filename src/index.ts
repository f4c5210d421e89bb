// The public API of alsrec. Heavy calls are async (they run on Rust threads); `Sync` twins
// exist where blocking the caller is cheap or wanted (scripts).
export { AlsrecError, type AlsrecErrorCode } from './errors.js'
export { Catalog, normalizeTitle, titleKey, type Movie, type TitleMatch, type TitleMatchKind, type ResolveOptions } from './catalog.js'
export { Dataset, loadMovieLens, loadMovieLensSync, type LoadOptions, type LoadReport, type SplitOptions, type RatingTriplets } from './dataset.js'
export { loadRatings, loadRatingsSync, loadSplit, type ColumnMapping, type LegacyColumnMapping, type LoadSplitOptions, type SplitReport, type SplitResult } from './dataset.js'
export { train, trainSync, type TrainConfig, type RankerConfig, type TrainOptions, type EpochRecord, type ModelKind } from './train.js'
export {
  Model,
  loadModel,
  loadModelSync,
  loadCatalog,
  loadCatalogSync,
  type Recommendation,
  type RecommendOptions,
  type RecommendAllResult,
  type MovieRef,
  type NewUserProfile,
  type Contribution,
  type Explanation,
  type NewUserExplanation,
  type RankingMetrics,
  type RankingOptions,
  type TrainingOverlap,
  type MovieMap,
  type NewRatings,
  type NewMovie,
  type PartialFitOptions,
  type ResolvedConfig,
} from './model.js'
export { readModel, ModelReader, type ReaderRecommendation } from './reader/index.js'
export { serve, serveCluster, type ServeOptions, type Server, type ClusterOptions, type ServerCluster, type ServedSummary } from './serve/index.js'
export { generate, generateSync, type GenerateOptions, type GenerateReport } from './generate.js'
export { samplePath } from './paths.js'
export { importSpark, writeParquet, type ImportSparkOptions, type ParquetExport, type SparkExport, type SparkImportReport } from './interop.js'
export {
  download,
  defaultCacheDir,
  MOVIELENS_DATASETS,
  DEFAULT_DOWNLOAD_BASE,
  type MovieLensName,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
} from './download.js'
export { evaluateTarget, type EvaluateOptions, type EvaluateResult, type SeenPolicy, type TrainingOverlapReport } from './experiment/index.js'
export { tune, type TuneOptions, type TuneResult, type TuneTrial } from './experiment/index.js'
export { runExperiment, runGrid, resolveConfig as resolveExperimentConfig, loadConfigFile as loadExperimentConfig, type ExperimentConfig, type ExperimentConfigInput, type ExperimentEvent, type ExperimentOptions, type ExperimentResult, type GridResult, type GridRow, type RunMetrics, type FinalMetrics } from './experiment/index.js'
export { learningCurvesSpec, rmseVsKSpec, movieMapSpec, writePlot, type CurveSeries, type RmseAtK, type MovieMapInput } from './plots/index.js'
