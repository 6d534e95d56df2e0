"""Forecast accuracy of LSTMForecaster against the baselines a user would otherwise pick.

Every model sees the same windows of the same rows, split in time order: it is fitted on the
training rows and scored on the test rows that follow them, each test origin from its true
preceding window. The neural models share one training budget (at most 50 epochs, early
stopping on the last 10 % of the training rows, Adam with learning rate 1e-3). Scores are MAE
and RMSE on the original scale of the target, medians over the seeds, and the ratio of the MAE
to that of naive persistence (< 1 beats it).

Models
    persistence      the target's last observed value, for every step ahead
    seasonal naive   the value one season earlier (data sets with a season)
    ridge            make_pipeline(SlidingWindowTransformer(w, flatten=True), Ridge())
    blog LSTM        LSTM(50, activation="relu") + Dense in plain Keras, min-max scaled
    LSTMForecaster   sklstm defaults (window set per data set, the shared budget)

Data sets (all offline: bundled with sklstm, or shipped by statsmodels)
    hourly_temperatures  Seattle temperature 1..6 h ahead from Seattle and San Francisco
                         (daily season, exogenous input), NOAA 2010
    co2                  weekly Mauna Loa CO2 (statsmodels), 1 week ahead; the test range lies
                         above everything seen in training
    seattle_weather      daily maximum temperature 1 day ahead from 4 weather variables
    macrodata            quarterly US log real GDP (statsmodels), 1 quarter ahead, trending

    python benchmarks/accuracy.py                   # the table in docs/accuracy.md, 15-20 min
    python benchmarks/accuracy.py --quick           # 1 seed, 10 epochs: a smoke run (~2 min)
    python benchmarks/accuracy.py --variants        # also the level-shift variants (~1 hour)
    python benchmarks/accuracy.py --only-variants   # only those (and the naive models)
    python benchmarks/accuracy.py --datasets co2 --seeds 0 1 2 3 4

Timings are wall seconds of ``fit`` on this machine; they vary with the load on it.
"""

import argparse
import pathlib
import sys
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _common import machine, markdown_table  # noqa: E402

EPOCHS, PATIENCE, LEARNING_RATE, VALIDATION_FRACTION = 50, 10, 1e-3, 0.1


# -- data sets ---------------------------------------------------------------------------------


def hourly_temperatures():
    from sklstm.datasets import load_hourly_temperatures

    frame = load_hourly_temperatures().iloc[: 24 * 150]  # January to May: 150 days
    return dict(frame=frame, target="seattle", horizon=6, window=24, season=24, n_test=24 * 30)


def co2():
    import statsmodels.api as sm

    frame = sm.datasets.co2.load_pandas().data.interpolate(limit_direction="both")
    return dict(frame=frame, target="co2", horizon=1, window=24, season=52, n_test=52 * 8)


def seattle_weather():
    from sklstm.datasets import load_seattle_weather

    frame = load_seattle_weather()
    return dict(frame=frame, target="temp_max", horizon=1, window=14, season=None, n_test=365)


def macrodata():
    import statsmodels.api as sm

    data = sm.datasets.macrodata.load_pandas().data
    index = pd.PeriodIndex.from_fields(year=data.year.astype(int), quarter=data.quarter.astype(int))
    frame = pd.DataFrame(
        {
            "log_realgdp": np.log(data.realgdp),
            "log_realcons": np.log(data.realcons),
            "unemp": data.unemp,
        }
    ).set_axis(index)
    return dict(frame=frame, target="log_realgdp", horizon=1, window=8, season=None, n_test=40)


DATASETS = {
    "hourly_temperatures": hourly_temperatures,
    "co2": co2,
    "seattle_weather": seattle_weather,
    "macrodata": macrodata,
}


def prepare(spec):
    """Features, targets, the split and the naive forecasts of one data set."""
    from sklstm import make_horizon_target

    frame, target, horizon = spec["frame"], spec["target"], spec["horizon"]
    X, y = make_horizon_target(frame, target, horizon=horizon)
    n_train = len(X) - spec["n_test"]
    series = frame[target].to_numpy()
    rows = np.arange(n_train, len(X))  # test origins t; y[t, k - 1] = series[t + k]
    steps = np.arange(1, horizon + 1)
    naive = {"persistence": np.repeat(series[rows, None], horizon, axis=1)}
    if spec["season"]:
        # The last value one season before each target time, seen at the origin.
        lag = spec["season"] * np.ceil(steps / spec["season"]).astype(int)
        naive["seasonal naive"] = series[rows[:, None] + steps - lag]
    return X, y, n_train, naive


