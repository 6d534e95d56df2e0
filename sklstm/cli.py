"""The ``sklstm`` command line: read a CSV, fit, score against persistence, forecast, plot.

A thin layer over the public API. Heavy libraries (pandas, scikit-learn, TensorFlow, Optuna,
matplotlib) are imported inside the commands, so ``sklstm --help`` answers at once. Bad input
ends with one line on stderr and exit status 2.
"""

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 2
_DATE_NAMES = ("date", "datetime", "time", "timestamp", "ds")


class InputError(Exception):
    """Bad input from the user: reported as one line, exit status 2."""


# -- argument parsing ------------------------------------------------------------------------


def _model_arguments(parser, *, epochs):
    parser.add_argument(
        "--horizon",
        type=_positive_int,
        default=1,
        metavar="H",
        help="forecast the next H steps (default: 1)",
    )
    parser.add_argument(
        "--window",
        type=_positive_int,
        default=24,
        metavar="W",
        help="time steps the LSTM sees per forecast (default: 24)",
    )
    parser.add_argument(
        "--epochs",
        type=_positive_int,
        default=epochs,
        metavar="N",
        help=f"maximum training epochs, with early stopping (default: {epochs})",
    )
    parser.add_argument(
        "--holdout",
        type=_fraction,
        default=0.2,
        metavar="F",
        help="fraction of the last rows held out for scoring (default: 0.2)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def _data_arguments(parser):
    parser.add_argument("data", type=Path, help="CSV file, one row per time step")
    parser.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="COL",
        help="column to forecast (repeat for several)",
    )
    parser.add_argument(
        "--date-col",
        metavar="C",
        help="column of time stamps (default: a column named date, datetime, "
        "time, timestamp or ds, if any; else rows are numbered steps)",
    )


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklstm",
        description="LSTM forecasting of multivariate time series (scikit-learn + Keras).",
        epilog="Every column except the date column is used as a feature. "
        "Run 'sklstm demo' for a one-minute tour on bundled weather data.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"sklstm {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    forecast = commands.add_parser(
        "forecast",
        help="fit on a CSV, score on a holdout against persistence, forecast the next steps",
        description="Fit an LSTMForecaster on the CSV's first rows, score it on the last rows "
        "against naive persistence, then forecast the H steps after the last row. Writes "
        "forecast.csv, scores.csv, scores.md and forecast.png to --out.",
    )
    _data_arguments(forecast)
    _model_arguments(forecast, epochs=50)
    forecast.add_argument(
        "--units", type=_positive_int, default=32, help="LSTM units (default: 32)"
    )
    forecast.add_argument(
        "-v", "--verbose", action="store_true", help="show Keras' progress bar for every epoch"
    )
    forecast.add_argument(
        "--refit",
        action="store_true",
        help="refit on all rows (holdout included) before forecasting",
    )
    forecast.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")

    tune = commands.add_parser(
        "tune",
        help="search hyper-parameters with Optuna (LSTMSearchCV), resumable",
        description="Run LSTMSearchCV with TimeSeriesSplit on the CSV's first rows, then score "
        "the best model on the last rows against persistence. With --storage, a rerun with "
        "the same --study-name resumes the study (raise --n-trials to add trials). Writes "
        "best_params.json, the best model (model.sklstm.zip), the study plots and the score "
        "table to --out.",
    )
    _data_arguments(tune)
    _model_arguments(tune, epochs=30)
    tune.add_argument(
        "--n-trials",
        type=_positive_int,
        required=True,
        metavar="N",
        help="trials the study should hold; those of an earlier run on --storage count, so "
        "rerunning an interrupted command finishes it",
    )
    tune.add_argument(
        "--cv",
        type=_positive_int,
        default=3,
        metavar="K",
        help="TimeSeriesSplit folds (default: 3)",
    )
    tune.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage, e.g. sqlite:///study.db, to resume a study",
    )
    tune.add_argument("--study-name", metavar="S", help="name of the study in --storage")
    tune.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        metavar="J",
        help="trials run at the same time, each in a worker process; -1: one per core",
    )
    tune.add_argument(
        "--in-process",
        action="store_true",
        help="fit in this process instead of worker processes: quicker to start for small "
        "searches, but memory grows with every fit",
    )
    tune.add_argument("--out", type=Path, required=True, metavar="DIR", help="output directory")

    demo = commands.add_parser(
        "demo",
        help="forecast Seattle's maximum temperature from bundled NOAA data (about a minute)",
        description="Fit on 2012-2014 daily Seattle weather, score on 2015 against "
        "persistence and a lagged ridge regression, forecast the first days of 2016.",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("sklstm-demo"),
        metavar="DIR",
        help="output directory (default: ./sklstm-demo)",
    )
    demo.add_argument(
        "--epochs",
        type=_positive_int,
        default=40,
        metavar="N",
        help="maximum training epochs (default: 40)",
    )
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
    return value


