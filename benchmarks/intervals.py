"""Calibration of prediction intervals over the suite of real series.

Every series, split and forecast origin is the one ``benchmarks/suite.py`` uses (its
docstring has the protocol): models are fitted on the training origins, and intervals at
80 % and 95 % are scored on the test origins, over all steps and targets.

Models
    lstm_split      LSTMForecaster(window=window, random_state=seed), the defaults;
                    ``predict_interval(X)``: split conformal on its calibration residuals
    lstm_adaptive   the same fitted model; ``predict_interval(X, y)``: adaptive conformal
                    inference, each test target used once it is known (``k`` rows after its
                    origin for ``<column>_t+<k>``)
    ridge_split     the suite's ridge (StandardScaler + Ridge on the flattened windows, alpha
                    by GridSearchCV with TimeSeriesSplit(5, gap=horizon)) fitted on the same
                    first 90 % of the training windows the LSTM trains on; split conformal on
                    its residuals on the same calibration windows (the last 10 %)
    mapie_lstm      MAPIE's TimeSeriesRegressor(method="enbpi", cv="prefit") around an
                    LSTMForecaster fitted on the first 90 % of the training origins and
                    calibrated on the last 10 % (split conformal, no updates: MAPIE's
                    ``adapt_conformal_inference`` predicts single rows without their window);
                    single-output series only (MAPIE takes a 1-D y); needs ``mapie``

Scores, per series, model and level: coverage (share of test values inside the interval),
mean width and the interval (Winkler) score ``width + 2/alpha * miss`` averaged over test
values; widths and interval scores are divided by the MAE of naive persistence on the same
test values, so that series compare.

Reproduce the committed results (benchmarks/results/intervals.{csv,json,md})::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/intervals.py --neural-max-rows 9000

Other uses::

    python benchmarks/intervals.py --quick          # SMALL slice, 3 epochs; writes nothing
    python benchmarks/intervals.py --report         # rebuild intervals.md from the csv/json
    python benchmarks/intervals.py --dev --adaptive-steps 0.005 0.02 0.05 \
        --out benchmarks/results/intervals_dev.csv
        # design choices: each series' training rows split 80/20 again (test rows unseen);
        # adaptive intervals with each step size (lstm_adaptive_<step> beside the default)
"""

import argparse
import json
import math
import pathlib
import sys
import time
import warnings

import numpy as np
import pandas as pd
from scipy.stats import binom

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
import suite  # noqa: E402
import suite_series  # noqa: E402
from _common import ResultRows, markdown_table  # noqa: E402

LEVELS = (0.8, 0.95)
MODELS = ("lstm_split", "lstm_adaptive", "ridge_split", "mapie_lstm")
COLUMNS = [
    "series",
    "freq",
    "horizon",
    "n_outputs",
    "n_test",
    "n_calibration",
    "model",
    "level",
    "coverage",
    "width",
    "interval_score",
    "mae_ratio",
    "fit_seconds",
]


def calibration_split(data):
    """``(n_fit, calibration)``: the LSTMForecaster's own split of the training windows into
    the windows it trains on and those its intervals calibrate on."""
    from sklstm import LSTMForecaster

    window = data["window"]
    n_windows = data["n_train"] - (window - 1)
    n_val = max(1, round(LSTMForecaster().validation_fraction * n_windows))
    n_fit = window - 1 + n_windows - n_val
    return n_fit, slice(n_fit, data["n_train"])