# -- models -------------------------------------------------------------------------------------


def fit_lstm_forecaster(X_train, y_train, X_test, *, window, seed, params):
    from sklstm import LSTMForecaster

    model = LSTMForecaster(
        window=window,
        epochs=EPOCHS,
        patience=PATIENCE,
        learning_rate=LEARNING_RATE,
        validation_fraction=VALIDATION_FRACTION,
        random_state=seed,
        **params,
    )
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return np.reshape(model.predict(X_test), (len(X_test), -1)), seconds, model.n_iter_


def fit_delta(X_train, y_train, X_test, *, window, seed, params, target):
    """LSTMForecaster on changes from the target's last observed value (a variant)."""
    last_train = X_train[[target]].to_numpy()
    y_delta = y_train - last_train
    pred, seconds, n_iter = fit_lstm_forecaster(
        X_train, y_delta, X_test, window=window, seed=seed, params=params
    )
    return pred + X_test[[target]].to_numpy(), seconds, n_iter


def fit_ridge(X_train, y_train, X_test, *, window, seed):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from sklstm import SlidingWindowTransformer

    model = make_pipeline(SlidingWindowTransformer(window, flatten=True), Ridge())
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return np.reshape(model.predict(X_test), (len(X_test), -1)), seconds, None


def fit_blog(X_train, y_train, X_test, *, window, seed):
    """The blog recipe: min-max scale, LSTM(50, relu), Dense, Adam, MSE."""
    import keras
    from sklearn.preprocessing import MinMaxScaler

    from sklstm import sliding_windows

    x_scaler = MinMaxScaler().fit(X_train)
    y_scaler = MinMaxScaler().fit(y_train)
    rows = x_scaler.transform(pd.concat([X_train, X_test]).to_numpy())
    windows = np.ascontiguousarray(sliding_windows(rows, window), dtype=np.float32)
    n_train = len(X_train)
    # The same training windows as LSTMForecaster: those with a full history.
    train_windows = windows[window - 1 : n_train]
    train_y = y_scaler.transform(y_train)[window - 1 :]
    n_val = max(1, round(VALIDATION_FRACTION * len(train_windows)))
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(train_windows.shape[1:]),
            keras.layers.LSTM(50, activation="relu"),
            keras.layers.Dense(train_y.shape[1]),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(
        train_windows[:-n_val],
        train_y[:-n_val],
        validation_data=(train_windows[-n_val:], train_y[-n_val:]),
        epochs=EPOCHS,
        batch_size=32,
        callbacks=[stop],
        verbose=0,
    )
    seconds = time.perf_counter() - start
    pred = model.predict(windows[n_train:], verbose=0, batch_size=1024)
    return y_scaler.inverse_transform(pred), seconds, len(history.history["loss"])


def fit_zero_highway(X_train, y_train, X_test, *, window, seed):
    """LSTMForecaster whose highway starts at zero, not at least squares (a variant)."""
    from unittest import mock

    with mock.patch("sklstm._network.fit_highway", lambda model, batches: False):
        return fit_lstm_forecaster(X_train, y_train, X_test, window=window, seed=seed, params={})


# LSTMForecaster parameter sets compared with --variants (the level-shift approaches).
VARIANTS = {
    "LSTMForecaster highway zero-initialised": "zero-highway",
    "LSTMForecaster highway=False centering=None": dict(highway=False, centering=None),
    "LSTMForecaster highway=True centering=None": dict(highway=True, centering=None),
    "LSTMForecaster highway=True centering=mean": dict(highway=True, centering="mean"),
    "LSTMForecaster predicting changes": "delta",
}


def models(with_variants, only_variants=False):
    listed = (
        {}
        if only_variants
        else {
            "ridge": fit_ridge,
            "blog LSTM(50, relu)": fit_blog,
            "LSTMForecaster (defaults)": lambda *a, **k: fit_lstm_forecaster(*a, params={}, **k),
        }
    )
    if with_variants:
        for name, params in VARIANTS.items():
            if params in ("delta", "zero-highway"):
                listed[name] = params
            else:
                listed[name] = lambda *a, p=params, **k: fit_lstm_forecaster(*a, params=p, **k)
    return listed


# -- scoring ------------------------------------------------------------------------------------


def scores(y_true, y_pred):
    error = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)
    return float(np.mean(np.abs(error))), float(np.sqrt(np.mean(error**2)))


