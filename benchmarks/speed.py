"""Training throughput of LSTMForecaster against the plain Keras recipe, side by side.

Both train the same architecture (LSTM(64) -> Dense(1) on 64-step windows of 16 float32
features) at the same batch size; the plain recipe gets the 3-D windows copied into memory, as
tutorials build them. Throughput is training windows per second over the epochs after the first
(the first pays for tracing). The fraction of peak relates the model's training FLOPs to the
float32 matmul rate that TensorFlow reaches in the same process.

A shared machine's speed drifts by more than the differences measured here, so every variant
runs once per round, the rounds repeat, and each variant's ratio to the plain recipe is taken
within its round: the table gives the median over rounds and their range.

    python benchmarks/speed.py            # about 10 minutes on 2 cores
    python benchmarks/speed.py --quick    # smaller series, fewer rounds
"""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import epoch_timer, machine, markdown_table, matmul_peak_gflops  # noqa: E402

WINDOW, FEATURES, UNITS = 64, 16, 64
VARIANT_ROWS = 2_000


def training_flops_per_window():
    # Per step an LSTM does 4 gate matmuls of (features + units) x units; the backward pass
    # costs about twice the forward one.
    forward = 2 * 4 * UNITS * (FEATURES + UNITS) * WINDOW
    return 3 * forward


def plain_keras(rows, y, batch_size, epochs, jit_compile=False, dtype=None, unroll=False):
    import keras

    windows = np.lib.stride_tricks.sliding_window_view(rows, WINDOW, axis=0)
    windows = windows.transpose(0, 2, 1).copy()  # the tutorial way: every window in memory
    # dtype per layer (not keras.mixed_precision.set_global_policy): no process-wide state.
    model = keras.Sequential(
        [
            keras.Input((WINDOW, FEATURES)),
            keras.layers.LSTM(UNITS, dtype=dtype, unroll=unroll),
            keras.layers.Dense(1, dtype="float32"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit_compile)
    timer = epoch_timer()
    model.fit(
        windows,
        y[WINDOW - 1 : len(rows)],
        batch_size=batch_size,
        epochs=epochs,
        verbose=0,
        callbacks=[timer],
    )
    return len(windows), timer.seconds


def sklstm_forecaster(rows, y, batch_size, epochs, **params):
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
        **params,
    ).fit(rows, y)
    return len(rows) - WINDOW + 1, timer.seconds


def variants():
    """Name -> (function, keyword arguments, rows used) of every variant timed."""
    return {
        "plain Keras (copied windows)": (plain_keras, {}, None),
        # Options the plain recipe could turn on. jit and bfloat16 are slow on this kind of CPU,
        # so they train on fewer rows (throughput per window does not depend on their number).
        "plain Keras, jit_compile=True": (plain_keras, {"jit_compile": True}, VARIANT_ROWS),
        "plain Keras, mixed_bfloat16 LSTM": (
            plain_keras,
            {"dtype": "mixed_bfloat16"},
            VARIANT_ROWS,
        ),
        "plain Keras, unroll=True": (plain_keras, {"unroll": True}, None),
        "LSTMForecaster, same architecture": (
            sklstm_forecaster,
            {"highway": False, "centering": None},
            None,
        ),
        "LSTMForecaster, defaults (highway, centering)": (sklstm_forecaster, {}, None),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--out", default=str(pathlib.Path(__file__).parent / "results" / "speed.md")
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.epochs, args.rounds = 3_000, 2, 2

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(args.rows, FEATURES)).astype(np.float32)
    y = rows[:, 0].cumsum() / 50  # any target: throughput does not depend on its values

    peaks, speeds = [], {}  # speeds[(batch, name)]: windows/s, one per round
    for round_ in range(args.rounds):
        peaks.append(matmul_peak_gflops())
        for batch_size in (32, 256):
            for name, (train, kwargs, n_rows) in variants().items():
                n_windows, seconds = train(
                    rows[:n_rows], y[:n_rows], batch_size, args.epochs, **kwargs
                )
                speed = n_windows / float(np.median(seconds[1:]))
                speeds.setdefault((batch_size, name), []).append(speed)
                print(f"round {round_ + 1}, batch {batch_size}, {name}: {speed:.0f}", flush=True)

    peak = float(np.median(peaks))
    flops = training_flops_per_window()
    results = []
    for (batch_size, name), per_round in speeds.items():
        ratios = np.divide(per_round, speeds[(batch_size, "plain Keras (copied windows)")])
        results.append(
            {
                "batch": batch_size,
                "model": name,
                "windows/s": round(float(np.median(per_round))),
                "x plain Keras": float(np.median(ratios)),
                "range over rounds": f"{ratios.min():.2f}-{ratios.max():.2f}",
                "fraction of matmul peak": float(np.median(per_round)) * flops / (peak * 1e9),
            }
        )

    columns = ["batch", "model", "windows/s", "x plain Keras", "range over rounds"]
    table = markdown_table(results, [*columns, "fraction of matmul peak"])
    text = (
        "<!-- Written by benchmarks/speed.py; do not edit by hand. -->\n\n"
        f"Machine: {machine()}. float32 matmul peak measured in the same process: "
        f"{peak:.1f} GFLOP/s (median of {args.rounds} rounds, range "
        f"{min(peaks):.1f}-{max(peaks):.1f}). Series: {args.rows} rows x {FEATURES} features, "
        f"window {WINDOW}, LSTM({UNITS}); throughput is the median of epochs 2..{args.epochs} "
        f"of a fit; every variant ran once in each of {args.rounds} rounds, and its ratio to the "
        f"plain recipe is taken within a round (median and range over rounds).\n\n{table}\n\n"
        f"Reproduce: `python benchmarks/speed.py{' --quick' if args.quick else ''}`\n"
    )
    pathlib.Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
