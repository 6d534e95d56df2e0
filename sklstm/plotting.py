"""Plots for forecasts, cross-validation folds, training curves and Optuna searches.

Every function draws on ``ax`` (a new figure's Axes when None) and returns that Axes. matplotlib
and Optuna are imported only when a function is called.
"""

import numpy as np
import pandas as pd

from ._intervals import split_bound_name

__all__ = [
    "plot_cv_folds",
    "plot_forecast",
    "plot_optimization_history",
    "plot_param_importances",
    "plot_training_history",
]


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(8, 4), layout="constrained")[1]


def _columns(data, name):
    """(label, values) pairs of a Series, DataFrame or array, with the time axis."""
    if isinstance(data, pd.Series):
        return _time_axis(data.index), [
            (data.name if data.name is not None else name, data.to_numpy())
        ]
    if isinstance(data, pd.DataFrame):
        return _time_axis(data.index), [(str(c), data[c].to_numpy()) for c in data.columns]
    values = np.asarray(data, dtype=float)
    values = values.reshape(len(values), -1)
    labels = [name] if values.shape[1] == 1 else [f"{name} {i}" for i in range(values.shape[1])]
    return np.arange(len(values)), list(zip(labels, values.T, strict=True))


def _intervals(forecast):
    """``{target: [(percent, lower column, upper column), ...]}`` for the interval bounds
    among the columns of ``forecast`` whose target is a column too."""
    if not isinstance(forecast, pd.DataFrame):
        return {}
    found = {}
    for column in forecast.columns:
        parts = split_bound_name(column)
        if parts and parts[1] == "lower" and parts[0] in forecast.columns:
            upper = f"{parts[0]}_upper_{column.rsplit('_', 1)[1]}"
            if upper in forecast.columns:
                found.setdefault(parts[0], []).append((parts[2], column, upper))
    return found


def _time_axis(index):
    """Values matplotlib can place: annual periods as years (they may precede 1677, where
    time stamps end), other periods as their start time."""
    if isinstance(index, pd.PeriodIndex):
        return index.year if index.freqstr.startswith(("Y", "A")) else index.to_timestamp()
    return index