def run_dataset(name, seeds, with_variants, log, only_variants=False):
    spec = DATASETS[name]()
    X, y, n_train, naive = prepare(spec)
    X_train, y_train, X_test = X.iloc[:n_train], y.iloc[:n_train], X.iloc[n_train:]
    y_test = y.iloc[n_train:].to_numpy()
    window = spec["window"]
    rows = []
    base_mae = scores(y_test, naive["persistence"])[0]
    train_range = y_train.to_numpy().min(), y_train.to_numpy().max()
    log(
        f"\n{name}: {len(X)} rows ({n_train} train, {len(X) - n_train} test), "
        f"{X.shape[1]} features, horizon {spec['horizon']}, window {window}; "
        f"train y in [{train_range[0]:.4g}, {train_range[1]:.4g}], "
        f"test y in [{y_test.min():.4g}, {y_test.max():.4g}]"
    )
    for model_name, pred in naive.items():
        mae, rmse = scores(y_test, pred)
        rows.append(row(name, model_name, [mae], [rmse], [0.0], base_mae, "-"))
        log(f"  {model_name:46s} MAE {mae:.4g}  RMSE {rmse:.4g}  ratio {mae / base_mae:.3f}")
    for model_name, fit in models(with_variants, only_variants).items():
        maes, rmses, seconds = [], [], []
        for seed in seeds if model_name != "ridge" else seeds[:1]:
            if fit == "zero-highway":
                pred, sec, n_iter = fit_zero_highway(
                    X_train, y_train, X_test, window=window, seed=seed
                )
            elif fit == "delta":
                pred, sec, n_iter = fit_delta(
                    X_train,
                    y_train,
                    X_test,
                    window=window,
                    seed=seed,
                    params={},
                    target=spec["target"],
                )
            else:
                pred, sec, n_iter = fit(X_train, y_train, X_test, window=window, seed=seed)
            mae, rmse = scores(y_test, pred)
            maes.append(mae)
            rmses.append(rmse)
            seconds.append(sec)
            flat = np.ptp(pred[:, 0]) < 1e-3 * np.ptp(y_test[:, 0])
            log(
                f"  {model_name:46s} seed {seed}: MAE {mae:.4g}  RMSE {rmse:.4g}  "
                f"ratio {mae / base_mae:.3f}  fit {sec:.1f}s  epochs {n_iter}"
                + ("  FLAT FORECAST" if flat else "")
            )
        n_seeds = len(maes) if model_name != "ridge" else "- (deterministic)"
        rows.append(row(name, model_name, maes, rmses, seconds, base_mae, n_seeds))
    return rows


def row(dataset, model, maes, rmses, seconds, base_mae, seeds):
    mae = float(np.median(maes))
    return {
        "data set": dataset,
        "model": model,
        "MAE": mae,
        "RMSE": float(np.median(rmses)),
        "MAE / persistence": mae / base_mae,
        "fit seconds": float(np.median(seconds)),
        "seeds": seeds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", action="store_true", help="also the level-shift variants")
    parser.add_argument(
        "--only-variants", action="store_true", help="only the variants (and the naive models)"
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, 10 epochs: a smoke run")
    parser.add_argument(
        "--out", default=str(pathlib.Path(__file__).parent / "results" / "accuracy.md")
    )
    args = parser.parse_args(argv)
    global EPOCHS
    if args.quick:
        args.seeds, EPOCHS = args.seeds[:1], 10
    warnings.filterwarnings("ignore", category=UserWarning)

    rows = []
    for name in args.datasets:
        rows.extend(
            run_dataset(
                name,
                args.seeds,
                args.variants or args.only_variants,
                lambda s: print(s, flush=True),
                args.only_variants,
            )
        )
    columns = ["data set", "model", "MAE", "RMSE", "MAE / persistence", "fit seconds", "seeds"]
    table = markdown_table(rows, columns)
    print("\n" + table)
    if not args.quick:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            "<!-- Written by benchmarks/accuracy.py; do not edit by hand. -->\n\n"
            f"Median over seeds {args.seeds}; at most {EPOCHS} epochs, early stopping "
            f"(patience {PATIENCE}) on the last {VALIDATION_FRACTION:.0%} of the training rows, "
            f"Adam {LEARNING_RATE:g}. Fit seconds measured on {machine()}, "
            "shared with other jobs, so they are noisy.\n\n" + table + "\n"
        )
        print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
