"""Memory of training on a long series, and memory growth across many fits, side by side.

Part 1: fit on 1,000,000 x 16 float32 rows (an ``np.memmap`` on disk) with window 64 and report
the peak resident memory added per training window and the delay until the first batch starts,
for LSTMForecaster and for the tutorial way (every window copied into one 3-D array, then
``keras.Model.fit``). Each runs in a fresh process and stops after a few batches.

Part 2: RSS growth over N sequential fits of a small model in one process, for LSTMForecaster
and for a plain Keras model.

    python benchmarks/memory.py                  # about 10 minutes on 2 cores
    python benchmarks/memory.py --rows 200000 --fits 30   # quicker
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import machine, markdown_table, peak_mb, rss_mb  # noqa: E402

WINDOW, FEATURES, BATCHES = 64, 16, 5


def stop_after_batches(started):
    import keras

    class Stop(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            started.setdefault("first_batch", time.perf_counter())

        def on_train_batch_end(self, batch, logs=None):
            if batch + 1 >= BATCHES:
                self.model.stop_training = True

    return Stop()


def child_long_series(method, path, rows):
    import keras

    # Start TensorFlow's runtime first: its start-up is not the method's memory.
    keras.ops.convert_to_numpy(keras.ops.ones(1) + 1)
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(rows, FEATURES))
    y = np.asarray(X[:, 0])
    started = {}
    base = rss_mb()
    start = time.perf_counter()
    if method == "sklstm":
        from sklstm import LSTMForecaster

        LSTMForecaster(
            window=WINDOW,
            units=16,
            epochs=1,
            batch_size=256,
            early_stopping=False,
            random_state=0,
            callbacks=[stop_after_batches(started)],
        ).fit(X, y)
    else:
        windows = np.lib.stride_tricks.sliding_window_view(X, WINDOW, axis=0)
        windows = windows.transpose(0, 2, 1).copy()
        model = keras.Sequential(
            [keras.Input((WINDOW, FEATURES)), keras.layers.LSTM(16), keras.layers.Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse")
        model.fit(
            windows,
            y[WINDOW - 1 :],
            batch_size=256,
            epochs=1,
            verbose=0,
            callbacks=[stop_after_batches(started)],
        )
    return {
        "windows": rows - WINDOW + 1,
        "added bytes": (peak_mb() - base) * 2**20,
        "seconds to first batch": started["first_batch"] - start,
    }


def child_many_fits(method, fits):
    import keras

    from sklstm import LSTMForecaster

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = X[:, 0]
    windows = np.lib.stride_tricks.sliding_window_view(X, 5, axis=0).transpose(0, 2, 1).copy()
    after = []
    for _ in range(fits):
        if method == "sklstm":
            LSTMForecaster(window=5, units=4, epochs=1, random_state=0).fit(X, y)
        else:
            model = keras.Sequential(
                [keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)]
            )
            model.compile(optimizer="adam", loss="mse")
            model.fit(windows, y[4:], epochs=1, verbose=0)
        after.append(rss_mb())
    return {
        "RSS after 1st fit (MB)": after[0],
        "growth (MB)": after[-1] - after[0],
        "MB per fit": (after[-1] - after[0]) / (fits - 1),
    }


def run_child(*args):
    out = subprocess.run(
        [sys.executable, __file__, "--child", *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fits", type=int, default=100)
    parser.add_argument("--child", nargs="+")
    parser.add_argument(
        "--out", default=str(pathlib.Path(__file__).parent / "results" / "memory.md")
    )
    args = parser.parse_args(argv)
    if args.child:
        kind, method, *rest = args.child
        result = (
            child_long_series(method, rest[0], int(rest[1]))
            if kind == "long"
            else child_many_fits(method, int(rest[0]))
        )
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "rows.f32"
        rows = np.memmap(path, dtype=np.float32, mode="w+", shape=(args.rows, FEATURES))
        rng = np.random.default_rng(0)
        for start in range(0, args.rows, 100_000):
            block = rows[start : start + 100_000]
            block[:] = rng.normal(size=block.shape).cumsum(axis=0)
        rows.flush()
        del rows
        long_rows = []
        for method, name in [
            ("copy", "3-D copy + keras fit (tutorial)"),
            ("sklstm", "LSTMForecaster"),
        ]:
            # A quarter of the series too: the difference is the cost of the extra windows,
            # without fixed costs such as building and tracing the model.
            full = run_child("long", method, path, args.rows)
            quarter = run_child("long", method, path, args.rows // 4)
            long_rows.append(
                {
                    "method": name,
                    "bytes per window": full["added bytes"] / full["windows"],
                    "marginal bytes per window": (full["added bytes"] - quarter["added bytes"])
                    / (full["windows"] - quarter["windows"]),
                    "seconds to first batch": full["seconds to first batch"],
                }
            )
            print(long_rows[-1], flush=True)
    raw_row = FEATURES * 4
    for row in long_rows:
        row["x raw row bytes"] = row["bytes per window"] / raw_row

    fit_rows = []
    for method, name in [("keras", "plain Keras model"), ("sklstm", "LSTMForecaster")]:
        fit_rows.append({"method": name, **run_child("fits", method, args.fits)})
        print(fit_rows[-1], flush=True)

    text = (
        "<!-- Written by benchmarks/memory.py; do not edit by hand. -->\n\n"
        f"Machine: {machine()}.\n\n<!-- long series -->\n\n**Training on {args.rows:,} rows x "
        f"{FEATURES} float32 features (np.memmap), window {WINDOW}.** Peak resident memory the "
        f"fit adds (after TensorFlow's start-up), per training window (a raw row is {raw_row} "
        "B); the marginal cost of a window, from the difference with a fit on a quarter of the "
        "rows; and the delay from the call to the first batch.\n\n"
        + markdown_table(
            long_rows,
            [
                "method",
                "bytes per window",
                "x raw row bytes",
                "marginal bytes per window",
                "seconds to first batch",
            ],
        )
        + f"\n\n<!-- many fits -->\n\n**{args.fits} sequential fits of a small model in one "
        "process.** Resident memory after each fit.\n\n"
        + markdown_table(
            fit_rows, ["method", "RSS after 1st fit (MB)", "growth (MB)", "MB per fit"]
        )
        + "\n\nReproduce: `python benchmarks/memory.py`\n"
    )
    pathlib.Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
