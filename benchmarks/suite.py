"""Forecast accuracy over a suite of real series: LSTMForecaster against simple baselines.

The series, and the rule that gives each its window and horizon from its frequency, are in
``benchmarks/suite_series.py``. On every series, every model gets the same rows:

- ``(X, y) = make_horizon_target(frame, targets, horizon)``: origin ``t`` sees the inputs up
  to row ``t`` and forecasts every target 1 .. horizon steps ahead;
- the last 20 % of the origins are scored (rolling origins, each from its true preceding
  window, no refitting); the ``horizon`` origins before them are a gap, so no training target
  is a value that is forecast in the test; models are fitted once on the origins before;
- scores are the MAE over all test origins, steps and targets on the original scale, and its
  ratio to the MAE of naive persistence (< 1 beats persistence); the neural models give the
  median over seeds.

Models
    persistence       each target's value at the origin, for every step
    seasonal_naive    the value one season before each target time (series with a season)
    ridge             StandardScaler + Ridge on SlidingWindowTransformer(window, flatten=True)
                      rows, alpha from a log grid (1e-4 .. 1e4) by GridSearchCV with
                      TimeSeriesSplit(5, gap=horizon) on the training origins, MAE scoring
    ets               statsmodels ETSModel per target: additive errors, additive damped trend,
                      additive season where there is one; fitted once on the target values
                      known at the end of training (initial states estimated, or heuristic for
                      seasons over 24), then run over the later rows with those parameters
                      fixed, forecasting from its state at every test origin
    blog_lstm         the blog recipe in plain Keras on the same windows: LSTM(50, relu) +
                      Dense, standardised inputs and targets, Adam 1e-3, MSE, batch 32, at
                      most 50 epochs, early stopping (patience 5, best weights restored) on
                      the last 10 % of the training windows
    lstm_forecaster   sklstm.LSTMForecaster(window=window, random_state=seed): the defaults
    lstm_forecaster_linear
                      the same estimator's linear part alone: a callback ends the fit after
                      one batch and the gate is closed, so the LSTM is left out and the
                      linear part refitted on every training window, as when the estimator
                      leaves the LSTM out (one "epoch" recorded); the exponential smoothing
                      it falls back on is blended in as with the LSTM, so that the difference
                      between the two is the LSTM's

The simple baselines are persistence, seasonal_naive, ridge and ets; the summary compares each
other model with the best of them on each series (geometric mean of the MAE ratio), and counts
wins, ties (within 1 %) and losses against each. Each series' ratios to the best simple
baseline and to persistence also get 90 % intervals from a circular block bootstrap over its
test origins (``sampling_intervals``; the ``_sampling.csv`` beside the results): on a series
with a few dozen test origins, how far the ratio could move with other origins alone.

Reproduce the committed results (benchmarks/results/suite.csv, suite_sampling.csv, .json and
.md), 40 minutes on 2 CPU cores (80 when they are shared with other jobs); the neural models
run on the series of at most 9,000 rows (all but the two longest, which get the baselines
only)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/suite.py --seeds 3 --neural-max-rows 9000

Other uses::

    python benchmarks/suite.py --quick     # SMALL slice, 1 seed, 3 epochs; prints, writes nothing
    python benchmarks/suite.py --models persistence seasonal_naive ridge ets   # baselines
    python benchmarks/suite.py --series nile lynx --seeds 3 --max-epochs 20
    python benchmarks/suite.py --report    # rebuild suite.md from suite.csv and suite.json
    python benchmarks/suite.py --dev --out benchmarks/results/suite_dev.csv
        # design choices: each series' training rows split 80/20 again; test rows unseen

Fit seconds are wall time on a machine shared with other jobs: orders of magnitude only.
"""

import argparse
import json
import math
import pathlib
import sys
import time
import warnings
import zlib

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
import suite_series  # noqa: E402
from _common import ResultRows, machine, markdown_table  # noqa: E402