def plot_forecast(history, forecast, *, predictions=None, n_history=None, ax=None):
    """Plot the observed past of the targets and the forecast of the next steps.

    Each column of ``history`` is a solid line; the forecast of the column of the same name is
    a dashed line with markers in the same colour, starting at the last observation so that it
    visibly continues it, and the forecast horizon is shaded. A pandas time index labels the
    x axis with dates.

    Parameters
    ----------
    history : pandas.Series or pandas.DataFrame
        Observed values of the target(s), indexed by time; one line per column.
    forecast : pandas.DataFrame
        The forecast, e.g. from :meth:`LSTMForecaster.forecast
        <sklstm.LSTMForecaster.forecast>`, with columns named like ``history``'s. Interval
        bounds among its columns (``<column>_lower_80`` and ``<column>_upper_80``, as
        ``forecast(confidence_level=0.8)`` names them) are drawn as shaded bands, the
        narrower levels darker: a fan chart.
    predictions : pandas.Series or pandas.DataFrame, default=None
        Earlier predictions to compare with the history (e.g. one step ahead on a holdout),
        drawn dotted.
    n_history : int, default=None
        Show only the last ``n_history`` rows of the history (and predictions).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The history as solid lines, the forecast dashed with markers, the forecast horizon
        shaded.

    See Also
    --------
    sklstm.LSTMForecaster.forecast : The forecast as a DataFrame with future time stamps.
    plot_cv_folds : The rows each cross-validation fold trains and tests on.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm.plotting import plot_forecast
    >>> past = pd.Series([1.0, 2.0, 3.0], pd.date_range("2024-01-01", periods=3), name="y")
    >>> future = pd.DataFrame({"y": [4.0, 5.0]}, pd.date_range("2024-01-04", periods=2))
    >>> ax = plot_forecast(past, future)
    >>> ax.get_legend_handles_labels()[1]
    ['y', 'y forecast']
    """
    ax = _axes(ax)
    if n_history is not None:
        history = history.iloc[-int(n_history) :]
        if predictions is not None:
            predictions = predictions.loc[predictions.index >= history.index[0]]
    x, observed = _columns(history, "observed")
    colors = {}
    for label, values in observed:
        (line,) = ax.plot(x, values, label=label, linewidth=1.2)
        colors[label] = line.get_color()
    if predictions is not None:
        px, predicted = _columns(predictions, "predicted")
        for label, values in predicted:
            ax.plot(
                px, values, ":", color=colors.get(label), label=f"{label} predicted", linewidth=1
            )
    intervals = _intervals(forecast)
    bounds = [column for levels in intervals.values() for _, *pair in levels for column in pair]
    fx, forecasts = _columns(forecast.drop(columns=bounds) if bounds else forecast, "forecast")
    origin = x[-1]
    for label, values in forecasts:
        # Start the dashed line at the last observation so it visibly continues the history.
        start = dict(observed).get(label)
        xs = [origin, *fx] if start is not None else list(fx)
        ys = [start[-1], *values] if start is not None else list(values)
        (line,) = ax.plot(
            xs,
            ys,
            "--",
            marker="o",
            markersize=3,
            color=colors.get(label),
            label=f"{label} forecast",
        )
        # The widest interval palest, each narrower one a shade darker: a fan chart.
        for i, (percent, lower, upper) in enumerate(sorted(intervals.get(label, []))[::-1]):
            head = ys[:1] if start is not None else []  # the fan opens at the last observation
            ax.fill_between(
                xs,
                [*head, *forecast[lower]],
                [*head, *forecast[upper]],
                color=line.get_color(),
                alpha=0.15 + 0.1 * i,
                linewidth=0,
                label=f"{label} {percent:g} % interval",
            )
    if isinstance(x, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.axvspan(origin, fx[-1], color="0.9", zorder=0)
    ax.axvline(origin, color="0.5", linewidth=0.8)
    ax.set_title(f"Forecast of the next {len(fx)} steps")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_cv_folds(cv, X, y=None, *, ax=None):
    """Plot which rows each cross-validation fold trains and tests on, over time.

    A time-ordered cross-validation trains on earlier rows and tests on the rows that follow
    them. One row of bars per fold along the time axis makes gaps, overlaps and folds that
    train on the future easy to see before any model is fitted.

    Parameters
    ----------
    cv : cross-validation splitter
        E.g. :class:`~sklearn.model_selection.TimeSeriesSplit`.
    X : array-like of shape (n_rows, n_features)
        The time-ordered rows; a pandas time index, when present, labels the x axis.
    y : array-like, default=None
        Passed to ``cv.split``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One row of bars per fold: training rows in blue, test rows in orange.

    See Also
    --------
    sklearn.model_selection.TimeSeriesSplit : Time-ordered cross-validation folds.
    sklstm.LSTMSearchCV : A search that refuses folds which train on the future.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import TimeSeriesSplit
    >>> from sklstm.plotting import plot_cv_folds
    >>> ax = plot_cv_folds(TimeSeriesSplit(3), np.zeros((40, 2)))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['fold 0', 'fold 1', 'fold 2']
    """
    ax = _axes(ax)
    index = getattr(X, "index", None)
    times = index if isinstance(index, pd.DatetimeIndex) else None
    splits = list(cv.split(X, y))
    for fold, (train, test) in enumerate(splits):
        for rows, color, label in ((train, "tab:blue", "train"), (test, "tab:orange", "test")):
            positions = np.asarray(rows)
            if times is None:
                spans = [(start, length) for start, length in _runs(positions)]
            else:
                step = times[1] - times[0] if len(times) > 1 else pd.Timedelta(1, "D")
                spans = [(times[s], step * n) for s, n in _runs(positions)]
            ax.broken_barh(
                spans, (fold - 0.35, 0.7), color=color, label=label if fold == 0 else None
            )
    ax.set_yticks(range(len(splits)), [f"fold {i}" for i in range(len(splits))])
    ax.invert_yaxis()
    ax.set_xlabel("time" if times is not None else "row")
    ax.set_title(f"{type(cv).__name__}: {len(splits)} folds")
    ax.legend(loc="lower left", fontsize="small")
    return ax


def _runs(positions):
    """Contiguous runs of sorted row positions as (start, length) pairs."""
    if len(positions) == 0:
        return []
    breaks = np.flatnonzero(np.diff(positions) != 1) + 1
    return [(int(run[0]), len(run)) for run in np.split(positions, breaks)]


def plot_training_history(estimator, *, ax=None):
    """Plot the training (and validation) loss per epoch of a fitted estimator.

    The losses are those Keras recorded during ``fit``, on the standardised targets: they
    compare epochs of one fit, not fits on different data. With early stopping the
    validation loss shows where training stopped; its lowest epoch is marked.

    Parameters
    ----------
    estimator : LSTMForecaster or dict
        A fitted estimator (its ``history_`` is used), or such a ``history_`` dict.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One line per recorded metric; the epoch with the lowest validation loss is marked.

    See Also
    --------
    sklstm.LSTMForecaster : Its fitted ``history_`` holds the losses per epoch.

    Examples
    --------
    >>> from sklstm.plotting import plot_training_history
    >>> ax = plot_training_history({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]})
    >>> ax.get_legend_handles_labels()[1]
    ['loss', 'val_loss']
    """
    history = estimator if isinstance(estimator, dict) else estimator.history_
    ax = _axes(ax)
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name)
    if history.get("val_loss"):
        best = int(np.argmin(history["val_loss"]))
        ax.axvline(best + 1, color="0.5", linestyle=":", linewidth=1)
        ax.annotate(
            f"best epoch {best + 1}",
            (best + 1, history["val_loss"][best]),
            textcoords="offset points",
            xytext=(5, 10),
            fontsize="small",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardised targets)")
    ax.set_title("Training history")
    ax.legend(fontsize="small")
    return ax


