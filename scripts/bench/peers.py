#!/usr/bin/env python3
"""Peer side of `npm run bench peers`: trains one peer library's ALS on the ratings that
peers.mjs handed off, and prints JSON with the time of the library calls only (reading the
hand-off, building the input matrix and warming up JIT compilers are left outside the clock).

    python peers.py --data DIR --lib implicit|lenskit [--threads 2] [--queries users.txt --n 10]
        (--model explicit|implicit --factors K --epochs N | --serve)

One run prints one JSON line. With --serve the process reads runs from stdin, one JSON object a
line ({"model": ..., "factors": K, "epochs": N, "queries": true|false}), and answers each with
a JSON line, after a first line {"ready": true} once the data are read and numba has compiled:
that happens once per process, while peers.mjs interleaves these runs with alsrec's.

DIR holds users.npy and items.npy (raw ids, float64) and ratings.npy (float32), one entry per
rating, as peers.mjs wrote them. users.txt holds raw user ids, one a line: with queries
(implicit library only) the trained model also answers single-user and batch top-N queries.

Libraries and the calls timed:
  implicit  implicit.als.AlternatingLeastSquares(factors=K, iterations=N, num_threads=T,
            use_gpu=False, calculate_training_loss=False).fit(user_items); every pair counts 1.0
            (the library's binary implicit-feedback usage); other hyper-parameters default.
  lenskit   lenskit.algorithms.als.BiasedMF(K, iterations=N) (explicit) or ImplicitMF(K,
            iterations=N) (implicit), trained through fit_iters() on a user,item,rating data
            frame, with numba's threads set to T; other hyper-parameters default.
Per-epoch times are the library's own iteration boundaries: implicit's fit callback (its
per-iteration elapsed time), LensKit's fit_iters() yields after the first (the first also runs
the setup). wallSeconds is the whole fit call, which for both includes their setup
(transposes, initial factors; LensKit's also indexes the ids and, for BiasedMF, fits biases).
"""
import argparse
import json
import os
import sys
import time

# Thread counts must be fixed before numpy / numba load. BLAS stays single-threaded: both
# libraries run their own thread pools, and a second pool in BLAS would oversubscribe the cores.
_threads = "2"
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        _threads = sys.argv[_i + 1]
    elif _a.startswith("--threads="):
        _threads = _a.split("=", 1)[1]
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["NUMBA_NUM_THREADS"] = _threads

import numpy as np  # noqa: E402

WARMUP_RATINGS = 20000  # a slice trained once before the clock starts, so numba's JIT is not timed


def fail(msg):
    print(f"peers.py: {msg}", file=sys.stderr)
    sys.exit(2)


def read_data(d):
    users = np.load(os.path.join(d, "users.npy"), mmap_mode="r")
    items = np.load(os.path.join(d, "items.npy"), mmap_mode="r")
    ratings = np.load(os.path.join(d, "ratings.npy"), mmap_mode="r")
    if not (users.shape == items.shape == ratings.shape):
        fail(f"{d}: users, items and ratings differ in length")
    return np.asarray(users), np.asarray(items), np.asarray(ratings)


def read_ids(path):
    with open(path, encoding="utf-8") as f:
        return np.array([float(ln) for ln in f if ln.strip()], dtype=np.float64)


def diffs(start, marks):
    out, prev = [], start
    for m in marks:
        out.append(m - prev)
        prev = m
    return out