def main(argv=None):
    """Run the ``sklstm`` command line; return its exit status."""
    args = _parser().parse_args(argv)
    if getattr(args, "target", None):
        args.target = list(dict.fromkeys(args.target))  # --target a --target a: once
    # TensorFlow's C++ start-up chatter is noise on a command line; a user's own setting wins.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if args.command == "forecast":
            _forecast_command(args)
        elif args.command == "tune":
            _tune_command(args)
        else:
            _demo_command(args)
    except InputError as exc:
        print(f"sklstm {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


# -- reading and checking the data -----------------------------------------------------------


def read_series(path, targets, date_col=None):
    """Read a CSV into a numeric, time-indexed DataFrame, or raise InputError saying why not."""
    import pandas as pd

    if not path.is_file():
        raise InputError(f"cannot read {path}: no such file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as CSV: {str(exc).strip()}") from None
    if date_col is None:
        date_col = next((c for c in frame.columns if str(c).lower() in _DATE_NAMES), None)
    elif date_col not in frame.columns:
        raise InputError(f"no date column {date_col!r} in {path}; columns: {list(frame.columns)}.")
    for target in targets:
        if target not in frame.columns or target == date_col:
            raise InputError(
                f"no target column {target!r} in {path}; columns: "
                f"{[c for c in frame.columns if c != date_col]}."
            )
    if date_col is not None:
        frame = frame.set_index(_parse_dates(frame[date_col], date_col))
        frame = frame.drop(columns=[date_col])
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise InputError(
                f"column {column!r} is not numeric (e.g. {example!r}); every column except the "
                "date column is used as a feature: remove it or encode it as numbers."
            )
        missing = values.isna().to_numpy()
        if missing.any():
            where = frame.index[missing.argmax()]
            raise InputError(
                f"column {column!r} has {int(missing.sum())} missing value(s), the first at "
                f"{where}; fill them (e.g. interpolate) first."
            )
    if frame.shape[1] == 0 or len(frame) == 0:
        raise InputError(f"{path} holds no data rows.")
    return frame.astype(float)


def _parse_dates(column, name):
    import pandas as pd

    try:
        index = pd.DatetimeIndex(pd.to_datetime(column))
    except (ValueError, TypeError) as exc:
        raise InputError(f"date column {name!r} holds values that are not dates ({exc}).") from None
    if index.hasnans:
        raise InputError(f"date column {name!r} has empty values.")
    if index.has_duplicates:
        raise InputError(
            f"date column {name!r} has duplicated time stamps (first: "
            f"{index[index.duplicated()][0]}); each row must be one time step: aggregate or "
            "drop the duplicates."
        )
    if not index.is_monotonic_increasing:
        position = int((index[1:] < index[:-1]).argmax()) + 1
        raise InputError(
            f"date column {name!r} is not sorted in time: {index[position]} comes after "
            f"{index[position - 1]}; sort the rows by date first."
        )
    if len(index) >= 3:
        freq = pd.DatetimeIndex(index, freq="infer").freq
        if freq is None:
            steps = index[1:] - index[:-1]
            usual = pd.Series(steps).mode()[0]
            position = int((steps != usual).argmax())
            raise InputError(
                f"date column {name!r} is not evenly spaced: most steps are "
                f"{_step_text(usual)}, but {index[position]} is followed by "
                f"{index[position + 1]}; fill the gaps (e.g. resample and interpolate) first."
            )
        index = pd.DatetimeIndex(index, freq=freq, name=name)
    return index.rename(name)


def _step_text(step):
    from pandas.tseries.frequencies import to_offset

    try:
        return f"'{to_offset(step).freqstr}'"
    except ValueError:
        return str(step)


def _check_length(frame, window, horizon, holdout):
    n_usable = len(frame) - horizon
    n_test = int(round(holdout * n_usable))
    n_train = n_usable - n_test
    # The estimator needs a full window plus at least one training and one validation window.
    n_needed_train = window + 2
    if n_test < 1 or n_train < n_needed_train:
        needed = horizon + int(-(-n_needed_train // (1 - holdout))) + 1
        raise InputError(
            f"too few rows: {len(frame)} given, at least {needed} needed for --window {window} "
            f"--horizon {horizon} --holdout {holdout}; use a smaller --window or more data."
        )
    return n_train


# -- the forecast job ------------------------------------------------------------------------


def run_forecast(
    frame, targets, model, *, horizon, holdout, out, fitted=False, refit=False, title=None
):
    """Fit ``model`` on the first rows (unless ``fitted``), score it on the holdout against
    baselines, forecast after the last row and write the outputs; return the score table."""
    window = int(model.window)
    n_train = _check_length(frame, window, horizon, holdout)

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    from . import SlidingWindowTransformer, make_horizon_target

    X, y = make_horizon_target(frame, list(targets), horizon=horizon)
    X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    print(
        f"{'Fitted' if fitted else 'Fitting'} {model!r}\non {len(X_train)} rows "
        f"({_span(X_train.index)}); scoring {horizon}-step forecasts\non the {len(X_test)} "
        f"held-out rows ({_span(X_test.index)}).",
        flush=True,
    )
    started = time.perf_counter()
    if not fitted:
        with _epoch_progress(model):
            model.fit(X_train, y_train)
        print(f"Trained {model.n_iter_} epochs in {time.perf_counter() - started:.0f} s.")
    predictions = {"LSTMForecaster": model.predict(X_test)}
    # Baselines with the same information: lagged regression on the same windows, persistence.
    ridge = make_pipeline(SlidingWindowTransformer(window, flatten=True), Ridge())
    predictions["Ridge on lagged windows"] = ridge.fit(X_train, y_train).predict(X_test)
    # Persistence: every future step equals the last observed value.
    predictions["persistence (last value)"] = np.column_stack(
        [X_test[column.rsplit("_t+", 1)[0]].to_numpy() for column in y.columns]
    )
    scores = score_table(y_test, predictions, targets)
    print(f"\nHoldout scores (mean over horizons 1..{horizon}; lower is better):")
    print(scores.to_string(float_format=lambda v: f"{v:.3f}"))

    if refit:
        print("\nRefitting on all rows before forecasting.", flush=True)
        model.fit(X, y)
    future = model.forecast(frame)
    print(f"\nForecast for the {horizon} step(s) after {_stamp(frame.index[-1])}:")
    print(future.to_string(float_format=lambda v: f"{v:.2f}"))

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "forecast.csv", out / "scores.csv", out / "scores.md", out / "forecast.png"]
    future.to_csv(written[0], index_label=frame.index.name or "step")
    scores.to_csv(written[1])
    written[2].write_text(markdown_table(scores) + "\n")
    one_step = pd.DataFrame(
        np.reshape(predictions["LSTMForecaster"], (len(X_test), -1))[
            :, [list(y.columns).index(f"{t}_t+1") for t in targets]
        ],
        index=_next_steps(X_test.index, X.index),
        columns=list(targets),
    )
    _plot(frame[list(targets)], future, one_step, written[3], title, window, horizon)
    print("\nWrote " + ", ".join(str(p) for p in written))
    return scores


@contextlib.contextmanager
def _epoch_progress(model):
    """Count epochs on an interactive stderr while ``model`` trains (``--verbose`` shows Keras'
    own progress bar instead)."""
    params = model.get_params()
    if params.get("verbose") or "callbacks" not in params or not sys.stderr.isatty():
        yield
        return
    import keras

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss", float("nan"))
            text = f"\r  epoch {epoch + 1}/{params['epochs']}, training loss {loss:.4f} "
            print(text, end="", file=sys.stderr, flush=True)

    model.set_params(callbacks=[*(params["callbacks"] or []), EpochProgress()])
    try:
        yield
    finally:
        model.set_params(callbacks=params["callbacks"])
        print("\r" + " " * 50 + "\r", end="", file=sys.stderr, flush=True)


def score_table(y_true, predictions, targets):
    """MAE, RMSE and MAE relative to persistence per target and model, over all horizons."""
    import numpy as np
    import pandas as pd

    columns = list(y_true.columns)
    truth = y_true.to_numpy()
    rows = {}
    for target in targets:
        picked = [i for i, c in enumerate(columns) if c.rsplit("_t+", 1)[0] == target]
        for name, pred in predictions.items():
            error = np.reshape(pred, truth.shape)[:, picked] - truth[:, picked]
            rows[(target, name)] = {
                "MAE": np.abs(error).mean(),
                "RMSE": np.sqrt((error**2).mean()),
            }
    table = pd.DataFrame(rows).T
    table.index.names = ["target", "model"]
    naive = table.xs("persistence (last value)", level="model")["MAE"]
    table["MAE / persistence"] = (
        table["MAE"] / naive.reindex(table.index.get_level_values("target")).to_numpy()
    )
    return table


def markdown_table(table):
    """A GitHub-flavoured markdown table of a score table (no extra dependency)."""
    frame = table.reset_index()
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = (
        "|"
        + "|".join("---" if i < table.index.nlevels else "---:" for i in range(frame.shape[1]))
        + "|"
    )
    body = [
        "| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])


def _plot(history, future, one_step, path, title, window, horizon):
    from matplotlib.figure import Figure

    from .plotting import plot_forecast

    figure = Figure(figsize=(9, 4), layout="constrained")
    ax = figure.add_subplot()
    n_history = max(8 * horizon, 4 * window, 60)
    plot_forecast(history, future, predictions=one_step, n_history=n_history, ax=ax)
    if title:
        ax.set_title(title)
    figure.savefig(path, dpi=110)


def _next_steps(index, fitted_index):
    """The time stamps one step after ``index`` (where one-step-ahead predictions belong)."""
    if getattr(fitted_index, "freq", None) is not None:
        return index.shift(1)
    return index + (fitted_index[1] - fitted_index[0])


def _span(index):
    return f"{_stamp(index[0])} .. {_stamp(index[-1])}"


def _stamp(value):
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def _forecast_command(args):
    frame = read_series(args.data, args.target, args.date_col)
    from . import LSTMForecaster

    model = LSTMForecaster(
        window=args.window,
        units=args.units,
        epochs=args.epochs,
        random_state=args.seed,
        verbose=int(args.verbose),
    )
    run_forecast(
        frame,
        args.target,
        model,
        horizon=args.horizon,
        holdout=args.holdout,
        out=args.out,
        refit=args.refit,
    )


def _demo_command(args):
    from .datasets import load_seattle_weather

    weather = load_seattle_weather()
    print(
        "sklstm demo: daily Seattle weather 2012-2015 (NOAA, bundled). Forecast the maximum\n"
        "temperature (deg C) of the next 3 days from the last 14 days of all 4 variables.\n"
    )
    from . import LSTMForecaster

    run_forecast(
        weather,
        ["temp_max"],
        LSTMForecaster(window=14, units=32, epochs=args.epochs, random_state=0),
        horizon=3,
        holdout=365 / (len(weather) - 3),  # the last year, 2015
        out=args.out,
        title="Seattle daily max temperature: last weeks of 2015 and the 3-day forecast",
    )


def _tune_command(args):
    frame = read_series(args.data, args.target, args.date_col)
    n_train = _check_length(frame, args.window, args.horizon, args.holdout)
    if args.cv < 2:
        raise InputError(f"--cv must be at least 2 (TimeSeriesSplit folds), got {args.cv}.")
    if args.in_process and args.n_jobs != 1:
        raise InputError("--in-process fits one trial at a time: leave out --n-jobs.")
    if args.study_name is not None and args.storage is None:
        raise InputError("--study-name needs --storage (e.g. sqlite:///study.db) to resume.")

    import json

    import optuna
    from matplotlib.figure import Figure
    from sklearn.model_selection import TimeSeriesSplit

    from . import LSTMForecaster, make_horizon_target

    try:
        from . import LSTMSearchCV
    except ImportError:
        raise InputError("this sklstm has no LSTMSearchCV: upgrade sklstm to tune.") from None
    from .plotting import plot_optimization_history, plot_param_importances

    X, y = make_horizon_target(frame, list(args.target), horizon=args.horizon)
    X_train, y_train = X[:n_train], y[:n_train]
    estimator = LSTMForecaster(window=args.window, epochs=args.epochs, random_state=args.seed)
    search = LSTMSearchCV(
        estimator,
        n_trials=args.n_trials,
        cv=TimeSeriesSplit(args.cv),
        scoring="neg_mean_absolute_error",
        storage=args.storage,
        study_name=args.study_name,
        random_state=args.seed,
        verbose=1,
        n_jobs=args.n_jobs,
    )
    if args.in_process:
        search.set_params(fits_per_process=None)
    print(
        f"Searching up to {args.n_trials} trials around {estimator!r}\nwith "
        f"TimeSeriesSplit({args.cv}) on {len(X_train)} rows ({_span(X_train.index)}).",
        flush=True,
    )
    # The progress bar is the report; Optuna's per-trial log lines would interleave with it.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        search.fit(X_train, y_train)
    except ValueError as exc:  # e.g. every trial pruned, or a storage that cannot be opened
        raise InputError(f"the search failed: {exc}") from None
    states = [trial.state.name for trial in search.study_.trials]
    print(
        f"\nStudy {search.study_.study_name!r}: {states.count('COMPLETE')} complete, "
        f"{states.count('PRUNED')} pruned trials. Best cross-validated MAE "
        f"{-search.best_score_:.4g} with:"
    )
    print(json.dumps(search.best_params_, indent=2, default=str))

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "best_params.json").write_text(
        json.dumps(search.best_params_, indent=2, default=str) + "\n"
    )
    search.best_estimator_.save(args.out / "model.sklstm.zip")
    written = [args.out / "best_params.json", args.out / "model.sklstm.zip"]
    for name, plot in (
        ("optimization_history.png", plot_optimization_history),
        ("param_importances.png", plot_param_importances),
    ):
        figure = Figure(figsize=(7, 4), layout="constrained")
        try:
            plot(search, ax=figure.add_subplot())
        except (ValueError, RuntimeError) as exc:  # e.g. importances need 2+ complete trials
            print(f"(no {name}: {exc})")
            continue
        figure.savefig(args.out / name, dpi=110)
        written.append(args.out / name)
    print("Wrote " + ", ".join(str(p) for p in written) + "\n")
    # The best model, refitted on the search rows, meets the holdout it has never seen.
    run_forecast(
        frame,
        args.target,
        search.best_estimator_,
        horizon=args.horizon,
        holdout=args.holdout,
        out=args.out,
        fitted=True,
    )


if __name__ == "__main__":
    sys.exit(main())