def lstm_intervals(data, seed, max_epochs, adaptive_steps=()):
    """Split and adaptive intervals of one LSTMForecaster fit on the training origins; with
    ``adaptive_steps``, also adaptive intervals with each of those step sizes."""
    from sklstm import LSTMForecaster, _intervals

    window, test_start = data["window"], data["test_start"]
    params = {"window": window, "random_state": seed}
    if max_epochs:
        params["epochs"] = min(LSTMForecaster().epochs, max_epochs)
    model = LSTMForecaster(**params)
    X, y = data["X"], data["y_frame"]
    start = time.perf_counter()
    model.fit(X.iloc[: data["n_train"]], y.iloc[: data["n_train"]])
    seconds = time.perf_counter() - start
    # As in suite.py: every test origin's window made of true rows; the context rows' targets
    # are known too and feed the adaptive intervals once their time has come.
    context = slice(test_start - (window - 1), None)
    pred, split = model.predict_interval(X.iloc[context], confidence_level=LEVELS)
    _, adaptive = model.predict_interval(X.iloc[context], y.iloc[context], confidence_level=LEVELS)
    n_cal = len(model.calibration_residuals_)
    scored = slice(window - 1, None)
    pred = _as_2d(pred)[scored]
    found = {
        "lstm_split": (pred, _as_4d(split)[scored], seconds, n_cal),
        "lstm_adaptive": (pred, _as_4d(adaptive)[scored], seconds, n_cal),
    }
    default_step = _intervals.ADAPTIVE_STEP
    for step in adaptive_steps:
        _intervals.ADAPTIVE_STEP = step
        try:
            _, bounds = model.predict_interval(
                X.iloc[context], y.iloc[context], confidence_level=LEVELS
            )
        finally:
            _intervals.ADAPTIVE_STEP = default_step
        found[f"lstm_adaptive_{step:g}"] = (pred, _as_4d(bounds)[scored], seconds, n_cal)
    return found


def ridge_intervals(data, seed):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklstm import SlidingWindowTransformer
    from sklstm._intervals import split_half_widths

    window, horizon, y = data["window"], data["horizon"], data["y"]
    n_fit, calibration = calibration_split(data)
    rows = SlidingWindowTransformer(window, flatten=True).fit_transform(data["X"])
    search = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()),
        {"ridge__alpha": suite.RIDGE_ALPHAS},
        cv=suite.ridge_folds(n_fit - (window - 1), horizon),
        scoring="neg_mean_absolute_error",
    )
    start = time.perf_counter()
    search.fit(rows[window - 1 : n_fit], y[window - 1 : n_fit])
    seconds = time.perf_counter() - start
    residuals = y[calibration] - _as_2d(search.predict(rows[calibration]))
    widths = split_half_widths(residuals, np.asarray(LEVELS))
    pred = _as_2d(search.predict(rows[data["test_start"] :]))
    bounds = np.stack([pred[..., None] - widths, pred[..., None] + widths], axis=-2)
    return {"ridge_split": (pred, bounds, seconds, len(residuals))}


def mapie_intervals(data, seed, max_epochs):
    """MAPIE's TimeSeriesRegressor around a prefitted LSTMForecaster (1-D targets only)."""
    from mapie.regression import TimeSeriesRegressor

    from sklstm import LSTMForecaster

    window, test_start = data["window"], data["test_start"]
    n_fit, calibration = calibration_split(data)
    params = {"window": window, "random_state": seed}
    if max_epochs:
        params["epochs"] = min(LSTMForecaster().epochs, max_epochs)
    X, y = data["X"], data["y_frame"].iloc[:, 0]
    start = time.perf_counter()
    model = LSTMForecaster(**params).fit(X.iloc[:n_fit], y.iloc[:n_fit])
    mapie = TimeSeriesRegressor(model, method="enbpi", cv="prefit")
    mapie.fit(X.iloc[calibration], y.iloc[calibration])
    seconds = time.perf_counter() - start
    # As for the LSTM: from the window - 1 rows before the first test origin on.
    context = X.iloc[test_start - (window - 1) :]
    pred, bounds = mapie.predict(context, confidence_level=list(LEVELS))
    scored = slice(window - 1, None)
    n_cal = len(y.iloc[calibration])
    return {"mapie_lstm": (_as_2d(pred)[scored], _as_4d(bounds)[scored], seconds, n_cal)}


def _as_2d(a):
    a = np.asarray(a, dtype=float)
    return a.reshape(len(a), -1)


def _as_4d(y_pis):
    """(n, 2, L) for a 1-D target -> (n, 1, 2, L)."""
    return y_pis[:, None] if y_pis.ndim == 3 else y_pis


def scores(y_true, pred, bounds, naive_mae):
    """Per level: coverage, width / naive MAE, interval score / naive MAE, MAE / naive MAE."""
    rows = []
    for i, level in enumerate(LEVELS):
        lower, upper = bounds[:, :, 0, i], bounds[:, :, 1, i]
        miss = np.maximum(lower - y_true, 0) + np.maximum(y_true - upper, 0)
        width = upper - lower
        rows.append(
            {
                "level": level,
                "coverage": float(np.mean((lower <= y_true) & (y_true <= upper))),
                "width": float(np.mean(width)) / naive_mae,
                "interval_score": float(np.mean(width + 2 / (1 - level) * miss)) / naive_mae,
                "mae_ratio": float(np.mean(np.abs(y_true - pred))) / naive_mae,
            }
        )
    return rows


