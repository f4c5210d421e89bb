"""Loads alsrec-exported ALSModel folders in real Spark and answers the interop test's queries.

  python query_models.py queries.json   (prints one JSON line: the answers)

queries.json: [{"dir": ..., "pairs": [[user, movie], ...], "users": [user, ...], "n": 10}, ...]
Answers: [{"rank": r, "predictions": [...], "recommendations": {user: [movie, ...]}}, ...]
"""
import json
import sys

from pyspark.sql import SparkSession
from pyspark.ml.recommendation import ALSModel

spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
answers = []
for q in json.load(open(sys.argv[1])):
    model = ALSModel.load(q["dir"])
    pairs = spark.createDataFrame([(i, int(u), int(m)) for i, (u, m) in enumerate(q["pairs"])], "i int, user int, item int")
    predicted = {r["i"]: r["prediction"] for r in model.transform(pairs).collect()}
    users = spark.createDataFrame([(int(u),) for u in q["users"]], "user int")
    recs = {str(r["user"]): [x["item"] for x in r["recommendations"]] for r in model.recommendForUserSubset(users, int(q["n"])).collect()}
    answers.append({"rank": model.rank, "predictions": [predicted.get(i) for i in range(len(q["pairs"]))], "recommendations": recs})
print(json.dumps(answers))
spark.stop()