TEST_FRACTION = 0.2
SIMPLE = ("persistence", "seasonal_naive", "ridge", "ets")
NEURAL = ("blog_lstm", "lstm_forecaster", "lstm_forecaster_linear")
MODELS = SIMPLE + NEURAL
BLOG_EPOCHS, BLOG_PATIENCE, VALIDATION_FRACTION = 50, 5, 0.1
RIDGE_ALPHAS = np.logspace(-4, 4, 17)
ETS_ESTIMATED_MAX_SEASON = 24  # longer seasons: heuristic initial states (seconds, not minutes)
TIE = 0.01
# The sampling error of each series' ratios: a circular block bootstrap over its test origins.
RESAMPLES, INTERVAL = 2000, 0.9
COLUMNS = [
    "series",
    "freq",
    "rows",
    "n_train",
    "n_test",
    "window",
    "horizon",
    "model",
    "seed",
    "mae",
    "mae_ratio",
    "fit_seconds",
    "epochs",
]
SAMPLING_COLUMNS = [
    "series",
    "model",
    "seed",
    "n_test",
    "block",
    "vs_best",
    "vs_best_low",
    "vs_best_high",
    "vs_persistence",
    "vs_persistence_low",
    "vs_persistence_high",
]


# -- the split and the naive forecasts ---------------------------------------------------------


def split(n_origins, horizon):
    """Return ``(n_train, test_start)``: train on origins ``[0, n_train)``, score origins
    ``[test_start, n_origins)`` (the last 20 %), with ``horizon`` origins between them so that
    the last training target (row ``n_train - 1 + horizon``) precedes the test origins."""
    n_test = max(1, round(TEST_FRACTION * n_origins))
    test_start = n_origins - n_test
    return test_start - horizon, test_start


def persistence(values, origins, horizon):
    """Forecasts of shape (n_origins, n_targets, horizon): the value at each origin."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return np.repeat(values[origins][:, :, None], horizon, axis=2)


def seasonal_naive(values, origins, horizon, season):
    """Forecasts of shape (n_origins, n_targets, horizon): for step k, the last value seen at
    the origin that lies a whole number of seasons before the target time t + k."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    steps = np.arange(1, horizon + 1)
    lag = season * np.ceil(steps / season).astype(int)
    rows = np.asarray(origins)[:, None] + steps - lag  # (n_origins, horizon), each <= origin
    return values[rows].transpose(0, 2, 1)


def as_y(forecasts):
    """(n, n_targets, horizon) -> (n, n_targets * horizon), make_horizon_target's column order."""
    return forecasts.reshape(len(forecasts), -1)


# -- models -----------------------------------------------------------------------------------
# Each fitter gets the prepared series and returns (predictions in y's layout, fit seconds,
# epochs or None).