def run_series(name, models, seed, max_epochs, neural, write, log, dev=False, steps=()):
    data = suite.prepare(name, dev)
    spec, test_start = data["spec"], data["test_start"]
    origins = np.arange(test_start, data["n_origins"])
    y_test = data["y"][test_start:]
    naive = suite.as_y(suite.persistence(data["values"], origins, data["horizon"]))
    naive_mae = float(np.mean(np.abs(y_test - naive)))
    log(f"\n{name} ({spec.freq}): {len(origins)} test origins, {y_test.shape[1]} outputs")
    results = {}
    if "ridge_split" in models:
        results.update(ridge_intervals(data, seed))
    if neural and {"lstm_split", "lstm_adaptive"} & set(models):
        results.update(lstm_intervals(data, seed, max_epochs, steps))
    if neural and "mapie_lstm" in models and y_test.shape[1] == 1:
        try:
            results.update(mapie_intervals(data, seed, max_epochs))
        except ValueError as exc:  # MAPIE refuses levels its calibration rows cannot reach
            log(f"  mapie_lstm: {' '.join(str(exc).split())}")
    for model, (pred, bounds, seconds, n_cal) in results.items():
        if model not in models and not model.startswith("lstm_adaptive_"):
            continue
        for row in scores(y_test, pred, bounds, naive_mae):
            write(
                {
                    "series": name,
                    "freq": spec.freq,
                    "horizon": data["horizon"],
                    "n_outputs": y_test.shape[1],
                    "n_test": len(origins),
                    "n_calibration": n_cal,
                    "model": model,
                    "fit_seconds": round(seconds, 3),
                    **row,
                }
            )
            log(
                f"  {model:14s} {row['level']:.0%}: coverage {row['coverage']:.3f}  width "
                f"{row['width']:.3g}  interval score {row['interval_score']:.3g}  "
                f"(calibration {n_cal})"
            )


def report(results, run):
    present = [m for m in MODELS if m in set(results["model"])]
    present += sorted(m for m in set(results["model"]) if m not in MODELS)
    lines = [
        "<!-- Written by benchmarks/intervals.py; do not edit by hand. -->",
        "",
        "# Calibration of prediction intervals over the suite",
        "",
        f"Command: `{run['command']}`, measuring {run['sklstm']}. Run on {run['machine']}, "
        f"shared with other jobs; total run time {run['seconds'] / 60:.1f} min. One seed. "
        "Protocol and models: the docstring of `benchmarks/intervals.py`.",
        "",
        "## Summary",
        "",
        "Per level: the median and the lowest coverage over the series, how many series fall "
        "more than 10 points below nominal, and the geometric means over the series of the "
        "width and the interval score (each divided by persistence's MAE) and of the interval "
        "score's ratio to ridge_split's on the same series (< 1 is better). 'by chance': how "
        "many series intervals of exactly nominal coverage would leave more than 10 points "
        "under (expected count), and 'beyond chance': the series more than 10 points under "
        "where a shortfall that large has a probability below 5 % for such intervals; both "
        "take test origins one horizon apart as independent draws (closer ones share target "
        "rows), so n_test // horizon draws per series.",
        "",
    ]
    rows = []
    for level in LEVELS:
        at = results[results["level"] == level]
        ridge = at[at["model"] == "ridge_split"].set_index("series")["interval_score"]
        for model in present:
            mine = at[at["model"] == model].set_index("series")
            if mine.empty:
                continue
            both = mine["interval_score"].reindex(ridge.index).dropna()
            vs_ridge = both / ridge.loc[both.index]
            rows.append(
                {
                    "level": f"{level:.0%}",
                    "model": model,
                    "series": len(mine),
                    "median coverage": float(mine["coverage"].median()),
                    "lowest (series)": f"{mine['coverage'].min():.3f} "
                    f"({mine['coverage'].idxmin()})",
                    "> 10 pts under": int((mine["coverage"] < level - 0.10).sum()),
                    **_chance(mine, level),
                    "width": _geomean(mine["width"]),
                    "interval score": _geomean(mine["interval_score"]),
                    "vs ridge_split": _geomean(vs_ridge) if model != "ridge_split" else "-",
                }
            )
    # docs/intervals.md includes the table between these markers.
    lines += [
        "<!-- summary: start -->",
        markdown_table(rows, list(rows[0])),
        "<!-- summary: end -->",
    ]
    lines += [
        "",
        "## Per series: coverage (80 % / 95 %) and interval score at 95 % / persistence MAE",
        "",
    ]
    rows = []
    for name in dict.fromkeys(results["series"]):
        of = results[results["series"] == name]
        row = {
            "series": name,
            "freq": of["freq"].iloc[0],
            "h": int(of["horizon"].iloc[0]),
            "calib.": int(of["n_calibration"].max()),
        }
        for model in present:
            cell = of[of["model"] == model].set_index("level")
            if cell.empty:
                row[model] = "-"
                continue
            row[model] = (
                f"{cell.loc[LEVELS[0], 'coverage']:.2f} / {cell.loc[LEVELS[1], 'coverage']:.2f}"
                f" / {cell.loc[LEVELS[1], 'interval_score']:.3g}"
            )
        rows.append(row)
    lines.append(markdown_table(rows, list(rows[0])))
    return "\n".join(lines) + "\n"


