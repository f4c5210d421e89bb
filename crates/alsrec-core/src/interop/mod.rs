//! Interoperation with Apache Spark: Parquet files ([`parquet`]) and Spark MLlib `ALSModel`
//! folders ([`spark`]), both ways. `docs/spark.md` documents the layouts and the mapping of
//! hyperparameters.
mod exercise;
mod folder;
pub mod parquet;
pub mod spark;

pub use exercise::exercise_spark_part;
pub use folder::write_folder_atomic;

#[cfg(test)]
mod spark_tests;
