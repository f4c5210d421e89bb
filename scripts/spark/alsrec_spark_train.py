"""The Spark job of `alsrec train --engine spark` (docs/spark.md).

Reads the training ratings (Parquet: userId, movieId, rating), fits the biases with Spark SQL,
fits MLlib ALS on the residuals, and writes a Spark ALSModel folder in alsrec's augmented
layout (u' = [u, b_u, 1], v' = [v, 1, mu + c_n], rank k + 2) with alsrec.json beside it, which
`alsrec import spark` (and the train command) reads back. Spark loads the folder too, and its
predictions then include the biases.

Runs under spark-submit (the master comes from --master of spark-submit) or as a plain Python
script with the pyspark package (the master comes from --master here). Progress goes to stdout
as lines `alsrec-progress {json}`; everything else Spark prints is the log.
"""
import argparse
import json
import os
import sys
import time


def progress(**event):
    print("alsrec-progress " + json.dumps(event), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--train", required=True, help="training ratings (Parquet)")
    p.add_argument("--out", required=True, help="the folder to write (must not exist)")
    p.add_argument("--config", required=True, help="alsrec's resolved training config (JSON)")
    p.add_argument("--reg-param", type=float, required=True)
    p.add_argument("--bias-damping", type=float, required=True)
    p.add_argument("--master", default=None)
    p.add_argument("--partitions", type=int, default=0)
    p.add_argument("--blocks", type=int, default=0, help="ALS user and item blocks (default: Spark's 10; the cores on a local master)")
    p.add_argument("--checkpoint-dir", default=None, help="ALS checkpoints (a temp folder on local masters; give one on HDFS for a cluster)")
    a = p.parse_args()
    config = json.load(open(a.config))
    implicit = config["model"] == "implicit"
    k = int(config["factors"])
    started = time.time()

    from pyspark.sql import SparkSession, functions as F
    from pyspark.ml.recommendation import ALS

    builder = SparkSession.builder.appName("alsrec-train")
    if a.master:
        builder = builder.master(a.master)
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    if (a.master or "").startswith("local"):
        # Spark's default of 200 shuffle partitions is for clusters: on one machine each stage
        # would run 200 tiny tasks.
        builder = builder.config("spark.sql.shuffle.partitions", str(a.partitions or 4))
        # ALS's lineage grows with every iteration; deep plans need a deeper stack.
        builder = builder.config("spark.driver.extraJavaOptions", "-Xss16m")
    spark = builder.getOrCreate()
    # ALS checkpoints its factors every 10 iterations (checkpointInterval) only when a
    # checkpoint folder is set; without one, many iterations overflow the stack.
    checkpoints = a.checkpoint_dir
    if checkpoints is None and spark.sparkContext.master.startswith("local"):
        import tempfile
        checkpoints = tempfile.mkdtemp(prefix="alsrec-spark-checkpoints-")
    if checkpoints:
        spark.sparkContext.setCheckpointDir(checkpoints)
    spark.sparkContext.setLogLevel("WARN")
    progress(phase="start", spark=spark.version, master=spark.sparkContext.master)

    ratings = spark.read.parquet(a.train).select(
        F.col("userId").cast("int").alias("user"),
        F.col("movieId").cast("int").alias("item"),
        F.col("rating").cast("float").alias("rating"),
    )
    if a.partitions > 0:
        ratings = ratings.repartition(a.partitions)
    ratings = ratings.cache()
    n = ratings.count()
    progress(phase="read", ratings=n)

    mu = 0.0
    if not implicit:
        # Biases by alternating damped means (two rounds): c_n = sum(r - mu - b_u) / (n_n + d),
        # b_u = sum(r - mu - c_n) / (n_u + d), d = gamma / lambda (alsrec's bias regularization
        # relative to its data weight; scaled by the count under weightedRegularization).
        mu = float(ratings.agg(F.avg("rating")).first()[0])
        d = a.bias_damping
        weighted = bool(config.get("weightedRegularization"))

        def damped(col_sum, col_n):
            return col_sum / (col_n * (1.0 + d) if weighted else col_n + d)

        ub = spark.createDataFrame([], "user int, bu double")
        ib = None
        for _ in range(2):
            ib = (
                ratings.join(ub, "user", "left")
                .groupBy("item")
                .agg(F.sum(F.col("rating") - mu - F.coalesce(F.col("bu"), F.lit(0.0))).alias("s"), F.count("*").alias("n"))
                .select("item", damped(F.col("s"), F.col("n")).alias("ci"))
                .cache()
            )
            ub = (
                ratings.join(ib, "item", "left")
                .groupBy("user")
                .agg(F.sum(F.col("rating") - mu - F.coalesce(F.col("ci"), F.lit(0.0))).alias("s"), F.count("*").alias("n"))
                .select("user", damped(F.col("s"), F.col("n")).alias("bu"))
                .cache()
            )
        residuals = (
            ratings.join(ub, "user").join(ib, "item")
            .select("user", "item", (F.col("rating") - mu - F.col("bu") - F.col("ci")).cast("float").alias("r"))
            .cache()
        )
        residuals.count()
        progress(phase="biases", mu=mu, seconds=time.time() - started)
    else:
        residuals = ratings.withColumnRenamed("rating", "r")

    blocks = a.blocks
    if blocks <= 0 and spark.sparkContext.master.startswith("local"):
        # Spark's 10 blocks per side are for clusters; on one machine, one block per core.
        blocks = max(1, spark.sparkContext.defaultParallelism)
    extra = {"numUserBlocks": blocks, "numItemBlocks": blocks} if blocks > 0 else {}
    als = ALS(
        **extra,
        rank=k,
        maxIter=int(config["epochs"]),
        regParam=a.reg_param,
        implicitPrefs=implicit,
        alpha=float(config.get("alpha", 1.0)),
        seed=int(config["seed"]) % (2**63),
        userCol="user",
        itemCol="item",
        ratingCol="r",
        coldStartStrategy="nan",
    )
    fit_start = time.time()
    model = als.fit(residuals)
    # Fitting is lazy up to the factors' materialization: count them inside the timing.
    model.userFactors.count()
    model.itemFactors.count()
    fit_seconds = time.time() - fit_start
    progress(phase="fit", seconds=fit_seconds, iterations=int(config["epochs"]))

    # Train RMSE of the full prediction, for the history.
    pred = model.transform(residuals).na.drop()
    train_rmse = float(pred.agg(F.sqrt(F.avg((F.col("r") - F.col("prediction")) ** 2))).first()[0] or 0.0)

    out = a.out
    os.makedirs(out)
    if implicit:
        uf, vf, rank, layout = model.userFactors, model.itemFactors, k, "plain"
    else:
        one = F.lit(1.0).cast("float")
        uf = model.userFactors.join(ub.withColumnRenamed("user", "id"), "id", "left").select(
            "id", F.concat("features", F.array(F.coalesce(F.col("bu"), F.lit(0.0)).cast("float"), one)).alias("features"))
        vf = model.itemFactors.join(ib.withColumnRenamed("item", "id"), "id", "left").select(
            "id", F.concat("features", F.array(one, (F.lit(mu) + F.coalesce(F.col("ci"), F.lit(0.0))).cast("float"))).alias("features"))
        rank, layout = k + 2, "augmented"
    uf.write.parquet(os.path.join(out, "userFactors"))
    vf.write.parquet(os.path.join(out, "itemFactors"))
    meta = {
        "class": "org.apache.spark.ml.recommendation.ALSModel",
        "timestamp": int(time.time() * 1000),
        "sparkVersion": spark.version,
        "uid": model.uid,
        "paramMap": {"blockSize": 4096},
        "defaultParamMap": {"coldStartStrategy": "nan", "predictionCol": "prediction", "blockSize": 4096, "userCol": "user", "itemCol": "item"},
        "rank": rank,
    }
    os.makedirs(os.path.join(out, "metadata"))
    with open(os.path.join(out, "metadata", "part-00000"), "w") as f:
        f.write(json.dumps(meta) + "\n")
    seconds = time.time() - started
    sidecar = {
        "format": "alsrec-spark",
        "version": 1,
        "layout": layout,
        "k": k,
        "mu": mu,
        "config": dict(config, ranker=None),
        "history": [{"epoch": int(config["epochs"]), "trainRmse": train_rmse, "seconds": seconds}],
        "engine": "spark",
        "spark": {"version": spark.version, "master": spark.sparkContext.master, "regParam": a.reg_param,
                  "fitSeconds": fit_seconds, "secondsPerIteration": fit_seconds / max(1, int(config["epochs"]))},
    }
    if not implicit:
        # The imported model folds rows in as Spark trains them: regParam scaled by the count.
        sidecar["config"].update(weightedRegularization=True, tau=a.reg_param * float(config["lambda"]),
                                 gamma=a.bias_damping * float(config["lambda"]))
    with open(os.path.join(out, "alsrec.json"), "w") as f:
        json.dump(sidecar, f, indent=1)
    progress(phase="done", seconds=seconds, trainRmse=train_rmse)
    spark.stop()
    if checkpoints and a.checkpoint_dir is None:
        import shutil
        shutil.rmtree(checkpoints, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # one line for alsrec's error; the traceback is in the log
        import traceback
        traceback.print_exc()
        print("alsrec-error " + json.dumps({"message": f"{type(e).__name__}: {e}".splitlines()[0]}), flush=True)
        sys.exit(1)
