"""LSTMSearchCV on bundled data: pruning saving, memory over a long search, worker speedup.

    python benchmarks/search.py pruning    # pruned vs unpruned search: epochs run, best score
    python benchmarks/search.py pruning --pruners auto percentile:25:5 percentile:10:3 --seeds 0 1
    python benchmarks/search.py memory     # RSS of a 50-trial search, recycled workers vs not
    python benchmarks/search.py parallel   # the same search with n_jobs=1 and n_jobs=2

Compute is counted in training epochs (summed over every fold of every trial), which does not
depend on how busy the machine is; wall times are printed too. Memory is the resident set of
the search's process plus its worker processes, read from /proc.
"""

import argparse
import os
import pathlib
import sys
import threading
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import machine, markdown_table  # noqa: E402


def weather(n_rows):
    from sklstm import make_horizon_target
    from sklstm.datasets import load_seattle_weather

    X, y = make_horizon_target(load_seattle_weather()[:n_rows], "temp_max", horizon=1)
    return X, y


def space(max_units):
    from optuna.distributions import CategoricalDistribution as C
    from optuna.distributions import FloatDistribution as F
    from optuna.distributions import IntDistribution as I  # noqa: E741

    return {
        "units": I(4, max_units, log=True),
        "n_layers": I(1, 2),
        "dropout": F(0.0, 0.5),
        "bidirectional": C([False, True]),
        "learning_rate": F(1e-4, 3e-2, log=True),
    }


def search(pruner, n_trials, seed, **kwargs):
    from sklearn.model_selection import TimeSeriesSplit

    from sklstm import LSTMForecaster, LSTMSearchCV

    params = dict(
        n_trials=n_trials,
        cv=TimeSeriesSplit(4),
        scoring="neg_mean_absolute_error",
        pruner=pruner,
        random_state=seed,
        refit=False,
    )
    params.update(kwargs)
    forecaster = LSTMForecaster(window=7, epochs=10, patience=2, batch_size=64)
    return LSTMSearchCV(forecaster, space(16), **params)


def make_pruner(spec):
    """A pruner from its name on the command line.

    "none", "auto" (LSTMSearchCV's default), "percentile:P:S" (PercentilePruner(P,
    n_startup_trials=S)) or "halving:R" (SuccessiveHalvingPruner(reduction_factor=R)).
    """
    import optuna

    kind, *numbers = spec.split(":")
    if kind == "none":
        return None
    if kind == "auto":
        return "auto"
    if kind == "percentile":
        percentile, startup = float(numbers[0]), int(numbers[1])
        return optuna.pruners.PercentilePruner(percentile, n_startup_trials=startup)
    if kind == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(reduction_factor=int(numbers[0]))
    raise ValueError(f"unknown pruner {spec!r}")


def pruning(args):
    X, y = weather(730)
    rows = []
    for seed in args.seeds:
        for spec in ["none", *(p for p in args.pruners if p != "none")]:
            # With n_jobs=1 and a seed, a search of k trials runs exactly the first k trials of
            # a longer one: one search gives the figures of every length in --report-at.
            # Memory is not measured here: one worker per 50 fits saves TensorFlow imports.
            s = search(make_pruner(spec), max(args.report_at), seed, fits_per_process=50).fit(X, y)
            res = s.cv_results_
            for k in args.report_at:
                first = res["number"] < k
                complete = first & (res["state"] == "COMPLETE")
                rows.append(
                    {
                        "seed": seed,
                        "pruner": spec,
                        "trials": int(first.sum()),
                        "pruned": int(np.sum(first & (res["state"] == "PRUNED"))),
                        "epochs": int(res["n_epochs"][first].sum()),
                        # What pruning inside a fold (per epoch) could save at most.
                        "epochs in pruned": int(res["n_epochs"][first & ~complete].sum()),
                        "fit s": float(res["fit_time"][first].sum()),
                        "best MAE": float(-res["mean_test_score"][complete].max()),
                    }
                )
                print(rows[-1], flush=True)
    for row in rows:
        off = next(
            r
            for r in rows
            if (r["seed"], r["trials"], r["pruner"]) == (row["seed"], row["trials"], "none")
        )
        row["ratio"] = f"{off['epochs'] / row['epochs']:.2f}"
        row["MAE vs none"] = f"{100 * (row['best MAE'] / off['best MAE'] - 1):+.2f} %"
    for row in rows:  # after the comparisons above, which need the floats
        row["best MAE"] = f"{row['best MAE']:.4f}"
        row["fit s"] = round(row["fit s"])
    rows.sort(key=lambda r: (r["seed"], r["trials"]))
    print(markdown_table(rows, list(rows[0])))