class ImplicitPeer:
    def __init__(self, a, users, items, _ratings):
        import scipy
        import scipy.sparse as sp
        import implicit
        import implicit.als

        self.a, self.implicit = a, implicit
        self.uniq_users, u = np.unique(users, return_inverse=True)
        uniq_items, i = np.unique(items, return_inverse=True)
        ui = sp.csr_matrix((np.ones(u.size, dtype=np.float32), (u, i)), shape=(self.uniq_users.size, uniq_items.size))
        ui.sum_duplicates()
        ui.data[:] = 1.0
        ui.sort_indices()
        self.user_items = ui
        self.version = implicit.__version__
        self.env = {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": scipy.__version__}
        self.query_users = None
        if a.queries:
            wanted = read_ids(a.queries)
            q = np.searchsorted(self.uniq_users, wanted)
            if q.size and (q.max() >= self.uniq_users.size or np.any(self.uniq_users[q] != wanted)):
                fail(f"{a.queries}: a user id is not in the data")
            self.query_users = q

    def run(self, model_kind, factors, epochs, queries):
        if model_kind != "implicit":
            fail("the implicit library has no explicit-rating ALS")
        model = self.implicit.als.AlternatingLeastSquares(
            factors=factors,
            iterations=epochs,
            num_threads=self.a.threads,
            use_gpu=False,
            calculate_training_loss=False,
            random_state=42,
        )
        times = []
        t = time.perf_counter()
        model.fit(self.user_items, show_progress=False, callback=lambda it, elapsed, loss: times.append(elapsed))
        wall = time.perf_counter() - t
        out = {
            "library": "implicit",
            "algorithm": type(model).__name__,
            "version": self.version,
            "env": self.env,
            "call": f"{type(model).__module__}.{type(model).__name__}(...).fit(user_items)",
            "params": {
                "factors": model.factors,
                "iterations": model.iterations,
                "regularization": model.regularization,
                "alpha": model.alpha,
                "use_cg": model.use_cg,
                "cg_steps": getattr(model, "cg_steps", None),
                "use_native": model.use_native,
                "calculate_training_loss": model.calculate_training_loss,
                "dtype": np.dtype(model.dtype).name,
                "num_threads": model.num_threads,
            },
            "users": int(self.user_items.shape[0]),
            "items": int(self.user_items.shape[1]),
            "pairs": int(self.user_items.nnz),
            "epochSeconds": times,
            "wallSeconds": wall,
        }
        if queries:
            if self.query_users is None:
                fail("queries need --queries")
            out["queries"] = self.queries(model)
        return out

    def queries(self, model):
        n, q, ui = self.a.n, self.query_users, self.user_items
        # The rows of seen items are sliced before the clock: the library call is what is timed.
        rows = [ui[int(x)] for x in q]
        batch_rows = ui[q]
        everyone = np.arange(ui.shape[0])
        model.recommend(int(q[0]), rows[0], N=n, filter_already_liked_items=True)  # warm-up
        single = []
        for x, row in zip(q, rows):
            t = time.perf_counter()
            model.recommend(int(x), row, N=n, filter_already_liked_items=True)
            single.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        ids, _ = model.recommend(q, batch_rows, N=n, filter_already_liked_items=True)
        batch = time.perf_counter() - t
        t = time.perf_counter()
        ids_all, _ = model.recommend(everyone, ui, N=n, filter_already_liked_items=True)
        every = time.perf_counter() - t
        if ids.shape != (q.size, n) or ids_all.shape[0] != everyone.size:
            fail(f"unexpected recommend shapes {ids.shape}, {ids_all.shape}")
        return {"singleMs": single, "batchSeconds": batch, "batchUsers": int(q.size), "allSeconds": every, "allUsers": int(everyone.size)}


class LenskitPeer:
    def __init__(self, a, users, items, ratings):
        import numba
        import pandas as pd
        import lenskit
        from lenskit.algorithms.als import BiasedMF, ImplicitMF

        if a.queries:
            fail("queries are timed for the implicit library only")
        self.classes = {"explicit": BiasedMF, "implicit": ImplicitMF}
        self.frame = pd.DataFrame(
            {"user": users.astype(np.int64), "item": items.astype(np.int64), "rating": ratings.astype(np.float64)}
        )
        self.version = lenskit.__version__
        self.env = {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "numba": numba.__version__,
            "pandas": pd.__version__,
            "numbaThreads": numba.config.NUMBA_NUM_THREADS,
        }
        # numba compiles on first use and caches nothing to disk: one untimed fit of each model
        # on a slice, so that no timed run pays for the compiler.
        t = time.perf_counter()
        for cls in self.classes.values():
            for _ in cls(8, iterations=2, rng_spec=42).fit_iters(self.frame.iloc[:WARMUP_RATINGS]):
                pass
        self.env["jitWarmupSeconds"] = time.perf_counter() - t

    def run(self, model_kind, factors, epochs, queries):
        if queries:
            fail("queries are timed for the implicit library only")
        cls = self.classes[model_kind]
        model = cls(factors, iterations=epochs, rng_spec=42)
        marks = []
        t = time.perf_counter()
        for _ in model.fit_iters(self.frame):
            marks.append(time.perf_counter())
        wall = marks[-1] - t
        params = {"features": model.features, "iterations": model.iterations, "method": model.method}
        if model_kind == "explicit":
            params.update({"reg": model.regularization, "damping": model.damping, "bias": model.bias is not None})
        else:
            params.update({"reg": model.reg, "weight": model.weight, "use_ratings": model.use_ratings})
        return {
            "library": "lenskit",
            "algorithm": cls.__name__,
            "version": self.version,
            "env": self.env,
            "call": f"lenskit.algorithms.als.{cls.__name__}(...).fit_iters(ratings)",
            "params": params,
            "users": int(len(model.user_index_)),
            "items": int(len(model.item_index_)),
            "pairs": int(len(self.frame)),
            "firstEpochWithSetupSeconds": marks[0] - t,
            "epochSeconds": diffs(marks[0], marks[1:]),
            "wallSeconds": wall,
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--lib", required=True, choices=["implicit", "lenskit"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--queries", help="raw user ids to query, one a line (implicit library)")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--serve", action="store_true", help="read runs from stdin, one JSON object a line")
    ap.add_argument("--model", choices=["explicit", "implicit"])
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    if not a.serve and not a.model:
        fail("give --model (one run) or --serve")
    t = time.perf_counter()
    users, items, ratings = read_data(a.data)
    peer = (ImplicitPeer if a.lib == "implicit" else LenskitPeer)(a, users, items, ratings)
    ready = time.perf_counter() - t

    def answer(model, factors, epochs, queries):
        if epochs < 1:
            fail("epochs must be at least 1")
        out = peer.run(model, factors, epochs, queries)
        out.update({"model": model, "factors": factors, "threads": a.threads, "epochs": epochs, "readySeconds": ready})
        sys.stdout.write(json.dumps(out, separators=(",", ":")) + "\n")
        sys.stdout.flush()

    if not a.serve:
        answer(a.model, a.factors, a.epochs, bool(a.queries))
        return
    sys.stdout.write(json.dumps({"ready": True, "readySeconds": ready}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if line.strip():
            r = json.loads(line)
            answer(r["model"], int(r["factors"]), int(r["epochs"]), bool(r.get("queries")))


if __name__ == "__main__":
    main()
