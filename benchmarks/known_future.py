"""Known-future inputs: forecast accuracy with and without the known-future block.

On real series whose inputs are known ahead (a calendar, a planned policy, temperature as a
stand-in for a weather forecast), every model forecasts the same targets from the same origins
with the suite's protocol (``benchmarks/suite.py``: window and horizon from the frequency, the
last 20 % of origins scored after a gap of ``horizon`` origins, one fit on the origins before,
MAE on the original scale), in three layouts of the same information:

- ``past``: X holds the data's columns only (today's default, no future values);
- ``block``: ``make_horizon_target(..., known=KNOWN)`` adds the known columns' values at
  ``t + 1 .. t + horizon``; LSTMForecaster reads them once per row beside the LSTM's final
  state and in its linear part (``known_future="auto"``), the ridge baseline gets them once
  per row from ``SlidingWindowTransformer``;
- ``in_window`` (LSTMForecaster only): the same columns as ordinary inputs
  (``known_future=None``), repeated at every step of the window: the alternative design.

Models: ``lstm`` is ``LSTMForecaster(window=window, random_state=seed)`` with its defaults
(the same budget in every layout), ``ridge`` the suite's tuned ridge on flattened windows,
``persistence`` the reference of the MAE ratio.

Series (``KNOWN`` below): fpp2 ``elecdaily`` (daily demand, WorkDay and Temperature known),
fpp2 ``elecdemand`` averaged to hourly rows (the same inputs, hourly), R ``Seatbelts`` (the
1983 seat-belt law, decided ahead, is the known input; the other traffic inputs are not).

Reproduce ``benchmarks/results/known_future.{csv,md}``::

    TF_CPP_MIN_LOG_LEVEL=2 nice -n 5 python benchmarks/known_future.py --seeds 0 1 2

Design choices use ``--dev`` (each series' training rows split 80/20 again, the test rows
never seen), which writes ``known_future_dev.{csv,md}``; ``--block-scale S`` sets the linear
part's scale of the block (``sklstm._linear.BLOCK_SCALE``, the penalty divided by its square)
and ``--linear-only`` scores LSTMForecaster's linear part alone (the suite's
``lstm_forecaster_linear``)::

    python benchmarks/known_future.py --dev --series elecdaily --block-scale 1 --out /tmp/s1
"""

import argparse
import pathlib
import sys
import time

import numpy as np
import pandas as pd

from sklstm._evaluation import markdown_table

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402
import suite_series  # noqa: E402
from _common import machine  # noqa: E402

# Series -> the columns whose future values are known when forecasting.
KNOWN = {
    "elecdaily": ["WorkDay", "Temperature"],
    "elecdemand_hourly": ["WorkDay", "Temperature"],
    "seatbelts": ["law"],
}
LAYOUTS = ("past", "block", "in_window")


def load(name):
    """``(frame, targets, window, horizon)`` of a series."""
    if name == "elecdemand_hourly":
        frame, spec = suite_series.load("elecdemand_30min")
        # Hourly means of the half-hours; WorkDay is constant within a day.
        frame = frame.resample("h").mean()
        window, horizon = suite_series.window_horizon("h")
        return frame, list(spec.targets), window, horizon
    frame, spec = suite_series.load(name)
    return frame, list(spec.targets), spec.window, spec.horizon


def prepare(name, dev=False):
    from sklstm import make_horizon_target

    frame, targets, window, horizon = load(name)
    if dev:
        n_train, _ = suite.split(len(frame) - horizon, horizon)
        frame = frame.iloc[: n_train + horizon]
    X_block, y = make_horizon_target(frame, targets, horizon=horizon, known=KNOWN[name])
    n_train, test_start = suite.split(len(y), horizon)
    return {
        "X": {"past": X_block[list(frame.columns)], "block": X_block, "in_window": X_block},
        "y": y,
        "values": frame[targets].to_numpy(dtype=float),
        "window": window,
        "horizon": horizon,
        "n_train": n_train,
        "test_start": test_start,
        "rows": len(frame),
    }


def fit_lstm(data, layout, seed, max_epochs, linear_only=False):
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    params = {"window": window, "random_state": seed}
    if layout == "in_window":
        params["known_future"] = None
    if max_epochs:
        params["epochs"] = max_epochs
    model = suite.lstm_forecaster(params, linear_only)
    X, y = data["X"][layout], data["y"]
    start = time.perf_counter()
    model.fit(X.iloc[:n_train], y.iloc[:n_train])
    seconds = time.perf_counter() - start
    # From window - 1 rows before the first test origin: every test window is of true rows.
    context = X.iloc[test_start - (window - 1) :]
    pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
    return pred, seconds, model.n_iter_, model.linear_only_


def fit_ridge(data, layout):
    spec = {
        "X": data["X"][layout],
        "y": data["y"].to_numpy(dtype=float),
        "window": data["window"],
        "horizon": data["horizon"],
        "n_train": data["n_train"],
        "test_start": data["test_start"],
    }
    pred, seconds, _ = suite.fit_ridge(spec, None)
    return pred, seconds