def _chance(results, level):
    """The 'by chance' and 'beyond chance' cells of ``results`` (one model, one level)."""
    if "n_test" not in results:  # written before the column existed
        return {}
    draws = np.maximum(results["n_test"] // results["horizon"], 1)
    short = results["coverage"] < level - 0.10
    # P(covered draws / draws < level - 0.10) for exactly nominal intervals.
    chance = binom.cdf(np.ceil(draws * (level - 0.10) - 1e-9) - 1, draws, level)
    p_value = binom.cdf(np.floor(results["coverage"] * draws + 1e-9), draws, level)
    return {
        "by chance": round(float(chance.sum()), 1),
        "beyond chance": int((short & (p_value < 0.05)).sum()),
    }


def _geomean(values):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    return float(np.exp(np.mean(np.log(values)))) if len(values) else math.nan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", choices=suite_series.NAMES, metavar="NAME")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, help="cap the LSTM's epochs")
    parser.add_argument("--neural-max-rows", type=int, help="LSTMs only on series this short")
    parser.add_argument("--quick", action="store_true", help="SMALL slice, 3 epochs")
    parser.add_argument("--out", help="CSV of results; the markdown summary goes next to it")
    parser.add_argument("--report", action="store_true", help="rebuild the summary only")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="score on the last training rows, never the test rows (for design choices)",
    )
    parser.add_argument(
        "--adaptive-steps", nargs="+", type=float, default=[], help="other ACI step sizes"
    )
    args = parser.parse_args(argv)
    default_out = HERE / "results" / "intervals.csv"
    out = pathlib.Path(args.out) if args.out else (None if args.quick else default_out)
    command = "python benchmarks/intervals.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    if args.report:
        out = out or default_out
        results = pd.read_csv(out)
        run = json.loads(out.with_suffix(".json").read_text())
        out.with_suffix(".md").write_text(report(results, run))
        print(f"written {out.with_suffix('.md')}")
        return
    if args.quick:
        args.series = args.series or suite_series.SMALL
        args.max_epochs = args.max_epochs or 3
    if "mapie_lstm" in args.models:
        try:
            import mapie  # noqa: F401
        except ImportError:
            print("mapie is not installed: mapie_lstm left out")
            args.models.remove("mapie_lstm")
    warnings.filterwarnings("ignore")
    results = ResultRows(out, COLUMNS)
    start = time.perf_counter()
    for name in args.series or suite_series.NAMES:
        rows_of = suite_series.SERIES[name].rows
        neural = args.neural_max_rows is None or rows_of <= args.neural_max_rows
        run_series(
            name,
            args.models,
            args.seed,
            args.max_epochs,
            neural,
            results.write,
            print,
            dev=args.dev,
            steps=args.adaptive_steps,
        )
    run = suite.run_record(command, time.perf_counter() - start)
    results.finish(run, report(pd.DataFrame(results.rows, columns=COLUMNS), run))


if __name__ == "__main__":
    main()
