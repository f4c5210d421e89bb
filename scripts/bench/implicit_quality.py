#!/usr/bin/env python3
"""Peer side of the top-N quality benchmark: trains the `implicit` library's ALS on a given
training split and writes its top-N recommendations (and optionally similar items) as JSON,
for comparison with alsrec on the very same split.

    python implicit_quality.py --train train.csv --test-users users.txt --n 10 --out out.json \
        [--num-users U] [--num-items I] [--similar items.txt] [--factors 64] [--threads 2]

train.csv has the header `user,item,rating` and 0-based dense integer user and item indices
(ratings are read but ignored: every training pair gets the value 1.0, i.e. the library's
typical binary implicit-feedback usage). --num-users/--num-items give the matrix shape, so that
items never rated in training still exist; without them the shape is the largest index seen
(in train, users and similar files) plus one. users.txt and items.txt hold one index a line.

The model is implicit.als.AlternatingLeastSquares(factors=F, random_state=42) on the CPU, with
every other hyper-parameter at the library's default; the values used are recorded in the
output under "params". Needs only numpy, scipy and implicit (see peer-venv.sh).
"""
import os

# Must be set before numpy (and its OpenBLAS) loads: implicit runs its own thread pool and
# warns, and slows down badly, when OpenBLAS also spawns threads.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import implicit  # noqa: E402
import implicit.als  # noqa: E402

SEED = 42
BATCH = 2048  # users (or query items) scored per call: bounds memory at BATCH x num_items scores
FILTERED = -1e38  # scores at or below this are implicit's marks of filtered-out items (-FLT_MAX)


def fail(msg):
    print(f"implicit_quality: {msg}", file=sys.stderr)
    sys.exit(2)


def read_train(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().lstrip("\ufeff").replace(" ", "")
    if header != "user,item,rating":
        fail(f"{path}: expected the header 'user,item,rating', got {header!r}")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
    if data.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if data.shape[1] != 3:
        fail(f"{path}: expected 3 columns, got {data.shape[1]}")
    users, items = data[:, 0], data[:, 1]
    if np.any(users != np.floor(users)) or np.any(items != np.floor(items)):
        fail(f"{path}: user and item must be integer indices")
    return users.astype(np.int64), items.astype(np.int64)


def read_ids(path):
    with open(path, encoding="utf-8") as f:
        lines = [ln.strip() for ln in f]
    try:
        return np.array([int(ln) for ln in lines if ln], dtype=np.int64)
    except ValueError as e:
        fail(f"{path}: {e}")


def check_range(name, ids, size, what):
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        fail(f"{name}: {what} index out of range [0, {size}): min {ids.min()}, max {ids.max()}")


def rows(ids, scores, drop=None, n=None):
    """Lists of item ids per row, without the padding of rows that had fewer than N candidates
    (and without `drop[r]` in row r, keeping the first n). implicit's topk pads a row whose
    candidates ran out with filtered items scored -FLT_MAX (or -inf): those are dropped."""
    out = []
    for r in range(ids.shape[0]):
        keep = (ids[r] >= 0) & (scores[r] > FILTERED)
        row = ids[r][keep]
        if drop is not None:
            row = row[row != drop[r]]
        if n is not None:
            row = row[:n]
        out.append([int(i) for i in row])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", required=True, help="CSV with header user,item,rating (0-based indices)")
    ap.add_argument("--test-users", required=True, help="user indices to recommend for, one a line")
    ap.add_argument("--n", type=int, default=10, help="recommendations per user (default 10)")
    ap.add_argument("--out", required=True, help="output JSON path")
    ap.add_argument("--num-users", type=int, help="number of users (matrix rows)")
    ap.add_argument("--num-items", type=int, help="number of items (matrix columns)")
    ap.add_argument("--similar", help="item indices to find similar items for, one a line")
    ap.add_argument("--factors", type=int, default=64, help="latent factors (default 64)")
    ap.add_argument("--threads", type=int, default=2, help="implicit's num_threads (default 2)")
    a = ap.parse_args()
    if a.n < 1:
        fail("--n must be at least 1")

    users, items = read_train(a.train)
    test_users = read_ids(a.test_users)
    queries = read_ids(a.similar) if a.similar else None

    def biggest(*arrays):
        return max([int(x.max()) + 1 for x in arrays if x is not None and x.size] or [0])

    num_users = a.num_users if a.num_users is not None else biggest(users, test_users)
    num_items = a.num_items if a.num_items is not None else biggest(items, queries)
    check_range(a.train, users, num_users, "user")
    check_range(a.train, items, num_items, "item")
    check_range(a.test_users, test_users, num_users, "user")
    if queries is not None:
        check_range(a.similar, queries, num_items, "item")

    # Binary user x item CSR matrix: 1.0 for each training pair (duplicate pairs stay 1.0).
    user_items = sp.csr_matrix(
        (np.ones(users.size, dtype=np.float32), (users, items)), shape=(num_users, num_items)
    )
    user_items.sum_duplicates()
    user_items.data[:] = 1.0
    user_items.sort_indices()

    model = implicit.als.AlternatingLeastSquares(
        factors=a.factors, random_state=SEED, num_threads=a.threads, use_gpu=False
    )
    params = {
        "factors": model.factors,
        "regularization": model.regularization,
        "alpha": model.alpha,
        "iterations": model.iterations,
        "use_cg": model.use_cg,
        "use_native": model.use_native,
        "calculate_training_loss": model.calculate_training_loss,
        "dtype": np.dtype(model.dtype).name,
        "random_state": model.random_state,
        "num_threads": model.num_threads,
        "implementation": type(model).__module__ + "." + type(model).__name__,
        "confidence": "binary 1.0 per training pair (times alpha)",
    }

    t = time.perf_counter()
    model.fit(user_items, show_progress=False)
    fit_seconds = time.perf_counter() - t

    # N beyond the number of items would make topk pad with item 0 scored 0: cap it.
    top_n = min(a.n, num_items)
    t = time.perf_counter()
    recs = []
    for s in range(0, test_users.size, BATCH):
        batch = test_users[s : s + BATCH]
        ids, scores = model.recommend(batch, user_items[batch], N=top_n, filter_already_liked_items=True)
        recs.extend(rows(np.atleast_2d(ids), np.atleast_2d(scores)))
    recommend_seconds = time.perf_counter() - t

    out = {
        "library": "implicit",
        "version": implicit.__version__,
        "env": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__},
        "params": params,
        "numUsers": num_users,
        "numItems": num_items,
        "trainPairs": int(user_items.nnz),
        "n": a.n,
        "fitSeconds": fit_seconds,
        "recommendSeconds": recommend_seconds,
        "users": [int(u) for u in test_users],
        "items": recs,
    }

    if queries is not None:
        t = time.perf_counter()
        similar = []
        for s in range(0, queries.size, BATCH):
            batch = queries[s : s + BATCH]
            ids, scores = model.similar_items(batch, N=min(a.n + 1, num_items))
            similar.extend(rows(np.atleast_2d(ids), np.atleast_2d(scores), drop=batch, n=a.n))
        out["similarSeconds"] = time.perf_counter() - t
        out["similarQueries"] = [int(i) for i in queries]
        out["similar"] = similar

    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