def rss_mb(pid):
    """Resident memory of a process and all its descendants, in MB."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024


def memory(args):
    from sklstm import LSTMForecaster, LSTMSearchCV

    X, y = weather(200)
    # One fold per trial: each trial is one fit, the unit in which Keras leaks.
    one_fold = [(np.arange(150), np.arange(150, len(X)))]
    rows = []
    for fits_per_process in args.fits_per_process:
        s = LSTMSearchCV(
            LSTMForecaster(window=5, epochs=1, batch_size=64),
            space(8),
            n_trials=args.n_trials,
            cv=one_fold,
            pruner=None,
            random_state=0,
            refit=False,
            fits_per_process=None if fits_per_process == 0 else fits_per_process,
        )
        samples, done = [], threading.Event()

        def watch(s=s, samples=samples, done=done):
            while not done.wait(0.2):
                study = getattr(s, "study_", None)
                n = len(study.trials) - 1 if study is not None else 0  # the running one
                samples.append((max(n, 0), rss_mb(os.getpid())))

        watcher = threading.Thread(target=watch)
        watcher.start()
        start = time.perf_counter()
        s.fit(X, y)
        done.set()
        watcher.join()
        after_first = [mb for n, mb in samples if n >= 1]
        rows.append(
            {
                "fits_per_process": str(fits_per_process),
                "trials": s.n_trials_,
                "RSS after trial 1 (MB)": round(after_first[0]),
                "RSS at the end (MB)": round(after_first[-1]),
                "growth at the end (MB)": round(after_first[-1] - after_first[0]),
                "peak growth (MB)": round(max(after_first) - after_first[0]),
                "wall s": time.perf_counter() - start,
            }
        )
        print(rows[-1], flush=True)
    print(markdown_table(rows, list(rows[0])))


def parallel(args):
    from sklearn.model_selection import TimeSeriesSplit

    X, y = weather(365)
    rows = []
    for n_jobs in (1, 2):
        start = time.perf_counter()
        s = search(None, args.n_trials, 0, n_jobs=n_jobs, cv=TimeSeriesSplit(2)).fit(X, y)
        rows.append(
            {
                "n_jobs": n_jobs,
                "trials": s.n_trials_,
                "epochs": int(s.cv_results_["n_epochs"].sum()),
                "wall s": time.perf_counter() - start,
            }
        )
        print(rows[-1], flush=True)
    rows[1]["speedup"] = rows[0]["wall s"] / rows[1]["wall s"]
    rows[0]["speedup"] = 1.0
    print(markdown_table(rows, list(rows[0])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("pruning", "memory", "parallel"))
    parser.add_argument("--n-trials", type=int, default=None, help="memory, parallel")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--pruners", nargs="+", default=["auto"], help="pruning: see make_pruner; none always runs"
    )
    parser.add_argument("--report-at", type=int, nargs="+", default=[24, 48], help="pruning")
    parser.add_argument(
        "--fits-per-process", type=int, nargs="+", default=[10, 0], help="0: fit in-process"
    )
    args = parser.parse_args()
    if args.n_trials is None:  # pruning runs max(--report-at) trials
        args.n_trials = {"memory": 50, "parallel": 4}.get(args.what)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{args.what} on {machine()}", flush=True)
    {"pruning": pruning, "memory": memory, "parallel": parallel}[args.what](args)


if __name__ == "__main__":
    main()