def _study(search):
    return getattr(search, "study_", search)


def plot_optimization_history(search, *, ax=None):
    """Plot each trial's score and the best score so far of an Optuna search.

    Only complete trials are drawn; the title counts the pruned ones. The y axis is the
    study's objective value: for an :class:`~sklstm.LSTMSearchCV` the scikit-learn score,
    where greater is better.

    Parameters
    ----------
    search : LSTMSearchCV or optuna.study.Study
        A fitted search (its ``study_`` is used) or a single-objective study.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        Completed trials as dots, the best value so far as a step line.

    See Also
    --------
    plot_param_importances : Which hyper-parameters the score varied with.
    sklstm.LSTMSearchCV : The search whose study is drawn.

    Examples
    --------
    >>> import optuna
    >>> from sklstm.plotting import plot_optimization_history
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda trial: trial.suggest_float("x", -1, 1) ** 2, n_trials=5)
    >>> ax = plot_optimization_history(study)
    >>> [line.get_label() for line in ax.get_lines()]
    ['trial', 'best so far']
    """
    import optuna

    study = _study(search)
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    numbers = np.array([t.number for t in trials])
    values = np.array([t.value for t in trials], dtype=float)
    maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
    best = np.maximum.accumulate(values) if maximize else np.minimum.accumulate(values)
    ax = _axes(ax)
    ax.plot(numbers, values, "o", markersize=4, alpha=0.7, label="trial")
    ax.plot(numbers, best, drawstyle="steps-post", color="tab:red", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("score" if maximize else "objective")
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    ax.set_title(f"Optimisation history ({len(trials)} complete, {n_pruned} pruned trials)")
    ax.legend(fontsize="small")
    return ax


def plot_param_importances(search, *, evaluator=None, ax=None):
    """Plot how much each hyper-parameter explains the score, by Optuna's importance evaluator.

    The importances are computed from the complete trials of this study: they say which
    parameters the score varied with on this data and in this search space, not which
    matter in general, and with few trials they are noisy.

    Parameters
    ----------
    search : LSTMSearchCV or optuna.study.Study
        A fitted search (its ``study_`` is used) or a single-objective study with at least
        two complete trials.
    evaluator : optuna.importance.BaseImportanceEvaluator, default=None
        Passed to :func:`optuna.importance.get_param_importances` (fANOVA when None).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on; a new figure's when None.

    Returns
    -------
    ax : matplotlib.axes.Axes
        One horizontal bar per parameter, the most important at the top.

    See Also
    --------
    plot_optimization_history : The score of every trial.
    optuna.importance.get_param_importances : The importances drawn here.

    Examples
    --------
    >>> import optuna
    >>> from sklstm.plotting import plot_param_importances
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(
    ...     lambda t: t.suggest_float("x", -1, 1) ** 2 + 0.01 * t.suggest_float("y", -1, 1),
    ...     n_trials=10,
    ... )
    >>> ax = plot_param_importances(study)
    >>> [t.get_text() for t in ax.get_yticklabels()][::-1]  # most important first
    ['x', 'y']
    """
    import optuna

    importances = optuna.importance.get_param_importances(_study(search), evaluator=evaluator)
    names = list(importances)[::-1]  # barh draws bottom-up: most important last = on top
    ax = _axes(ax)
    ax.barh(range(len(names)), [importances[n] for n in names], color="tab:blue")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("importance")
    ax.set_title("Hyper-parameter importances")
    return ax