def run(names, seeds, max_epochs, dev, log, layouts=LAYOUTS, save=None, linear_only=False):
    rows = []
    for name in names:
        data = prepare(name, dev)
        horizon, test_start = data["horizon"], data["test_start"]
        y_test = data["y"].to_numpy(dtype=float)[test_start:]
        origins = np.arange(test_start, len(data["y"]))
        naive = suite._mae(y_test, suite.as_y(suite.persistence(data["values"], origins, horizon)))
        log(
            f"\n{name}: {data['rows']} rows, window {data['window']}, horizon {horizon}, "
            f"known {KNOWN[name]}; {data['n_train']} training, {len(origins)} test origins"
        )
        base = {"series": name, "window": data["window"], "horizon": horizon}
        rows.append(dict(base, model="persistence", layout="past", seed="", mae=naive))
        for layout in ("past", "block"):
            pred, seconds = fit_ridge(data, layout)
            mae = suite._mae(y_test, pred)
            rows.append(dict(base, model="ridge", layout=layout, seed="", mae=mae))
            log(f"  ridge {layout:9s}          MAE {mae:.4g}  ratio {mae / naive:.3f}")
        for seed in seeds:
            for layout in layouts:
                pred, seconds, epochs, kept_linear = fit_lstm(
                    data, layout, seed, max_epochs, linear_only
                )
                mae = suite._mae(y_test, pred)
                rows.append(
                    dict(
                        base,
                        model="lstm",
                        layout=layout,
                        seed=seed,
                        mae=mae,
                        fit_seconds=round(seconds, 1),
                        epochs=epochs,
                        linear_only=kept_linear,
                    )
                )
                log(
                    f"  lstm  {layout:9s} seed {seed}   MAE {mae:.4g}  ratio {mae / naive:.3f}"
                    f"  fit {seconds:.0f}s  epochs {epochs}  linear only {kept_linear}"
                )
                if save is not None:  # what has run survives an interrupted run
                    pd.DataFrame(rows).to_csv(save, index=False)
    results = pd.DataFrame(rows)
    naive = results[results.model == "persistence"].set_index("series")["mae"]
    results["mae_ratio"] = results["mae"] / results["series"].map(naive)
    return results


def _commands(paths):
    """The commands that wrote these CSV files, from the reports beside them."""
    commands = []
    for path in paths:
        text = path.with_suffix(".md").read_text()
        commands.append(text.split("Command: `", 1)[1].split("`", 1)[0])
    return "`; `".join(commands)


def report(results, command, seconds, dev):
    table = (
        results.groupby(["series", "model", "layout"], sort=False)
        .agg(mae=("mae", "mean"), mae_ratio=("mae_ratio", "mean"), seeds=("mae", "size"))
        .reset_index()
    )
    gains = []
    for (series, model), group in table.groupby(["series", "model"], sort=False):
        by_layout = group.set_index("layout")["mae"]
        if "block" in by_layout and "past" in by_layout and model != "persistence":
            for layout in ("block", "in_window"):
                if layout in by_layout:
                    change = by_layout[layout] / by_layout["past"] - 1
                    gains.append(
                        {
                            "series": series,
                            "model": model,
                            "layout": layout,
                            "MAE change vs past": f"{100 * change:+.1f} %",
                        }
                    )
    per_seed = results[results.model == "lstm"].pivot_table(
        index=["series", "seed"], columns="layout", values="mae"
    )
    compared = [
        "No change to report: the run lacks the `past` or the `block` layout."
        if not gains
        else markdown_table(pd.DataFrame(gains).set_index(["series", "model", "layout"])),
        "",
    ]
    if {"block", "past"} <= set(per_seed.columns):
        block_wins = (per_seed["block"] < per_seed["past"]).groupby("series").sum()
        compared += [
            "Seeds where `block` beats `past` (LSTMForecaster): "
            + ", ".join(f"{s} {int(n)}/{len(per_seed.loc[s])}" for s, n in block_wins.items())
            + ".",
            "",
        ]
    text = [
        "<!-- Written by benchmarks/known_future.py; do not edit by hand. -->",
        "",
        "# Known-future inputs: MAE with and without the known-future block"
        + (" (design rows: training rows split again)" if dev else ""),
        "",
        f"Command: `{command}`; run on {machine()}"
        + ("" if seconds is None else f"; {seconds / 60:.1f} min")
        + ". Protocol, series "
        "and layouts: the docstring of `benchmarks/known_future.py`. MAE on the original "
        "scale over all test origins and steps, mean over seeds; the ratio is to persistence.",
        "",
        "## Change of MAE against the same model without future values",
        "",
        *compared,
        "## MAE per series, model and layout",
        "",
        markdown_table(table.set_index(["series", "model", "layout"]), float_format="{:.4g}"),
        "",
    ]
    return "\n".join(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=list(KNOWN), choices=list(KNOWN))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument("--dev", action="store_true")
    parser.add_argument("--block-scale", type=float, default=None)
    parser.add_argument("--linear-only", action="store_true")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    parser.add_argument(
        "--report",
        nargs="+",
        type=pathlib.Path,
        metavar="CSV",
        help="write the report of these runs' CSV files together to --out (.md) and stop",
    )
    args = parser.parse_args(argv)
    stem = "known_future_dev" if args.dev else "known_future"
    out = args.out or HERE / "results" / stem
    command = "python benchmarks/known_future.py " + " ".join(argv or sys.argv[1:])
    if args.block_scale is not None:
        from sklstm import _linear

        _linear.BLOCK_SCALE = args.block_scale
    if args.report:
        results = pd.concat([pd.read_csv(path) for path in args.report], ignore_index=True)
        results.to_csv(out.with_suffix(".csv"), index=False)
        text = report(results, _commands(args.report), None, args.dev)
        out.with_suffix(".md").write_text(text)
        print(text)
        return
    start = time.perf_counter()
    results = run(
        args.series,
        args.seeds,
        args.max_epochs,
        args.dev,
        lambda s: print(s, flush=True),
        args.layouts,
        out.with_suffix(".partial.csv"),
        args.linear_only,
    )
    out.with_suffix(".partial.csv").unlink()
    results.to_csv(out.with_suffix(".csv"), index=False)
    text = report(results, command.strip(), time.perf_counter() - start, args.dev)
    out.with_suffix(".md").write_text(text)
    print("\n" + text)


if __name__ == "__main__":
    main()