def ridge_folds(n_windows, horizon):
    """TimeSeriesSplit(5, gap=horizon), or fewer folds, then smaller ones, where
    ``n_windows`` are too few for five beside the gap (the shortest series' --dev split)."""
    from sklearn.model_selection import TimeSeriesSplit

    def fits(n_splits):
        return n_windows - horizon - n_splits * (n_windows // (n_splits + 1)) > 0

    n_splits = 5
    while n_splits > 2 and not fits(n_splits):
        n_splits -= 1
    test_size = None if fits(n_splits) else max(1, (n_windows - horizon) // (n_splits + 1))
    return TimeSeriesSplit(n_splits=n_splits, gap=horizon, test_size=test_size)


def fit_ridge(data, seed):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklstm import SlidingWindowTransformer

    window, horizon = data["window"], data["horizon"]
    # Windows hold only rows up to their origin, so transforming all rows at once leaks nothing;
    # origins without a full window are left out of training, as LSTMForecaster does.
    rows = SlidingWindowTransformer(window, flatten=True).fit_transform(data["X"])
    train = slice(window - 1, data["n_train"])
    search = GridSearchCV(
        make_pipeline(StandardScaler(), Ridge()),
        {"ridge__alpha": RIDGE_ALPHAS},
        cv=ridge_folds(data["n_train"] - (window - 1), horizon),
        scoring="neg_mean_absolute_error",
    )
    start = time.perf_counter()
    search.fit(rows[train], data["y"][train])
    seconds = time.perf_counter() - start
    return search.predict(rows[data["test_start"] :]), seconds, None


def fit_ets(data, seed):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    season, horizon, test_start = data["season"], data["horizon"], data["test_start"]
    origins = np.arange(test_start, data["n_origins"])
    steps = np.arange(1, horizon + 1)
    spec = dict(
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if season else None,
        seasonal_periods=season,
    )
    init = "estimated" if not season or season <= ETS_ESTIMATED_MAX_SEASON else "heuristic"
    forecasts, seconds = [], 0.0
    for values in data["values"].T:
        start = time.perf_counter()
        # The values known when the last training target is: rows before the first test origin.
        fitted = ETSModel(values[:test_start], initialization_method=init, **spec).fit(disp=False)
        seconds += time.perf_counter() - start
        # The same model over all rows, its parameters and initial states fixed to the fit: its
        # state after each row is what a forecaster updated row by row would hold.
        full = ETSModel(
            values,
            initialization_method="known",
            initial_level=fitted.initial_level,
            initial_trend=fitted.initial_trend,
            initial_seasonal=fitted.initial_seasonal if season else None,
            **spec,
        )
        params = dict(zip(fitted.param_names, fitted.params, strict=True))
        states = np.asarray(full.smooth([params[name] for name in full.param_names]).states)
        # Additive damped trend: level + (phi + ... + phi**k) * trend + the season's last value.
        damping = np.cumsum(params["damping_trend"] ** steps)
        pred = states[origins, 0, None] + damping * states[origins, 1, None]
        if season:
            seen = origins[:, None] + steps - season * np.ceil(steps / season).astype(int)
            pred = pred + states[seen, 2]
        forecasts.append(pred)
    return as_y(np.stack(forecasts, axis=1)), seconds, None


def fit_blog(data, seed, max_epochs=None):
    """LSTM(50, activation="relu") + Dense in plain Keras, as blog posts write it."""
    import keras
    from sklearn.preprocessing import StandardScaler

    from sklstm import sliding_windows

    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    X, y = data["X"].to_numpy(dtype=float), data["y"]
    x_scaler = StandardScaler().fit(X[:n_train])
    y_scaler = StandardScaler().fit(y[:n_train])
    windows = sliding_windows(x_scaler.transform(X).astype(np.float32), window)
    train_windows = np.ascontiguousarray(windows[window - 1 : n_train])
    train_y = y_scaler.transform(y[window - 1 : n_train]).astype(np.float32)
    n_val = max(1, round(VALIDATION_FRACTION * len(train_windows)))
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(train_windows.shape[1:]),
            keras.layers.LSTM(50, activation="relu"),
            keras.layers.Dense(train_y.shape[1]),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=BLOG_PATIENCE, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(
        train_windows[:-n_val],
        train_y[:-n_val],
        validation_data=(train_windows[-n_val:], train_y[-n_val:]),
        epochs=min(BLOG_EPOCHS, max_epochs or BLOG_EPOCHS),
        batch_size=32,
        callbacks=[stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    pred = model.predict(np.ascontiguousarray(windows[test_start:]), verbose=0, batch_size=1024)
    return y_scaler.inverse_transform(pred), seconds, len(history.history["loss"])


def fit_lstm_forecaster(data, seed, max_epochs=None, linear_only=False):
    from sklstm import LSTMForecaster

    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    params = {"window": window, "random_state": seed}
    if max_epochs:
        params["epochs"] = min(LSTMForecaster().epochs, max_epochs)
    model = lstm_forecaster(params, linear_only)
    X, y = data["X"], data["y_frame"]
    start = time.perf_counter()
    model.fit(X.iloc[:n_train], y.iloc[:n_train])
    seconds = time.perf_counter() - start
    # Predict from the window - 1 rows before the first test origin on, so that every test
    # origin's window is made of true rows whatever the estimator remembers; drop those rows.
    context = X.iloc[test_start - (window - 1) :]
    pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
    return pred, seconds, model.n_iter_


def lstm_forecaster(params, linear_only=False):
    """``LSTMForecaster(**params)``, or with ``linear_only`` its linear part alone: a callback
    ends the fit after its first batch, and the gate is closed, so the LSTM is left out and
    the linear part refitted on every training window, as when the estimator leaves the LSTM
    out (``linear_only_``).

    With the gate open, it would compare the barely trained network with the linear part it
    holds, two forecasts equal but for float32 rounding, and keep either on that noise.
    """
    import keras

    from sklstm import LSTMForecaster

    if not linear_only:
        return LSTMForecaster(**params)

    class StopAfterFirstBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    class LinearPartAlone(LSTMForecaster):
        def _lstm_improves(self, network, alone, y):
            return False

    return LinearPartAlone(**params, callbacks=[StopAfterFirstBatch()])


# -- running ----------------------------------------------------------------------------------


def prepare(name, dev=False):
    """Load a series and lay out its origins, targets and split.

    With ``dev``, only the rows that the training origins see (their targets included) are
    kept and split again the same way: the design-selection protocol, which never looks at
    the test rows.
    """
    from sklstm import make_horizon_target

    frame, spec = suite_series.load(name)
    if dev:
        n_train, _ = split(len(frame) - spec.horizon, spec.horizon)
        frame = frame.iloc[: n_train + spec.horizon]
    X, y = make_horizon_target(frame, list(spec.targets), horizon=spec.horizon)
    n_train, test_start = split(len(X), spec.horizon)
    return {
        "spec": spec,
        "X": X,
        "y_frame": y,
        "y": y.to_numpy(dtype=float),
        "values": frame[list(spec.targets)].to_numpy(dtype=float),
        "window": spec.window,
        "horizon": spec.horizon,
        "season": spec.season,
        "n_origins": len(X),
        "n_train": n_train,
        "test_start": test_start,
    }


def run_series(name, models, seeds, max_epochs, neural, write, log, dev=False, sampled=None):
    """Fit and score every model on one series, ``write`` a result row per model and seed
    and, with ``sampled``, a row of sampling intervals per model that is not a simple
    baseline (see ``sampling_intervals``)."""
    data = prepare(name, dev)
    spec, horizon, test_start = data["spec"], data["horizon"], data["test_start"]
    origins = np.arange(test_start, data["n_origins"])
    y_test = data["y"][test_start:]
    naive_mae = _mae(y_test, as_y(persistence(data["values"], origins, horizon)))
    log(
        f"\n{name} ({spec.source}, {spec.freq}): {spec.rows} rows, targets {list(spec.targets)}, "
        f"{len(spec.inputs)} inputs, season {spec.season}, window {spec.window}, horizon "
        f"{horizon}; {data['n_train']} training and {len(origins)} test origins"
    )
    base = {
        "series": name,
        "freq": spec.freq,
        "rows": spec.rows,
        "n_train": data["n_train"],
        "n_test": len(origins),
        "window": spec.window,
        "horizon": horizon,
    }
    errors = {}  # model -> [(MAE, seed, error of each test origin)]
    for model in models:
        if model == "seasonal_naive" and not spec.season:
            continue
        if model in NEURAL and not neural:
            continue
        for seed in seeds if model in NEURAL else [None]:
            if model == "persistence":
                pred, seconds, epochs = (
                    as_y(persistence(data["values"], origins, horizon)),
                    0.0,
                    None,
                )
            elif model == "seasonal_naive":
                forecasts = seasonal_naive(data["values"], origins, horizon, spec.season)
                pred, seconds, epochs = as_y(forecasts), 0.0, None
            elif model == "ridge":
                pred, seconds, epochs = fit_ridge(data, seed)
            elif model == "ets":
                pred, seconds, epochs = fit_ets(data, seed)
            elif model == "blog_lstm":
                pred, seconds, epochs = fit_blog(data, seed, max_epochs)
            else:
                linear = model == "lstm_forecaster_linear"
                pred, seconds, epochs = fit_lstm_forecaster(data, seed, max_epochs, linear)
            origin_errors = _origin_errors(y_test, pred)
            mae = float(origin_errors.mean())
            errors.setdefault(model, []).append((mae, seed, origin_errors))
            row = dict(
                base,
                model=model,
                seed="" if seed is None else seed,
                mae=mae,
                mae_ratio=mae / naive_mae,
                fit_seconds=round(seconds, 3),
                epochs="" if epochs is None else epochs,
            )
            write(row)
            log(
                f"  {model:24s} {'' if seed is None else f'seed {seed}':8s} MAE {mae:.4g}  "
                f"ratio {mae / naive_mae:.3f}  fit {seconds:.1f}s"
                + ("" if epochs is None else f"  epochs {epochs}")
            )
    if sampled is not None:
        for row in sampling_intervals(errors, horizon, seed=zlib.crc32(name.encode())):
            sampled({"series": name, **row})


def _mae(y_true, y_pred):
    return float(np.mean(_origin_errors(y_true, y_pred)))


def _origin_errors(y_true, y_pred):
    """The absolute error of each origin, averaged over its steps and targets (their mean is
    the MAE); infinite where a prediction is not finite."""
    y_true = np.asarray(y_true, dtype=float)
    # Some estimators return (n,) for a single output: never let it broadcast against (n, 1).
    y_pred = np.asarray(y_pred, dtype=float).reshape(y_true.shape)
    errors = np.abs(y_true - y_pred).reshape(len(y_true), -1).mean(axis=1)
    return np.where(np.isfinite(y_pred).reshape(len(y_true), -1).all(axis=1), errors, math.inf)


# -- sampling error ---------------------------------------------------------------------------


def block_length(n_origins, horizon):
    """Consecutive origins per bootstrap block: a horizon (neighbouring origins' targets share
    ``horizon - 1`` rows), and at least ``n ** (1/3)`` for errors that drift more slowly."""
    return int(min(n_origins, max(horizon, math.ceil(n_origins ** (1 / 3)))))


def resampled_origins(n_origins, block, n_resamples, rng):
    """Circular block bootstrap: ``n_resamples`` rows of ``n_origins`` origin indices, each
    made of runs of ``block`` consecutive origins from random starts, wrapping at the end."""
    n_blocks = math.ceil(n_origins / block)
    starts = rng.integers(0, n_origins, size=(n_resamples, n_blocks, 1))
    return ((starts + np.arange(block)) % n_origins).reshape(n_resamples, -1)[:, :n_origins]


def sampling_intervals(errors, horizon, seed):
    """Each model's MAE ratio to the best simple baseline and to persistence, with their
    ``INTERVAL`` bootstrap intervals over the test origins.

    ``errors`` maps a model to its ``(MAE, seed, errors of each origin)`` fits; a model with
    seeds is represented by its median one (that of the median MAE, with an odd number of
    seeds). Every model is resampled on the same origins, and the best simple baseline is
    picked again in each resample, as the oracle picks it on the test rows.
    """
    simple = [m for m in SIMPLE if m in errors]
    if "persistence" not in simple:
        return []
    median = {m: sorted(fits, key=lambda fit: fit[0])[len(fits) // 2] for m, fits in errors.items()}
    n_origins = len(median["persistence"][2])
    block = block_length(n_origins, horizon)
    index = resampled_origins(n_origins, block, RESAMPLES, np.random.default_rng(seed))
    full = {m: fit[0] for m, fit in median.items()}
    resampled = {m: fit[2][index].mean(axis=1) for m, fit in median.items()}
    best = min(full[m] for m in simple)
    best_resampled = np.min([resampled[m] for m in simple], axis=0)
    tails = 100 * (1 - INTERVAL) / 2, 100 * (1 + INTERVAL) / 2
    rows = []
    for model, (_, model_seed, _) in median.items():
        if model in SIMPLE:
            continue
        row = {"model": model, "seed": "" if model_seed is None else model_seed}
        row.update(n_test=n_origins, block=block)
        for key, point, ratios in (
            ("vs_best", full[model] / best, resampled[model] / best_resampled),
            (
                "vs_persistence",
                full[model] / full["persistence"],
                resampled[model] / resampled["persistence"],
            ),
        ):
            low, high = np.percentile(ratios, tails)
            row.update({key: point, f"{key}_low": low, f"{key}_high": high})
        rows.append(row)
    return rows


# -- the report -------------------------------------------------------------------------------


def summarize(results):
    """Median over seeds: one row per series and model, with MAE, its ratio, seconds, epochs."""
    results = results.copy()
    results["epochs"] = pd.to_numeric(results["epochs"], errors="coerce")
    return results.groupby(["series", "model"], sort=False).agg(
        mae=("mae", "median"),
        mae_ratio=("mae_ratio", "median"),
        fit_seconds=("fit_seconds", "median"),
        epochs=("epochs", "median"),
        seeds=("mae", "size"),
    )


def report(results, run, sampling=None):
    """The markdown summary of ``results`` (the CSV's rows) for ``run`` (see ``run_record``),
    with the sampling intervals' rows ``sampling`` where there are any."""
    table = summarize(results)
    mae = table["mae"].unstack("model")
    ratio = table["mae_ratio"].unstack("model")
    present = [m for m in MODELS if m in mae.columns]
    simple = [m for m in SIMPLE if m in mae.columns]
    others = [m for m in present if m not in SIMPLE]
    series = list(dict.fromkeys(results["series"]))
    if simple:
        best = mae.loc[series, simple].min(axis=1)
        best_name = mae.loc[series, simple].idxmin(axis=1)
    else:
        best, best_name = pd.Series(math.nan, index=series), pd.Series("-", index=series)

    lines = [
        "<!-- Written by benchmarks/suite.py; do not edit by hand. -->",
        "",
        "# Forecast accuracy over the suite of real series",
        "",
        f"Command: `{run['command']}`, measuring {run['sklstm']}. Run on {run['machine']}, "
        f"shared with other jobs; total run time {run['seconds'] / 60:.1f} min. Seeds per "
        f"neural model: {int(results.loc[results['model'].isin(NEURAL), 'seed'].nunique()) or '-'} "
        "(median reported). Protocol and models: the docstring of `benchmarks/suite.py`; the "
        "series and the window/horizon rule: `benchmarks/suite_series.py`.",
        "",
        "## Summary",
        "",
        "Geometric mean over the series where the model ran of MAE(model) / MAE(best simple "
        "baseline of that series), the simple baselines being persistence, seasonal naive "
        "(series with a season), ridge and ETS; < 1 beats the best of them. Wins / ties / "
        f"losses count series where the model's MAE is below / within {TIE:.0%} of / above "
        "that baseline's.",
        "",
    ]
    rows = []
    for model in present:
        done = mae[model].loc[series].dropna()
        rel = (done / best.loc[done.index]).dropna()
        row = {
            "model": model,
            "series": len(done),
            "geo. mean vs best simple": float(np.exp(np.mean(np.log(rel))))
            if len(rel)
            else math.nan,
            "worst (ratio)": f"{rel.idxmax()} ({rel.max():.3g})" if len(rel) else "-",
        }
        for baseline in simple:
            if baseline == model:
                row[f"vs {baseline}"] = "-"
                continue
            pair = (done / mae.loc[done.index, baseline]).dropna()
            row[f"vs {baseline}"] = (
                f"{(pair < 1 - TIE).sum()}/{((pair >= 1 - TIE) & (pair <= 1 + TIE)).sum()}/"
                f"{(pair > 1 + TIE).sum()}"
            )
        rows.append(row)
    lines.append(markdown_table(rows, list(rows[0])))
    for model in others:
        lost = ratio[model].loc[series].dropna()
        lost = lost[lost > 1 + TIE]
        listed = ", ".join(f"{s} ({r:.3g})" for s, r in lost.items()) or "none"
        lines += ["", f"{model} loses to persistence on {len(lost)} series: {listed}."]

    lines += [
        "",
        "## MAE / persistence MAE per series",
        "",
        "Below 1 beats persistence; '-' not run (seasonal naive needs a season; the neural "
        "models ran on the series the command selects). The last column names the best simple "
        "baseline.",
        "",
    ]
    rows = []
    for name in series:
        spec = suite_series.SERIES[name]
        row = {"series": name, "freq": spec.freq, "h": spec.horizon}
        for model in present:
            value = ratio.loc[name, model] if model in ratio.columns else math.nan
            row[model] = "-" if pd.isna(value) else float(value)
        row["best simple"] = best_name.loc[name]
        rows.append(row)
    lines.append(markdown_table(rows, list(rows[0])))

    if sampling is not None and len(sampling):
        lines += sampling_section(sampling, series)

    if others:
        lines += ["", "## Fit seconds and epochs (median over seeds)", ""]
        rows = []
        for name in series:
            row = {"series": name, "rows": suite_series.SERIES[name].rows}
            for model in ["ridge", "ets", *others]:
                if (name, model) in table.index:
                    entry = table.loc[(name, model)]
                    epochs = "" if pd.isna(entry["epochs"]) else f" / {entry['epochs']:.0f}"
                    row[model] = f"{entry['fit_seconds']:.3g}{epochs}"
                else:
                    row[model] = "-"
            rows.append(row)
        lines.append(markdown_table(rows, list(rows[0])))
        lines += [
            "",
            "Cells: fit seconds / epochs run. Ridge includes its cross-validated alpha search; "
            "ETS its fits on every target.",
        ]

    lines += ["", "## The series", ""]
    rows = []
    for name in series:
        spec = suite_series.SERIES[name]
        rows.append(
            {
                "series": name,
                "source": spec.source,
                "freq": spec.freq,
                "rows": spec.rows,
                "inputs": len(spec.inputs),
                "targets": ", ".join(spec.targets),
                "season": spec.season or "-",
                "window": spec.window,
                "horizon": spec.horizon,
                "what": spec.about,
            }
        )
    lines.append(markdown_table(rows, list(rows[0])))
    return "\n".join(lines) + "\n"


def sampling_section(sampling, series):
    """The report's lines on the sampling error of each series' ratios."""
    sampling = sampling.set_index(["series", "model"])
    models = [m for m in MODELS if m in set(sampling.index.get_level_values("model"))]
    lead = "lstm_forecaster" if "lstm_forecaster" in models else models[0]
    lines = [
        "",
        "## Sampling error of the ratios",
        "",
        f"A series' ratios come from its test origins only, a few dozen on the short series. "
        f"{INTERVAL:.0%} intervals from a circular block bootstrap over the test origins "
        f"({RESAMPLES} resamples of blocks of max(horizon, n^(1/3)) consecutive origins; "
        "every model resampled on the same origins; the best simple baseline picked again in "
        "each resample, as the oracle picks it; a model with seeds is represented by its "
        f"median seed). The ratio to the best simple baseline, then {lead}'s ratio to "
        "persistence.",
        "",
    ]

    def interval(entry, key):
        return f"{entry[key]:.3g} [{entry[f'{key}_low']:.3g}, {entry[f'{key}_high']:.3g}]"

    rows = []
    for name in series:
        present = [m for m in models if (name, m) in sampling.index]
        if not present:
            continue
        first = sampling.loc[(name, present[0])]
        row = {"series": name, "test origins": int(first["n_test"]), "block": int(first["block"])}
        for model in models:
            row[model] = (
                interval(sampling.loc[(name, model)], "vs_best") if model in present else "-"
            )
        row[f"{lead} vs persistence"] = (
            interval(sampling.loc[(name, lead)], "vs_persistence") if lead in present else "-"
        )
        rows.append(row)
    lines.append(markdown_table(rows, list(rows[0])))
    for model in models:
        entries = sampling.xs(model, level="model")
        lines += [
            "",
            f"{model}: past 1.10x its best simple baseline on {(entries['vs_best'] > 1.1).sum()} "
            f"series, with the whole interval past it on "
            f"{(entries['vs_best_low'] > 1.1).sum()}; more than 2 % behind persistence on "
            f"{(entries['vs_persistence'] > 1.02).sum()}, with the whole interval past it on "
            f"{(entries['vs_persistence_low'] > 1.02).sum()}.",
        ]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", choices=suite_series.NAMES, metavar="NAME")
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--seeds", type=int, default=3, help="seeds per neural model")
    parser.add_argument("--max-epochs", type=int, help="cap the neural models' epochs")
    parser.add_argument(
        "--neural-max-rows", type=int, help="run the neural models only on series this short"
    )
    parser.add_argument("--quick", action="store_true", help="SMALL slice, 1 seed, 3 epochs")
    parser.add_argument(
        "--dev",
        action="store_true",
        help="score on the last training rows, never the test rows (for design choices)",
    )
    parser.add_argument("--out", help="CSV of results; the markdown summary goes next to it")
    parser.add_argument(
        "--report", action="store_true", help="rebuild the summary from --out and its .json"
    )
    args = parser.parse_args(argv)
    default_out = HERE / "results" / "suite.csv"
    out = pathlib.Path(args.out) if args.out else (None if args.quick else default_out)
    command = "python benchmarks/suite.py " + " ".join(argv if argv is not None else sys.argv[1:])

    if args.report:
        out = out or default_out
        results = pd.read_csv(out, keep_default_na=False, na_values=[""])
        run = json.loads(out.with_suffix(".json").read_text())
        sampled = sampling_path(out)
        sampling = pd.read_csv(sampled) if sampled.exists() else None
        out.with_suffix(".md").write_text(report(results, run, sampling))
        print(f"written {out.with_suffix('.md')}")
        return

    if args.quick:
        args.series = args.series or suite_series.SMALL
        args.seeds, args.max_epochs = 1, args.max_epochs or 3
    names = args.series or suite_series.NAMES
    seeds = list(range(args.seeds))
    warnings.filterwarnings("ignore")  # statsmodels' convergence notes, Keras' input warnings

    results = ResultRows(out, COLUMNS)
    sampled = ResultRows(None if out is None else sampling_path(out), SAMPLING_COLUMNS)
    start = time.perf_counter()
    for name in names:
        neural = (
            args.neural_max_rows is None or suite_series.SERIES[name].rows <= args.neural_max_rows
        )
        run_series(
            name,
            args.models,
            seeds,
            args.max_epochs,
            neural,
            results.write,
            lambda s: print(s, flush=True),
            dev=args.dev,
            sampled=sampled.write,
        )
    run = run_record(command, time.perf_counter() - start)
    sampled.close()
    sampling = pd.DataFrame(sampled.rows, columns=SAMPLING_COLUMNS)
    results.finish(run, report(pd.DataFrame(results.rows, columns=COLUMNS), run, sampling))


def sampling_path(out):
    """Where the sampling intervals of the results CSV ``out`` go."""
    return out.with_name(f"{out.stem}_sampling.csv")


def run_record(command, seconds):
    """What the summary says about a run: the command, its wall time, the machine and which
    sklstm was measured (where it was imported from and the git commit of that checkout)."""
    import subprocess

    import sklstm

    path = pathlib.Path(sklstm.__file__).parent
    described = f"sklstm {sklstm.__version__} from {path}"
    try:
        git = ["git", "-C", str(path)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--", "."], capture_output=True, text=True, check=True
        ).stdout.strip()
        described += f" at commit {commit}" + (" with uncommitted changes" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        described += " (not in a git checkout)"
    return {
        "command": command,
        "seconds": round(seconds, 1),
        "machine": machine(),
        "sklstm": described,
    }


if __name__ == "__main__":
    main()
