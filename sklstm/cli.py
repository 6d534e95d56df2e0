"""The ``sklstm`` command line: read a CSV, fit, score against baselines, forecast, plot.

A thin layer over the public API and :mod:`sklstm._evaluation`: it parses arguments, calls
them, prints and writes files. Every library (pandas and scikit-learn included) is imported
inside the commands, so that ``sklstm --help`` answers at once. Bad input ends with one line
on stderr and exit status 2.
"""

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import __version__

EXIT_BAD_INPUT = 2
# Column names taken as the time stamps when --date-col is not given.
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
    _interval_argument(parser, default=None)


def _interval_argument(parser, *, default):
    parser.add_argument(
        "--confidence-level",
        type=_fraction,
        nargs="+",
        default=default,
        metavar="C",
        help="add prediction intervals at these levels to the forecast and its plot, e.g. "
        "0.8 0.95, and report their coverage on the holdout"
        + (f" (default: {' '.join(map(str, default))})" if default else ""),
    )


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
        "time, timestamp or ds, if any; else rows are numbered steps); whole numbers "
        "such as 1700 are years",
    )
    parser.add_argument(
        "--date-format",
        metavar="FMT",
        help="strftime format of the time stamps, e.g. %%Y%%m%%d for 20240131 (default: inferred)",
    )
    parser.add_argument(
        "--known",
        action="append",
        default=[],
        metavar="COL",
        help="column whose future values are known (calendar, plan, weather forecast; repeat "
        "for several): the CSV then runs on at least H rows past the last observation, with "
        "the target(s) empty and these columns filled, and each forecast uses them",
    )


def _verbose_argument(parser):
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Keras' progress bar for every epoch and TensorFlow's start-up messages",
    )


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklstm",
        description="LSTM forecasting of multivariate time series (scikit-learn + Keras).",
        epilog="Every column except the date column is used as a feature. "
        "Run 'sklstm demo' for a one-minute tour on bundled weather data.",
    )
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
    _verbose_argument(forecast)
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
        help="trials run at the same time; more than 1 fit in worker processes; -1: one per "
        "core (default: 1, in this process)",
    )
    tune.add_argument(
        "--in-process",
        action="store_true",
        help="fit in this process (already the default with --n-jobs 1)",
    )
    _verbose_argument(tune)
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
    _interval_argument(demo, default=[0.8, 0.95])
    _verbose_argument(demo)
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
    if getattr(args, "known", None):
        args.known = list(dict.fromkeys(args.known))
    commands = {"forecast": _forecast_command, "tune": _tune_command, "demo": _demo_command}
    try:
        commands[args.command](args)
    except InputError as exc:
        print(f"sklstm {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


# -- a quiet TensorFlow ----------------------------------------------------------------------


def _start_tensorflow(verbose):
    """Import Keras (and TensorFlow when it is Keras' backend) and look for GPUs now, with
    TensorFlow's start-up lines hidden unless ``verbose``: they come from its C++ core, past
    Python's logging, and look like failures ("Could not find cuda drivers", "failed call to
    cuInit") on any machine without a GPU.

    This process is the command line's own, so its TensorFlow logger is quietened too (it
    would warn about retracing when a search fits many small models).
    """
    if verbose:
        import keras

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_of_native_code_hidden():
        import keras

        if keras.backend.backend() != "tensorflow":
            return  # KERAS_BACKEND=jax or torch: TensorFlow stays unloaded
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")
    tf.get_logger().setLevel("ERROR")


@contextlib.contextmanager
def _stderr_of_native_code_hidden():
    """Send file descriptor 2 (where C++ libraries write) to a scratch file for a moment."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as scratch:
            os.dup2(scratch.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(saved, 2)
    finally:
        os.close(saved)


# -- reading and checking the data -----------------------------------------------------------


def read_series(path, targets, date_col=None, date_format=None, known=()):
    """Read a CSV into a numeric, time-indexed DataFrame, or raise InputError saying why not.

    With ``known`` columns, the last rows may have the targets (and other unknown columns)
    empty: the future rows whose known values the forecast uses.
    """
    import pandas as pd

    from ._time import looks_like_time, parse_time_column
    from ._validation import did_you_mean

    if not path.is_file():
        raise InputError(f"cannot read {path}: no such file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} as CSV: {str(exc).strip()}") from None
    if date_col is None:
        date_col = next((c for c in frame.columns if str(c).lower() in _DATE_NAMES), None)
    elif date_col not in frame.columns:
        raise InputError(
            f"no date column {date_col!r} in {path}; columns: {list(frame.columns)}."
            + did_you_mean(date_col, frame.columns)
        )
    features = [c for c in frame.columns if c != date_col]
    for target in targets:
        if target not in features:
            raise InputError(
                f"no target column {target!r} in {path}; columns: {features}."
                + did_you_mean(target, features)
            )
    for column in known:
        if column not in features:
            raise InputError(
                f"no known column {column!r} in {path}; columns: {features}."
                + did_you_mean(column, features)
            )
        if column in targets:
            raise InputError(
                f"--known {column} is a --target: a target's future is what is forecast, "
                "never an input."
            )
    if date_col is not None:
        try:
            index = parse_time_column(frame[date_col], date_col, date_format)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        frame = frame.drop(columns=[date_col]).set_axis(index, axis=0)
    else:
        timelike = [c for c in features if looks_like_time(c, frame[c])]
        if timelike:
            print(
                f"note: column {timelike[0]!r} looks like time stamps but is used as a feature; "
                f"pass --date-col {timelike[0]} to use it as the time index.",
                file=sys.stderr,
            )
    n_future = n_future_rows(frame, targets) if known else 0
    for column in frame.columns:
        values = frame[column]
        if column not in known:
            values = values.iloc[: len(values) - n_future]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            example = values.dropna().iloc[0] if values.notna().any() else None
            raise InputError(
                f"column {column!r} is not numeric (e.g. {example!r}); every column except the "
                "date column is used as a feature: remove it or encode it as numbers."
            )
        missing = values.isna().to_numpy()
        if missing.any():
            where = values.index[missing.argmax()]
            raise InputError(
                f"column {column!r} has {int(missing.sum())} missing value(s), the first at "
                f"{where}; fill them (e.g. interpolate) first."
            )
    if frame.shape[1] == 0 or len(frame) == n_future:
        raise InputError(f"{path} holds no data rows.")
    return frame.astype(float)


def n_future_rows(frame, targets):
    """The number of last rows with every target missing: rows after the last observation."""
    observed = frame[list(targets)].notna().all(axis=1).to_numpy()
    return len(frame) - (int(observed.nonzero()[0][-1]) + 1 if observed.any() else 0)


def _check_future_rows(frame, targets, known, horizon):
    """Refuse, before any fit, a CSV without ``horizon`` rows of known values to forecast with."""
    n_future = n_future_rows(frame, targets)
    if known and n_future < horizon:
        raise InputError(
            f"--known {' '.join(known)} needs the known future values for the next {horizon} "
            f"step(s): the CSV has {n_future} row(s) after the last one with every target; "
            f"append {horizon} row(s) with the target(s) empty and {known} filled."
        )


def _n_train_rows(frame, window, horizon, holdout):
    """Rows left for training after the holdout, or an InputError when they are too few."""
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
    frame,
    targets,
    model,
    *,
    horizon,
    holdout,
    out,
    fitted=False,
    refit=False,
    title=None,
    confidence_level=None,
    known=(),
):
    """Fit ``model`` on the first rows (unless ``fitted``), score it on the holdout against
    baselines, forecast after the last observation (with intervals at ``confidence_level``,
    and with the ``known`` columns' values in the rows after it) and write the outputs;
    return the score table."""
    from . import _evaluation, make_horizon_target
    from ._target import horizon_name
    from ._training import EpochProgress

    window = int(model.window)
    full, frame = frame, frame.iloc[: len(frame) - n_future_rows(frame, targets)]
    n_train = _n_train_rows(frame, window, horizon, holdout)
    X, y = make_horizon_target(frame, list(targets), horizon=horizon, known=list(known) or None)
    X_train, X_test, y_train, y_test = _evaluation.split_holdout(X, y, n_train)
    print(
        f"{'Fitted' if fitted else 'Fitting'} {model!r}\non {len(X_train)} rows "
        f"({_span(X_train.index)}); scoring {horizon}-step forecasts\non the {len(X_test)} "
        f"held-out rows ({_span(X_test.index)}).",
        flush=True,
    )
    if not fitted:
        started = time.perf_counter()
        # A progress line on an interactive terminal, on this command's own copy of the
        # model; -v shows Keras' own progress bar instead.
        trained = model
        if not model.verbose and sys.stderr.isatty():
            trained = _with_callback(model, EpochProgress())
        trained.fit(X_train, y_train)
        model = trained
        print(f"Trained {model.n_iter_} epochs in {time.perf_counter() - started:.0f} s.")
        if model.linear_only_:
            print(
                "The LSTM did not beat its linear part on the validation rows: it is left "
                "out, and the forecasts are the linear part's."
            )
        shared = int((model.smoothing_share_ > 0).sum())
        if shared:
            print(
                f"{shared} of {model.n_outputs_} forecast(s) averaged with exponential smoothing "
                "of the target's own column, which helped on the validation rows."
            )
    predictions = {"LSTMForecaster": model.predict(X_test)}
    predictions.update(_evaluation.baseline_predictions(X_train, y_train, X_test, window))
    scores = _evaluation.score_table(y_test, predictions, targets)
    print(f"\nHoldout scores (mean over horizons 1..{horizon}; lower is better):")
    print(scores.to_string(float_format=lambda v: f"{v:.3f}"))
    if confidence_level:
        _print_coverage(model, X_test, y_test, confidence_level)

    if refit:
        print("\nRefitting on all rows before forecasting.", flush=True)
        model.fit(X, y)
    future = model.forecast(full if known else frame, confidence_level=confidence_level)
    print(f"\nForecast for the {horizon} step(s) after {_stamp(frame.index[-1])}:")
    print(future.to_string(float_format=lambda v: f"{v:.2f}"))

    out.mkdir(parents=True, exist_ok=True)
    written = [out / "forecast.csv", out / "scores.csv", out / "scores.md", out / "forecast.png"]
    future.to_csv(written[0], index_label=frame.index.name or "step")
    scores.to_csv(written[1])
    written[2].write_text(_evaluation.markdown_table(scores) + "\n")
    import pandas as pd

    # One step ahead of each held-out row is the next row of the data (horizon >= 1).
    first_steps = [list(y.columns).index(horizon_name(t, 1)) for t in targets]
    one_step = pd.DataFrame(
        predictions["LSTMForecaster"].reshape(len(X_test), -1)[:, first_steps],
        index=frame.index[n_train + 1 : n_train + 1 + len(X_test)],
        columns=list(targets),
    )
    _plot(frame[list(targets)], future, one_step, written[3], title, window, horizon)
    print("\nWrote " + ", ".join(str(p) for p in written))
    return scores


def _print_coverage(model, X_test, y_test, levels):
    """How often the holdout's values fell inside the intervals, against their levels."""
    import numpy as np

    _, bounds = model.predict_interval(X_test, confidence_level=levels)
    y_true = np.asarray(y_test, dtype=float).reshape(len(y_test), -1, 1)
    bounds = bounds.reshape(len(y_test), -1, 2, len(levels))
    inside = (bounds[:, :, 0] <= y_true) & (y_true <= bounds[:, :, 1])
    shares = ", ".join(
        f"{share:.1%} in the {100 * level:g} % interval"
        for level, share in zip(levels, inside.mean(axis=(0, 1)), strict=True)
    )
    print(f"Holdout values inside the prediction intervals: {shares}.")


def _with_callback(model, callback):
    from sklearn.base import clone

    return clone(model).set_params(callbacks=[*(model.callbacks or []), callback])


def _plot(history, future, one_step, path, title, window, horizon):
    from matplotlib.figure import Figure  # matplotlib loads with the first plot

    from .plotting import plot_forecast

    figure = Figure(figsize=(9, 4), layout="constrained")
    ax = figure.add_subplot()
    n_history = max(8 * horizon, 4 * window, 60)
    plot_forecast(history, future, predictions=one_step, n_history=n_history, ax=ax)
    if title:
        ax.set_title(title)
    figure.savefig(path, dpi=110)


def _span(index):
    return f"{_stamp(index[0])} .. {_stamp(index[-1])}"


def _stamp(value):
    text = str(value)
    return text[:-9] if text.endswith(" 00:00:00") else text


def _forecast_command(args):
    frame = read_series(args.data, args.target, args.date_col, args.date_format, args.known)
    _check_future_rows(frame, args.target, args.known, args.horizon)
    _start_tensorflow(args.verbose)
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
        confidence_level=args.confidence_level,
        known=args.known,
    )


def _demo_command(args):
    from . import LSTMForecaster
    from .datasets import load_seattle_weather

    weather = load_seattle_weather()
    print(
        "sklstm demo: daily Seattle weather 2012-2015 (NOAA, bundled). Forecast the maximum\n"
        "temperature (deg C) of the next 3 days from the last 14 days of all 4 variables.\n"
    )
    _start_tensorflow(args.verbose)
    run_forecast(
        weather,
        ["temp_max"],
        LSTMForecaster(
            window=14, units=32, epochs=args.epochs, random_state=0, verbose=int(args.verbose)
        ),
        horizon=3,
        holdout=365 / (len(weather) - 3),  # the last year, 2015
        out=args.out,
        title="Seattle daily max temperature: last weeks of 2015 and the 3-day forecast",
        confidence_level=args.confidence_level,
    )


# -- the tune job ----------------------------------------------------------------------------


def _tune_command(args):
    frame = read_series(args.data, args.target, args.date_col, args.date_format, args.known)
    _check_future_rows(frame, args.target, args.known, args.horizon)
    observed = frame.iloc[: len(frame) - n_future_rows(frame, args.target)]
    n_train = _n_train_rows(observed, args.window, args.horizon, args.holdout)
    if args.cv < 2:
        raise InputError(f"--cv must be at least 2 (TimeSeriesSplit folds), got {args.cv}.")
    if args.in_process and args.n_jobs != 1:
        raise InputError("--in-process fits one trial at a time: leave out --n-jobs.")
    if args.study_name is not None and args.storage is None:
        raise InputError("--study-name needs --storage (e.g. sqlite:///study.db) to resume.")
    _start_tensorflow(args.verbose)
    from . import make_horizon_target

    X, y = make_horizon_target(
        observed, list(args.target), horizon=args.horizon, known=args.known or None
    )
    search = _run_search(args, X[:n_train], y[:n_train])
    _write_search_outputs(search, args.out)
    # The best model, refitted on the search rows, meets the holdout it has never seen.
    run_forecast(
        frame,
        args.target,
        search.best_estimator_,
        horizon=args.horizon,
        holdout=args.holdout,
        out=args.out,
        fitted=True,
        confidence_level=args.confidence_level,
        known=args.known,
    )


def _run_search(args, X_train, y_train):
    """Run (or resume) the study on the training rows and print its outcome."""
    import optuna  # loads with the first search
    from sklearn.model_selection import TimeSeriesSplit

    from . import LSTMForecaster, LSTMSearchCV

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
    return search


def _write_search_outputs(search, out):
    """Write the best parameters, the best model and the study's plots to ``out``."""
    from matplotlib.figure import Figure  # matplotlib loads with the first plot

    from .plotting import plot_optimization_history, plot_param_importances

    out.mkdir(parents=True, exist_ok=True)
    (out / "best_params.json").write_text(
        json.dumps(search.best_params_, indent=2, default=str) + "\n"
    )
    search.best_estimator_.save(out / "model.sklstm.zip")
    written = [out / "best_params.json", out / "model.sklstm.zip"]
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
        figure.savefig(out / name, dpi=110)
        written.append(out / name)
    print("Wrote " + ", ".join(str(p) for p in written) + "\n")


if __name__ == "__main__":
    sys.exit(main())
