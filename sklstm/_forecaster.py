"""LSTMForecaster: a scikit-learn regressor over time-ordered rows."""

import contextlib
import logging
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from . import _linear, _smoothing
from ._batches import Windows, column_stats, standardize, window_dataset
from ._intervals import (
    MAX_CALIBRATION,
    adaptive_half_widths,
    bound_name,
    check_confidence_levels,
    split_half_widths,
)
from ._persistence import InvalidFile, load_keras_model, read_estimator, write_estimator
from ._sklearn_private import Interval, StrOptions, _fit_context, validate_params
from ._target import (
    KnownFuture,
    horizon_layout,
    source_features,
    target_sources,
    target_steps,
    with_known_future,
)
from ._time import (
    TimeContext,
    detected_season,
    future_index,
    regular_step,
    season_length,
    season_phase,
    time_index,
)
from ._validation import check_n_rows, check_windows_3d, units_per_layer
from ._window import window_context

OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
_KERAS_LOSSES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber": "huber"}
LOSSES = tuple(_KERAS_LOSSES)
# Windows (evenly spaced over longer series) that fit the linear part: its normal equations
# cost (window * n_features)**2 per window.
LINEAR_FIT_WINDOWS = 8192
# Fewer validation windows than this make unstable interval bounds (the coverage of an
# 80 % interval from n residuals varies by about 0.4 / sqrt(n)): below it, the linear part's
# folds calibrate the intervals where they hold more windows.
MIN_NETWORK_CALIBRATION = 100
# Windows per batch where nothing is trained (prediction, validation, the highway's fit).
PREDICT_BATCH = 1024
# Up to this many windows, predict calls the network eagerly. Tracing Keras' predict function
# costs more than it saves there (1.4 s against 0.2 s for 460 windows on 2 cores; eager is
# slower from about 8 batches on), and tracing one per fitted model, as cross-validation and
# searches do, makes TensorFlow warn about retracing.
EAGER_PREDICT_WINDOWS = 4 * PREDICT_BATCH
ACTIVATIONS = ("tanh", "relu", "elu", "selu", "gelu", "sigmoid", "softsign", "linear")
# The longest season whose phase is read (a day of 5-minute rows): a day of 1-minute rows
# would add 1,440 indicator columns to every row, more inputs than the linear part chooses
# its penalties for (_linear.MAX_SELECTED_INPUTS), and a day of seconds 86,400.
MAX_PHASES = 288


class LSTMForecaster(RegressorMixin, BaseEstimator):
    """Forecast from the recent past with a stack of LSTM layers.

    X holds one row per time step, in time order; ``y[t]`` is what must be predicted from rows
    ``t - window + 1 .. t`` of X (put the future values you want in y, e.g. with
    :func:`~sklstm.make_horizon_target`). The prediction for row ``t`` never depends on a row
    after it. ``fit`` remembers the last ``window - 1`` rows, so that ``predict`` on rows that
    continue them (a :class:`~sklearn.model_selection.TimeSeriesSplit` test fold) uses their
    true preceding window. Inputs and targets are standardised on the training rows inside the
    estimator; predictions come back on y's scale.

    Parameters
    ----------
    window : int, default=24
        Number of time steps the network sees for each prediction.
    units : int or tuple of int, default=50
        Units per LSTM layer: one int for ``n_layers`` equal layers, or one int per layer.
    n_layers : int, default=1
        Number of stacked LSTM layers when ``units`` is an int.
    dropout : float, default=0.0
        Rate of the dropout layer after each LSTM layer.
    recurrent_dropout : float, default=0.0
        Dropout of the recurrent state inside the LSTM cells. Any value > 0 rules out the
        fast cuDNN kernel on GPUs.
    bidirectional : bool, default=False
        Read each window forwards and backwards (both directions only see the window's past).
    activation : str, default="tanh"
        Cell activation; "tanh" is the one the cuDNN kernel supports.
    highway : bool, default=True
        Add a linear part to the output (LSTNet's highway): ridge regressions on the window
        that shrink each output toward a simple forecast (an *anchor*: persistence, the
        seasonal naive forecast (the season ``season_``), the seasonal naive plus the last
        season's change, the mean of the window's seasons, exponentially weighted means, the
        drift, the window's least-squares trend, or zero), with each anchor's penalty chosen
        per output on time-ordered folds of the training windows, and the fits toward the
        anchors that validate about as well as the best averaged. The anchors but zero need
        the target's own column among the inputs: targets named ``<column>_t+<k>``, as
        :func:`~sklstm.make_horizon_target` names them, or values found in X. The linear
        part is fitted before training and stays fixed; the LSTM learns what it misses, and
        is left out unless it clearly lowers the validation loss (see ``linear_only_``). The
        linear part is then refitted on every training window, the validation windows
        included.
    centering : {"last", "mean"} or None, default="last"
        Subtract each window's last step ("last") or mean from the LSTM's input, so the LSTM
        models the shape of the recent past and the highway carries its level.
    learning_rate : float, default=1e-3
        Learning rate of the optimizer.
    optimizer : {"adam", "adamw", "nadam", "rmsprop", "sgd"}, default="adam"
        Keras optimizer, built fresh at every fit.
    loss : {"mse", "mae", "huber"}, default="mse"
        Training loss on the standardised targets.
    epochs : int, default=100
        Maximum number of passes over the training windows.
    batch_size : int, default=32
        Windows per gradient step.
    early_stopping : bool, default=True
        Stop when the loss on the last ``validation_fraction`` of the training rows (in time
        order, never shuffled) has not improved for ``patience`` epochs, and restore the best
        weights.
    validation_fraction : float, default=0.1
        Fraction of the training windows, taken from the end, used for early stopping.
    patience : int, default=10
        Epochs without improvement before early stopping.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, dropout and shuffling. An int gives identical predictions across fits and
        processes on the same CPU. Global random states are never touched.
    verbose : int, default=0
        Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for every fit (logging, timing, custom stopping), called after
        the built-in early stopping. :func:`~sklearn.base.clone` deep-copies them.
    known_future : "auto", list of str or None, default="auto"
        Columns whose future values X holds (the known-future block that
        :func:`~sklstm.make_horizon_target` adds with ``known=``: columns
        ``<column>_t+1 .. <column>_t+<k>``). The LSTM reads the other columns over the
        window; the block of row ``t`` joins the LSTM's final state and the linear part once.
        "auto" takes every such column whose ``<column>`` is also in X; a list declares them
        (and refuses X without them); None treats them as ordinary columns. A block holding
        a target's own future is refused.
    seasonal_phase : "auto" or None, default="auto"
        "auto" gives the linear part and the LSTM's final state the phase of each row in its
        season, one-hot: the day of the week, the month or quarter of the year, the week of
        the year or the time of day, read from X's time index when its regular step has a
        season (a DatetimeIndex or PeriodIndex: 7 days, 5 business days, 52 weeks, 12 months,
        4 quarters, or a day of hourly to 5-minute rows). The linear part then learns a
        seasonal profile from every training row, not only from the seasons one window
        holds. Rows given later without their index take their phases as they take their
        history (see Notes); 3-D windows cannot be given a phase and are refused. None reads
        no phase; nor does a model fitted on X without such an index.
    fallback : "ets" or None, default="ets"
        "ets" lets each output whose own column is among the inputs (as for the linear
        part's anchors) fall back on exponential smoothing of that column: additive
        Holt-Winters with a damped trend, and the season ``season_`` where there is one
        (up to 52 rows). Unlike the window, its level and season carry the whole
        history, which a short series needs. On the windows the calibration residuals come
        from, which the model did not train on, each output keeps the model's forecast or
        averages it with the smoothing's, whichever erred less (``smoothing_share_``). The
        smoothing's state then runs on through the rows given to ``predict`` as the
        window's history does; 3-D windows cannot carry it and are refused where it has a
        share. None never falls back.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    history_ : dict of str to list of float
        Per-epoch training ``loss`` (and ``val_loss`` with early stopping).
    n_iter_ : int
        Number of epochs run.
    linear_only_ : bool
        True when the trained network did not lower the validation loss of the linear part
        alone by more than its standard error: the LSTM is left out (its output weights
        at zero). Always False without ``highway`` or ``early_stopping``.
    smoothing_share_ : ndarray of shape (n_outputs_,)
        Share of the exponential smoothing in each output's forecast (``fallback``): 0 or
        0.5. Zeros without ``early_stopping`` (no windows to choose on).
    calibration_residuals_ : ndarray of shape (n_calibration, n_outputs_)
        Residuals ``y - y_pred`` on windows the model did not train on, in time order (the
        last 1,000 at most): what :meth:`predict_interval` makes intervals from. Those of the
        network on the validation windows, before its linear part is refitted on them;
        when only the linear part is kept (``linear_only_``), or the validation windows are
        fewer than 100, those of the linear part on its time-ordered folds, each fitted on
        the windows before it (which cover most training windows); blended with the
        smoothing's where it has a share. Empty without ``early_stopping``.
    n_features_in_ : int
        Number of features seen during :term:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X` has feature names
        that are all strings.
    n_outputs_ : int
        Number of targets.
    known_future_ : list of str
        The columns whose known-future block X holds; empty when it holds none.
    seasonal_phase_ : int or None
        Rows per season of the phase the model reads (``seasonal_phase``), or None when it
        reads none.
    season_ : int or None
        Rows per season of the linear part's seasonal anchors and of the smoothing
        (``fallback``): the season of X's time index where its regular step has one (as for
        ``seasonal_phase``), else one read from the targets' own columns in the rows before
        the validation windows (the highest peak, at lags 2 to ``window - 1``, of the
        autocorrelation of their changes, if above 0.3); None when neither gives one (and
        for 3-D windows).
    last_window_ : ndarray of shape (min(window - 1, n_rows), n_features_in_)
        The last rows seen during :term:`fit`: history for the rows that continue them.
    x_mean_, x_scale_ : ndarray of shape (n_features_in_ + (seasonal_phase_ or 0),)
        Per-feature mean and standard deviation of the training rows: X's columns but the
        known-future block, the seasonal phase's indicators (if any), then the block (if
        any). The scale is 1 for an input constant in the training rows; the network gives
        such an input no weight, since it never saw what the input does when it moves.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Per-target mean and standard deviation of the training targets.

    See Also
    --------
    SlidingWindowTransformer : The same windows for any scikit-learn estimator.
    make_horizon_target : Build ``(X, y)`` for a forecast horizon.

    Notes
    -----
    Rows without ``window - 1`` predecessors (the start of the fitted data, or data that does
    not continue it) repeat their earliest available row as history. With a pandas index,
    continuity is read from the index; with arrays, X continues the fitted data unless its
    first row equals the first fitted row (an in-sample call). The seasonal phase of rows
    without an index follows the same rule: an in-sample call starts at the first fitted
    row's phase, other rows at the phase after the last fitted row's. The user guide's "Time
    semantics" page describes the rule with a picture.

    Examples
    --------
    >>> from sklstm import LSTMForecaster, make_horizon_target
    >>> from sklstm.datasets import load_seattle_weather
    >>> X, y = make_horizon_target(load_seattle_weather(), "temp_max", horizon=1)
    >>> model = LSTMForecaster(window=7, units=8, epochs=2, random_state=0)
    >>> model.fit(X[:300], y[:300]).predict(X[300:310]).shape
    (10, 1)
    >>> model.n_features_in_, model.n_outputs_
    (4, 1)
    """

    _parameter_constraints = {
        "window": [Interval(Integral, 1, None, closed="left")],
        "units": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "recurrent_dropout": [Interval(Real, 0, 1, closed="left")],
        "bidirectional": ["boolean"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "highway": ["boolean"],
        "centering": [StrOptions({"last", "mean"}), None],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "loss": [StrOptions(set(LOSSES))],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "known_future": [StrOptions({"auto"}), list, tuple, None],
        "seasonal_phase": [StrOptions({"auto"}), None],
        "fallback": [StrOptions({"ets"}), None],
    }

    def __init__(
        self,
        window=24,
        *,
        units=50,
        n_layers=1,
        dropout=0.0,
        recurrent_dropout=0.0,
        bidirectional=False,
        activation="tanh",
        highway=True,
        centering="last",
        learning_rate=1e-3,
        optimizer="adam",
        loss="mse",
        epochs=100,
        batch_size=32,
        early_stopping=True,
        validation_fraction=0.1,
        patience=10,
        random_state=None,
        verbose=0,
        callbacks=None,
        known_future="auto",
        seasonal_phase="auto",
        fallback="ets",
    ):
        self.window = window
        self.units = units
        self.n_layers = n_layers
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.bidirectional = bidirectional
        self.activation = activation
        self.highway = highway
        self.centering = centering
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.known_future = known_future
        self.seasonal_phase = seasonal_phase
        self.fallback = fallback

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- fitting -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train a fresh network on the windows of X.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features) or (n_rows, window, n_features)
            Time-ordered rows, or windows from :class:`SlidingWindowTransformer`.
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
            Target of each row, to be predicted from the rows up to and including it.

        Returns
        -------
        self : LSTMForecaster
            The fitted estimator.
        """
        window = int(self.window)
        name = type(self).__name__
        units = units_per_layer(self.units, self.n_layers, name)
        target_names = _target_names(y)  # before validation turns y into an array
        if _is_3d(X):
            if self.known_future not in (None, "auto") and len(self.known_future):
                raise ValueError(
                    f"known_future={self.known_future!r} needs X as 2-D rows with named "
                    "columns; 3-D windows carry no column names."
                )
            X, y = _check_windows_and_targets(X, y, window)
            # Ready-made windows carry no column names; what the rows' fit set is stale.
            self.n_features_in_ = X.shape[2]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            self._time = TimeContext.from_windows(X)
            rows, n_history = X.reshape(-1, X.shape[2]), 0
            sources, season = None, None
            self.known_future_ = []
            self.seasonal_phase_ = None
        else:
            index = time_index(X)
            X, y = validate_data(
                self, X, y, multi_output=True, y_numeric=True, dtype=[np.float64, np.float32]
            )
            check_n_rows(len(X), window, window, name)
            names = getattr(self, "feature_names_in_", None)
            known = KnownFuture.of(names, self.known_future, X.shape[1])
            known.check_no_target(X, y, target_names, names)
            self.known_future_ = known.columns
            X = known.arrange(X)
            n_past = X.shape[1] - known.n_known
            step = regular_step(index)
            season = season_length(step)
            reads_phase = self.seasonal_phase is not None and (season or 0) <= MAX_PHASES
            phase = season_phase(index, step) if reads_phase else None
            self.seasonal_phase_ = None if phase is None else season
            X = _with_phase(X, phase, self.seasonal_phase_, n_past)
            # The last full window: the forecast origin, and history for rows that continue it.
            self._time = TimeContext.from_rows(X, index, window)
            # Which input each output is the future of: the linear part may shrink toward it.
            past_names = None if names is None else list(names[known.order[:n_past]])
            sources = target_sources(X[:, :n_past], y, target_names, past_names)
            # The first window - 1 rows lack a full history: they are predicted, never trained on.
            rows, n_history, y = X, window - 1, y[window - 1 :]
        self._target_names = target_names
        self.x_mean_, self.x_scale_, constant = column_stats(rows)
        windows = self._windows(X)
        n_windows = len(y)
        self._y_1d = y.ndim == 1
        y = y.reshape(n_windows, -1)
        n_val = max(1, round(self.validation_fraction * n_windows)) if self.early_stopping else 0
        check_n_rows(n_windows + n_history, window, n_history + n_val + 1, name)
        n_train = n_windows - n_val
        self.n_outputs_ = y.shape[1]
        self.y_mean_, self.y_scale_, _ = column_stats(y[:n_train])
        y_scaled = standardize(y, self.y_mean_, self.y_scale_)
        if season is None and any(sources or []):
            # No calendar season: read one from the targets' own columns, on the rows
            # before the validation windows (which choose between the model's parts).
            own = source_features(sources)
            season = detected_season(X[: n_history + n_train, own], window - 1)
        self.season_ = season

        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        self._warn_if_off_cudnn()
        self.model_, self.history_, self.linear_only_, (calibrated, residuals) = self._train(
            windows, y_scaled, n_train, units, seed, sources, season, constant
        )
        self.n_iter_ = len(self.history_["loss"])
        self.smoothing_share_ = np.zeros(self.n_outputs_)
        self._fallback = None
        if self.fallback == "ets" and any(sources or []) and len(calibrated):
            # Chosen on the windows the calibration residuals come from, which the model did
            # not train on: the smoothing's constants fitted on the rows before the
            # validation windows, its states run over every row.
            early = _smoothing.fit_fallback(X[: n_history + n_train], sources, season, 0)
            ahead = _smoothing.fallback_forecasts(early, X, 0)[n_history + calibrated]
            missed = y_scaled[calibrated] - (ahead - self.y_mean_) / self.y_scale_
            shares = _smoothing.choose_shares(residuals, missed)
            if shares.any():
                self._fallback = _smoothing.fit_fallback(X, sources, season, window)
                self.smoothing_share_ = shares
                residuals = _smoothing.blend(residuals, missed, shares)
        self.calibration_residuals_ = (residuals * self.y_scale_)[-MAX_CALIBRATION:]
        return self

    @property
    def last_window_(self):
        """The last ``window - 1`` fitted rows: history for the rows that continue them."""
        n_past = self._input_layout()[0]
        return np.delete(self._time.rows[1:], np.s_[n_past : n_past + self._n_phases()], axis=1)

    def _n_phases(self):
        """Indicator columns of the seasonal phase after X's own (0 when it reads none, or
        for a model saved before there were any)."""
        return getattr(self, "seasonal_phase_", None) or 0

    def _input_layout(self):
        """Features the windows hold at every step, and those read at the last step only
        (the seasonal phase, then the known-future block)."""
        n_known = KnownFuture.fitted(self).n_known
        return self.n_features_in_ - n_known, n_known + self._n_phases()

    def _windows(self, data):
        return Windows(data, int(self.window), self.x_mean_, self.x_scale_)

    def _train(self, windows, y, n_train, units, seed, sources, season, constant):
        """Build, start and train a network; return it, its per-epoch losses and whether the
        linear part alone was kept (``constant``: the inputs that never vary in the fitted
        rows)."""
        # Keras and TensorFlow load at the first fit, so that importing sklstm stays light.
        from ._network import ignore_inputs
        from ._training import (
            EarlyStoppingBest,
            build_optimizer,
            check_distribution,
            share_compiled_steps,
        )

        check_distribution()
        model = self._build(units, seed)
        # Standardised to 0 in every fitted row, such an input gets no gradient: its weights
        # would keep their random start and move the forecast only once the input moves.
        ignore_inputs(model, np.flatnonzero(constant))
        linear = None
        if self.highway:
            # One BLAS thread: beside the Keras backend's thread pool, OpenBLAS's threads fight
            # it for the cores, and the linear part's eigendecompositions ran 3-25 times
            # slower on 2 cores (0.7 s of a 1.4 s fit; docs/performance.md). Restored after.
            with threadpool_limits(1, user_api="blas"):
                linear = _LinearStart.fit(windows, y, n_train, sources, season, self)
        if linear is not None:
            # The LSTM learns what the validated linear part misses; training the highway too
            # would undo its penalty and overfit short series.
            linear.set_on(model, linear.training)
            model.get_layer("highway").trainable = False
        model.compile(
            optimizer=build_optimizer(self.optimizer, self.learning_rate),
            loss=_KERAS_LOSSES[self.loss],
        )
        share_compiled_steps(model, self._steps_key(units, frozen=linear is not None))
        train = slice(0, n_train)
        val = slice(n_train, None)
        fit_kwargs = {"callbacks": []}
        if n_train < len(y):
            fit_kwargs["validation_data"] = self._dataset(windows, val, y)
            fit_kwargs["callbacks"].append(EarlyStoppingBest(self.patience))
        fit_kwargs["callbacks"].extend(self.callbacks or [])
        with _retracing_warnings_silenced():
            history = model.fit(
                self._dataset(windows, train, y, shuffle_seed=seed),
                epochs=self.epochs,
                verbose=self.verbose,
                shuffle=False,  # the dataset shuffles itself, with our seed
                **fit_kwargs,
            )
        losses = {key: [float(v) for v in values] for key, values in history.history.items()}
        if n_train == len(y):
            return model, losses, False, (np.empty(0, int), np.empty((0, y.shape[1])))
        network, alone = self._validation_predictions(model, linear, windows, val)
        linear_only = alone is not None and not self._lstm_improves(network, alone, y[val])
        if linear_only:
            head = model.get_layer("lstm_head")
            head.set_weights([np.zeros_like(w) for w in head.get_weights()])
        if linear is not None:
            # The linear part refitted on every window, the validation windows (the most
            # recent) included, whether the LSTM is kept or not: the LSTM learned what the
            # linear part misses, and the most recent rows move its level the most.
            linear.set_on(model, linear.every_window)
        return (
            model,
            losses,
            linear_only,
            self._calibration_residuals(
                np.arange(n_train, len(y)),
                y[val] - (alone if linear_only else network),
                linear,
                linear_only,
            ),
        )

    @staticmethod
    def _calibration_residuals(validated, validation, linear, linear_only):
        """Scaled residuals of the fitted model on windows it did not train on, and those
        windows' indices (``validated``: the validation windows').

        The validation windows' residuals (of the network as trained, before its linear part
        is refitted on every window), unless they are too few for stable bounds (or
        only the linear part is kept, which the refit has trained on them) and the linear
        part's folds give more: each fold's part never saw its validation block. When the
        LSTM is kept, it beat the linear part on validation, so its bounds from the linear
        part's residuals err on the wide side.
        """
        if linear is None or (len(validation) >= MIN_NETWORK_CALIBRATION and not linear_only):
            return validated, validation
        folds = linear.fold_residuals()
        if folds is None or (len(folds[1]) <= len(validation) and not linear_only):
            return validated, validation
        return folds

    def _validation_predictions(self, model, linear, windows, select):
        """The trained network's and (if there is one) the linear part's scaled predictions
        for the windows ``select`` picks."""
        network = _network_outputs(model, windows, select).astype(np.float64)
        if linear is None:
            return network, None
        return network, _linear_outputs(linear.training, windows, select)

    def _lstm_improves(self, network, alone, y):
        """Whether the trained network's loss on the validation windows is lower than the
        linear part's by more than its standard error (paired over the windows).

        The best epoch was chosen on these windows, which flatters the network; on short
        series a few validation windows cannot tell a real gain from that luck.
        """
        import keras

        loss = keras.losses.get(_KERAS_LOSSES[self.loss])
        y = y.astype(np.float32)
        alone, network = (
            keras.ops.convert_to_numpy(loss(y, pred.astype(np.float32))).astype(np.float64)
            for pred in (alone, network)
        )
        gains = alone - network
        if len(gains) < 2:
            return bool(gains.mean() > 0)
        return bool(gains.mean() > gains.std(ddof=1) / np.sqrt(len(gains)))

    def _warn_if_off_cudnn(self):
        from ._network import cudnn_blockers, gpu_available

        reasons = cudnn_blockers(
            activation=self.activation, recurrent_dropout=self.recurrent_dropout
        )
        if reasons and gpu_available():
            # The default warning filter shows this once per process, not at every fit.
            warnings.warn(
                "A GPU is available but these settings keep Keras off its fast cuDNN LSTM "
                f"kernel: {', '.join(reasons)}. Expect several times slower training.",
                UserWarning,
                # Past this helper, fit and scikit-learn's fit wrapper: the caller's line.
                stacklevel=4,
            )

    def _dataset(self, windows, select, y=None, shuffle_seed=None):
        """Batches of the windows ``select`` picks, shuffled (training) or in order."""
        batch_size = self.batch_size if shuffle_seed is not None else PREDICT_BATCH
        return window_dataset(windows, select, y, batch_size=batch_size, shuffle_seed=shuffle_seed)

    def _steps_key(self, units, *, frozen):
        """What a network's compiled steps depend on besides its state (see
        ``share_compiled_steps``): every argument of its build but the seed, which layers
        train, the optimizer and the loss."""
        params = self._network_params(units)
        params["units"] = tuple(params["units"])
        # Not the learning rate: Keras keeps it in a variable of the optimizer's state.
        return (tuple(sorted(params.items())), frozen, self.optimizer, self.loss)

    def _network_params(self, units):
        from ._network import should_unroll

        return dict(
            window=int(self.window),
            n_features=sum(self._input_layout()),
            n_outputs=self.n_outputs_,
            units=units,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            activation=self.activation,
            highway=self.highway,
            centering=self.centering,
            unroll=should_unroll(self.window, self.batch_size),
            n_known=self._input_layout()[1],
        )

    def _build(self, units, seed):
        from ._network import build_lstm_network

        return build_lstm_network(**self._network_params(units), seed=seed)

    # -- predicting --------------------------------------------------------------------------

    def predict(self, X, *, confidence_level=None):
        """Predict the target of every row of X from the window that ends at it.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features) or (n_rows, window, n_features)
            Time-ordered rows (history for the first rows comes from the fitted data when X
            continues it), or windows from :class:`SlidingWindowTransformer`.
        confidence_level : float or list of float, default=None
            When given, also return prediction intervals at these levels, as
            :meth:`predict_interval` does; a :class:`~sklearn.pipeline.Pipeline` passes it
            on to its last step (``pipe.predict(X, confidence_level=0.9)``).

        Returns
        -------
        y_pred : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            Predictions on the scale of y, shaped like the y given to :meth:`fit`.
        y_pis : ndarray of shape (n_rows, 2, n_levels) or (n_rows, n_outputs, 2, n_levels)
            Only with ``confidence_level``: the lower and upper bounds (see
            :meth:`predict_interval`).
        """
        if confidence_level is not None:
            return self.predict_interval(X, confidence_level=confidence_level)
        check_is_fitted(self)
        return self._predict_rows(*self._prediction_windows(X))

    def predict_interval(self, X, y=None, *, confidence_level=0.9):
        """Predict every row of X with lower and upper bounds at the given confidence levels.

        Split conformal intervals: for each output, the half-width at level ``c`` is the
        ``ceil((n + 1) c)``-th smallest of the ``n`` absolute residuals on training windows
        that the model did not train on (``calibration_residuals_``), so intervals widen with
        the horizon step. With ``y``, the intervals adapt as the targets of the rows
        of X become known (adaptive conformal inference): the residual of row ``s`` for the
        target ``<column>_t+<k>`` is used from row ``s + k`` on, replacing the oldest
        calibration residual, and the level used is nudged up after each miss and down after
        each hit. No bound depends on a target that is not known at its row.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features) or (n_rows, window, n_features)
            As for :meth:`predict`.
        y : array-like of shape (n_rows,) or (n_rows, n_outputs), default=None
            The targets of the rows of X where they are known (NaN where not), for adaptive
            intervals; the targets must be named ``<column>_t+<k>``, as
            :func:`~sklstm.make_horizon_target` names them, so that it is known when each value
            arrives.
        confidence_level : float or list of float, default=0.9
            Probability that an interval covers the true value, e.g. 0.9 or ``[0.8, 0.95]``.

        Returns
        -------
        y_pred : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            The point predictions, as :meth:`predict` returns them.
        y_pis : ndarray of shape (n_rows, 2, n_levels) or (n_rows, n_outputs, 2, n_levels)
            Lower (``[..., 0, :]``) and upper (``[..., 1, :]``) bounds per level, in the order
            given; the output axis is there when y had several columns.

        Raises
        ------
        ValueError
            If a level is outside (0, 1), the estimator kept no calibration windows
            (``early_stopping=False``), or ``y`` does not match X or has unnamed targets.
        TypeError
            If a level is not a number.

        See Also
        --------
        forecast : The bounds of the next steps as columns of a DataFrame.

        Notes
        -----
        The calibration windows chose the early-stopping epoch and whether the LSTM is kept,
        which can make their residuals slightly smaller than on new rows. Intervals at a
        level ``c`` need at least ``c / (1 - c)`` calibration windows (19 for 95 %); with
        fewer, the bound is the largest residual and a warning says so.

        Examples
        --------
        >>> from sklstm import LSTMForecaster, make_horizon_target
        >>> from sklstm.datasets import load_seattle_weather
        >>> X, y = make_horizon_target(load_seattle_weather(), "temp_max", horizon=2)
        >>> model = LSTMForecaster(window=7, units=4, epochs=2, random_state=0)
        >>> model = model.fit(X[:600], y[:600])
        >>> y_pred, y_pis = model.predict_interval(X[600:700], confidence_level=[0.8, 0.95])
        >>> y_pred.shape, y_pis.shape
        ((100, 2), (100, 2, 2, 2))
        >>> bool((y_pis[:, :, 0, 1] <= y_pis[:, :, 0, 0]).all())  # lower at 95 % <= at 80 %
        True
        """
        check_is_fitted(self)
        levels = check_confidence_levels(confidence_level)
        residuals = self._calibration()
        return self._intervals(*self._prediction_windows(X), residuals, levels, y)

    def _intervals(self, windows, smoothed, residuals, levels, y=None):
        observed = None
        if y is not None:
            observed, steps = self._known_targets(y, len(windows))
        y_pred = self._predict_rows(windows, smoothed).reshape(len(windows), self.n_outputs_)
        if observed is None:
            widths = split_half_widths(residuals, levels)[np.newaxis]
        else:
            widths = adaptive_half_widths(residuals, observed - y_pred, steps, levels)
        y_pis = np.stack([y_pred[..., None] - widths, y_pred[..., None] + widths], axis=-2)
        if self._y_1d:
            return y_pred.ravel(), y_pis[:, 0]
        return y_pred, y_pis

    def _calibration(self):
        residuals = getattr(self, "calibration_residuals_", None)
        if residuals is None or len(residuals) == 0:
            if residuals is None:
                why = "it was saved by an sklstm version without intervals"
            else:
                why = "early_stopping=False keeps no validation windows"
            raise ValueError(
                f"This {type(self).__name__} kept no calibration windows for intervals: {why}. "
                "Refit with early_stopping=True (the default): its validation windows, the "
                "last validation_fraction of the training windows, calibrate the intervals."
            )
        return residuals

    def _known_targets(self, y, n_rows):
        steps = target_steps(self._target_names)
        if steps is None:
            raise ValueError(
                "Adaptive intervals need to know when each target becomes known: fit on the "
                "targets make_horizon_target names '<column>_t+<k>', or call "
                "predict_interval without y for split conformal intervals."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan")
        y = y.reshape(len(y), -1)
        if y.shape != (n_rows, self.n_outputs_):
            raise ValueError(
                f"y must hold the targets of the {n_rows} rows of X ({self.n_outputs_} "
                f"column(s), NaN where not known); got shape {y.shape}."
            )
        return y, np.asarray(steps)

    def _predict_rows(self, windows, smoothed=None):
        """Predictions on y's scale: the model's for ``windows``, blended with the
        exponential smoothing's forecasts ``smoothed`` where it has a share."""
        if len(windows) == 0:
            y_pred = np.empty((0, self.n_outputs_))
        else:
            y_scaled = self._predict_scaled(windows)
            y_pred = y_scaled.astype(np.float64) * self.y_scale_ + self.y_mean_
            if smoothed is not None:
                y_pred = _smoothing.blend(y_pred, smoothed, self.smoothing_share_)
        return y_pred.ravel() if self._y_1d else y_pred

    def _predict_scaled(self, windows):
        return _network_outputs(self.model_, windows, slice(None))

    def _prediction_windows(self, X):
        window = int(self.window)
        if _is_3d(X):
            if self._n_phases():
                raise ValueError(self._needs_phase("3-D windows carry no time index"))
            if getattr(self, "_fallback", None) is not None:
                raise ValueError(
                    f"This {type(self).__name__} forecasts partly by exponential smoothing, "
                    "whose state runs over every row (smoothing_share_ > 0), but 3-D windows "
                    "hold only their own rows. Pass X as 2-D rows, or refit with "
                    "fallback=None."
                )
            X = check_array(X, allow_nd=True, dtype=[np.float64, np.float32])
            check_windows_3d(X, window, self.n_features_in_)
            return self._windows(X), None
        index = time_index(X)
        known = KnownFuture.fitted(self)
        X = known.arrange(validate_data(self, X, reset=False, dtype=[np.float64, np.float32]))
        if self._n_phases():
            n_past = X.shape[1] - known.n_known
            X = _with_phase(X, self._phase_of(X, index, n_past), self._n_phases(), n_past)
        preceding = self._time.preceding(X, index)
        windows = self._windows(window_context(X, window, preceding))
        if getattr(self, "_fallback", None) is None:
            return windows, None
        return windows, _smoothing.fallback_forecasts(self._fallback, X, len(preceding))

    def _phase_of(self, X, index, n_past):
        """The seasonal phase of each row of X (whose first ``n_past`` columns precede the
        fitted rows' indicators): from its time index, or, for rows without one, by the rule
        that gives them their history (:meth:`TimeContext.preceding`): the first fitted
        row's phase onward for an in-sample call, else the phases after the last fitted
        row's."""
        if index is not None:
            phase = season_phase(index, self._time.step)
            if phase is None:
                raise ValueError(self._needs_phase("X's index holds no dates"))
            return phase
        season = self._n_phases()
        indicators = np.s_[n_past : n_past + season]
        first, last = self._time.first_row, self._time.rows[-1]
        in_sample = len(X) and np.array_equal(X[0], np.delete(first, indicators))
        start = np.argmax(first[indicators]) if in_sample else np.argmax(last[indicators]) + 1
        return (start + np.arange(len(X))) % season

    def _needs_phase(self, why):
        return (
            f"This {type(self).__name__} reads each row's phase in a season of "
            f"{self._n_phases()} rows from the time index it was fitted with "
            f"(seasonal_phase='auto'), but {why}. Pass X as a DataFrame or Series with its "
            "DatetimeIndex or PeriodIndex, or refit with seasonal_phase=None."
        )

    # -- pickling ----------------------------------------------------------------------------

    def __getstate__(self):
        # A copy: object.__getstate__ may hand back the instance's own __dict__.
        state = dict(super().__getstate__())
        if "model_" in state:
            # Keep only the weights: the network is rebuilt from the parameters on load.
            state["model_"] = [np.asarray(w) for w in self.model_.get_weights()]
        return state

    def __setstate__(self, state):
        weights = state.get("model_")
        super().__setstate__(state)
        if weights is not None:
            units = units_per_layer(self.units, self.n_layers, type(self).__name__)
            self.model_ = self._build(units, seed=0)
            self.model_.set_weights(weights)

    # -- forecasting and saving --------------------------------------------------------------

    def forecast(self, X=None, *, confidence_level=None):
        """Forecast the time steps after the last row as a DataFrame with future time stamps.

        The targets must be named ``<column>_t+<k>``, as :func:`~sklstm.make_horizon_target`
        names them: the prediction for ``<column>_t+<k>`` becomes column ``<column>`` at the
        ``k``-th step after the last row. Future time stamps continue the fitted index with
        its frequency.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features), default=None
            Rows that end at the forecast origin, e.g. all rows up to now (including the last
            ``horizon`` rows that :func:`~sklstm.make_horizon_target` drops for lack of a
            target). If it has fewer than ``window`` rows, rows that continue the fitted data
            take their history from it. If None, forecast from the last fitted row.
        confidence_level : float or list of float, default=None
            Add the bounds of prediction intervals at these levels (see
            :meth:`predict_interval`), e.g. 0.8 adds ``<column>_lower_80`` and
            ``<column>_upper_80`` after each target's column.

            With a known-future block (``known_future_``), X is a DataFrame with the columns
            of the data before :func:`~sklstm.make_horizon_target` (without the
            ``<column>_t+<k>`` block) that runs on past the last observation: its last rows
            have the target(s) missing and the known columns filled for at least the next
            ``horizon`` steps. The forecast starts after the last row with every target.

        Returns
        -------
        forecast : pandas.DataFrame of shape (horizon, n_targets * (1 + 2 * n_levels))
            One row per future step, one column per target (and its bounds). The index holds
            the future time stamps (a DatetimeIndex, PeriodIndex or numeric index continuing
            the time index), or the steps ahead ``1 .. horizon`` when the data had no time
            index.

        See Also
        --------
        make_horizon_target : Build ``(X, y)`` with targets named ``<column>_t+<k>``.
        sklstm.plotting.plot_forecast : Plot the history and this forecast.

        Examples
        --------
        >>> from sklstm import LSTMForecaster, make_horizon_target
        >>> from sklstm.datasets import load_seattle_weather
        >>> weather = load_seattle_weather()
        >>> X, y = make_horizon_target(weather, "temp_max", horizon=3)
        >>> model = LSTMForecaster(window=7, units=4, epochs=1, random_state=0).fit(X, y)
        >>> future = model.forecast(weather)
        >>> future.shape, list(future.columns)
        ((3, 1), ['temp_max'])
        >>> future.index.strftime("%Y-%m-%d").tolist()
        ['2016-01-01', '2016-01-02', '2016-01-03']
        """
        check_is_fitted(self)
        targets, horizon, column_of = horizon_layout(self._target_names)
        levels = None
        if confidence_level is not None:
            levels = check_confidence_levels(confidence_level)
            residuals = self._calibration()  # its error before any prediction
        window = int(self.window)
        known = KnownFuture.fitted(self)
        if known.n_known and not _is_3d(X):
            X = _rows_with_known_future(X, known, targets, self.feature_names_in_)
        if X is None:
            # The last fitted window, as fitted: its known-future block and phase included.
            windows = self._windows(self._time.rows[np.newaxis])
            smoothed = None
            if getattr(self, "_fallback", None) is not None:
                smoothed = _smoothing.kept_forecasts(self._fallback)[-1:]
            end, step = self._time.end, self._time.step
        elif _is_3d(X):
            (windows, smoothed), end, step = self._prediction_windows(X), None, None
        else:
            index = time_index(X)
            if len(X) == 0:
                raise ValueError("forecast() needs at least one row of X: its last row.")
            end = None if index is None else index[-1:]
            step = self._time.step if self._time.step is not None else regular_step(index)
            # Every row: the smoothing's state runs over them all; the network needs only
            # the last row's window.
            windows, smoothed = self._prediction_windows(X)
            windows = self._windows(windows.data[-window:])
            smoothed = None if smoothed is None else smoothed[-1:]
        if levels is None:
            y_pred = self._predict_rows(windows, smoothed)
        else:
            y_pred, y_pis = self._intervals(windows, smoothed, residuals, levels)
            bounds = np.reshape(y_pis, (len(y_pis), self.n_outputs_, 2, len(levels)))[-1]
        last = np.reshape(y_pred, (-1, self.n_outputs_))[-1]
        values = {}
        for target in targets:
            columns = [column_of[target, k] for k in range(1, horizon + 1)]
            values[target] = last[columns]
            for i, level in enumerate(levels if levels is not None else []):
                for side, name in enumerate(("lower", "upper")):
                    values[bound_name(target, name, level)] = bounds[columns, side, i]
        return pd.DataFrame(values, index=future_index(end, step, horizon))

    def save(self, path):
        """Save the estimator to a zip file that :func:`sklstm.load` reads back safely.

        The file holds the parameters and fitted state as JSON and ``.npy`` arrays and the
        network as a ``.keras`` file, loaded with Keras' safe mode: no pickle.

        Parameters
        ----------
        path : str or path-like
            Where to write the file, e.g. ``"model.sklstm.zip"``.

        See Also
        --------
        sklstm.load : Read the file back.
        """
        params = self.get_params(deep=False)
        if params["callbacks"]:
            # Callbacks are code and only matter while training: the loaded model has none.
            warnings.warn(
                "save() does not store the 'callbacks' parameter; the loaded estimator has "
                "callbacks=None. Set them again with set_params(callbacks=[...]) before "
                "refitting.",
                UserWarning,
                stacklevel=2,
            )
            params["callbacks"] = None
        state = {name: getattr(self, name) for name in _SAVED_FIELDS if hasattr(self, name)}
        if hasattr(self, "_time"):
            state["_time"] = {field: getattr(self._time, field) for field in TimeContext.FIELDS}
        write_estimator(
            path,
            estimator=type(self).__name__,
            params=params,
            state=state,
            model=getattr(self, "model_", None),
        )

    @classmethod
    def _from_saved(cls, saved):
        """Rebuild an estimator from a decoded model file (see :func:`load`)."""
        estimator = cls()
        try:
            estimator.set_params(**saved.params)
            validate_params(estimator)
        except (ValueError, TypeError) as exc:
            raise InvalidFile(f"bad parameters ({exc})") from None
        state = dict(saved.state)
        if saved.format_version == 1:
            state = _format_1_state(state)
        unknown = sorted(set(state) - set(_SAVED_FIELDS) - {"_time"})
        if unknown:
            raise InvalidFile(f"unknown fitted attributes {unknown}.")
        time = state.pop("_time", None)
        for name, value in state.items():
            setattr(estimator, name, value)
        if saved.model_bytes is None:
            return estimator
        if not isinstance(time, dict) or set(time) != set(TimeContext.FIELDS):
            raise InvalidFile("the fitted time context is missing or incomplete.")
        estimator._time = TimeContext(**time)
        from ._network import CUSTOM_OBJECTS

        estimator.model_ = load_keras_model(saved.model_bytes, CUSTOM_OBJECTS)
        n_in = sum(estimator._input_layout()) if hasattr(estimator, "n_features_in_") else -1
        expected_in = (None, int(estimator.window), n_in)
        expected_out = (None, int(getattr(estimator, "n_outputs_", -1)))
        model = estimator.model_
        if tuple(model.input_shape) != expected_in or tuple(model.output_shape) != expected_out:
            raise InvalidFile(
                f"the network maps {model.input_shape} to {model.output_shape}, which does not "
                f"match the saved parameters ({expected_in} to {expected_out})."
            )
        return estimator


class _LinearStart:
    """The linear part a fit starts from: chosen on all training windows, fitted on the
    windows the network trains on and, for when the LSTM is left out, on every window."""

    def __init__(self, training, every_window, folds):
        self.training = training
        self.every_window = every_window
        self._folds = folds

    @classmethod
    def fit(cls, windows, y, n_train, sources, season, estimator):
        n_windows, n_outputs = y.shape
        n_past, n_last = estimator._input_layout()
        n_known = KnownFuture.fitted(estimator).n_known
        n_inputs = int(estimator.window) * n_past + n_last
        if n_inputs > _linear.MAX_INPUTS:
            return None
        candidates = _linear.anchors(
            sources or [None] * n_outputs,
            window=int(estimator.window),
            n_features=n_past,
            x_scale=estimator.x_scale_[:n_past],
            y_scale=estimator.y_scale_,
            season=season,
        )
        # Evenly spaced windows bound the cost on long series; time order is kept.
        picked = np.unique(
            np.linspace(0, n_windows - 1, min(n_windows, LINEAR_FIT_WINDOWS)).astype(int)
        )

        def normal(index):
            batches = windows.batches(index, y, batch_size=PREDICT_BATCH)
            return _linear.Normal.of(batches, n_inputs, n_outputs, n_last)

        indices = np.array_split(picked, _linear.N_BLOCKS)
        blocks = [normal(block) for block in indices]
        choice = _linear.select(blocks, candidates, n_known)
        layout = (n_known, n_last)
        every_window = _linear.fit(sum(blocks[1:], blocks[0]), candidates, choice, *layout)
        folds = (windows, y, indices, blocks, candidates, choice, layout)
        if n_train == n_windows:
            return cls(every_window, every_window, folds)
        training = _linear.fit(normal(picked[picked < n_train]), candidates, choice, *layout)
        return cls(training, every_window, folds)

    def fold_residuals(self):
        """Scaled residuals of the chosen linear part on the validation block of each of its
        forward-chaining folds, fitted on the blocks before it: out-of-sample errors over
        most training windows, not only the last ones; and those windows' indices. None
        where there are no folds."""
        windows, y, indices, blocks, candidates, choice, layout = self._folds
        if not _linear.has_folds(blocks):
            return None
        validated, residuals = [], []
        for k, part in _linear.fold_fits(blocks, candidates, choice, *layout):
            validated.append(indices[k])
            for batch, targets in windows.batches(indices[k], y, batch_size=PREDICT_BATCH):
                residuals.append(targets - part.predict(batch))
        # A series of fewer than 10 windows leaves the last blocks empty.
        if not residuals:
            return None
        return np.concatenate(validated), np.concatenate(residuals)

    @staticmethod
    def set_on(model, linear):
        layer = model.get_layer("highway")
        kernel, bias = layer.get_weights()
        layer.set_weights([linear.coef.astype(kernel.dtype), linear.intercept.astype(bias.dtype)])


def _linear_outputs(part, windows, select):
    """A fitted linear part's outputs (float64) for the windows ``select`` picks, batch after
    batch."""
    batches = windows.batches(select, batch_size=PREDICT_BATCH)
    return np.concatenate([part.predict(batch) for batch in batches]).astype(np.float64)


def _network_outputs(model, windows, select):
    """The network's outputs for the windows ``select`` picks, batch after batch."""
    import keras

    n_windows = len(range(len(windows))[select]) if isinstance(select, slice) else len(select)
    # JAX (and torch) run a call outside Keras' compiled predict step op by op: a fresh
    # compilation of the time loop at every call. Their compiled step, padded to few shapes,
    # is shared with every network of the same architecture (see _training.py).
    if n_windows > EAGER_PREDICT_WINDOWS or keras.backend.backend() != "tensorflow":
        dataset = window_dataset(windows, select, batch_size=PREDICT_BATCH)
        with _retracing_warnings_silenced():
            return model.predict(dataset, verbose=0)[:n_windows]
    batches = windows.batches(select, batch_size=PREDICT_BATCH)
    return np.concatenate(
        [keras.ops.convert_to_numpy(model(batch, training=False)) for batch in batches]
    )


@contextlib.contextmanager
def _retracing_warnings_silenced():
    """Drop TensorFlow's warning that a function was retraced, while one network trains or
    predicts.

    Every fit builds a fresh network, whose training and prediction steps are traced once;
    TensorFlow counts the traces of all networks' steps together and, from the fifth fit in a
    process (cross-validation, searches), warns about "excessive retracing" that is not
    happening. Only that message, only during the call: the user's logging is otherwise
    untouched.
    """
    logger = logging.getLogger("tensorflow")
    quiet = _DropRetracing()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class _DropRetracing(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


# The fitted state a model file holds besides the time context and the network: listed here,
# so that the file format is this list, not whatever attributes an estimator happens to have.
_SAVED_FIELDS = (
    "n_features_in_",
    "feature_names_in_",
    "n_outputs_",
    "x_mean_",
    "x_scale_",
    "y_mean_",
    "y_scale_",
    "history_",
    "n_iter_",
    "linear_only_",
    "calibration_residuals_",
    "_y_1d",
    "_target_names",
    "known_future_",
    "seasonal_phase_",
    "season_",
    "smoothing_share_",
    "_fallback",
)


def _format_1_state(state):
    """Format 1 stored every attribute, the history as an object beside a second copy of the
    last rows; keep what format 2 lists and turn the rest into the time context."""
    history = state.pop("_history", None)
    last_rows = state.pop("_last_rows", None)
    fit_end = state.pop("_fit_end", None)
    state.pop("last_window_", None)
    if "_y_names" in state:
        state["_target_names"] = state.pop("_y_names")
    if last_rows is None:
        return state
    state["linear_only_"] = False  # format 1 predates the choice
    if history is None:  # fitted on 3-D windows
        state["_time"] = {"rows": last_rows, "index": None, "step": None, "first_row": None}
        return state
    index = history["index"]
    state["_time"] = {
        "rows": last_rows,
        "index": None if index is None else index.append(fit_end),
        "step": history["step"],
        "first_row": history["first_row"],
    }
    return state


def load(path):
    """Load an estimator written by ``save``.

    The loaded estimator has the saved parameters and fitted state, and predicts exactly as
    the saved one did; files of earlier sklstm versions are read too.

    Parameters
    ----------
    path : str or path-like
        A file written by :meth:`LSTMForecaster.save <sklstm.LSTMForecaster.save>`.

    Returns
    -------
    estimator : LSTMForecaster
        The estimator, with the same parameters and fitted state: its predictions are
        identical to those of the saved one.

    Raises
    ------
    ValueError
        If the file is not a complete, unaltered sklstm model file.

    See Also
    --------
    LSTMForecaster.save : Write the file.

    Notes
    -----
    The file holds JSON, NumPy ``.npy`` arrays (read with ``allow_pickle=False``) and a
    ``.keras`` model read with Keras' ``safe_mode=True``: loading never unpickles or runs code
    from the file. A ``pickle`` of an estimator, by contrast, runs arbitrary code when loaded:
    unpickle only files you trust. Files written by earlier sklstm versions are read too.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import sklstm
    >>> X = np.random.default_rng(0).normal(size=(60, 2))
    >>> model = sklstm.LSTMForecaster(window=3, units=4, epochs=1, random_state=0)
    >>> model = model.fit(X, X[:, 0])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.zip")
    >>> model.save(path)
    >>> loaded = sklstm.load(path)
    >>> bool(np.array_equal(loaded.predict(X), model.predict(X)))
    True
    """
    return read_estimator(path, {"LSTMForecaster": LSTMForecaster._from_saved})


def _rows_with_known_future(X, known, targets, feature_names):
    """The rows of ``X`` up to its last observation (the last row with every target), with
    their known-future block built from the rows after it, in the fitted column order.

    Raises a ValueError, saying what to add, when X is missing, is not a DataFrame, or has too
    few rows after the last observation or missing known values in them.
    """
    how = (
        f"append at least {known.steps} row(s) after the last observation, with the target(s) "
        f"{targets} left empty and the known column(s) {known.columns} filled"
    )
    if X is None or not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"forecast() needs the known future values of {known.columns} for the next "
            f"{known.steps} step(s): pass the data as a DataFrame and {how}."
        )
    block = set(feature_names[known.order[-known.n_known :]])
    columns = list(dict.fromkeys([c for c in feature_names if c not in block] + known.columns))
    absent = [c for c in columns + targets if c not in X.columns]
    if absent:
        raise ValueError(
            f"forecast() needs X's columns as before make_horizon_target; {absent} are missing."
        )
    observed = np.flatnonzero(X[targets].notna().all(axis=1).to_numpy())
    if len(observed) == 0:
        raise ValueError(f"forecast() found no row of X with every target {targets} observed.")
    origin = observed[-1]
    future = X.iloc[origin + 1 : origin + 1 + known.steps]
    if len(future) < known.steps:
        raise ValueError(
            f"forecast() needs the known future values of {known.columns} for the next "
            f"{known.steps} step(s), but X has {len(future)} row(s) after its last "
            f"observation ({X.index[origin]}): {how}."
        )
    gaps = future[known.columns].isna()
    if gaps.any(axis=None):
        column = gaps.any()[lambda v: v].index[0]
        raise ValueError(
            f"forecast() needs every known future value, but {column!r} is missing at "
            f"{future.index[gaps[column].to_numpy().argmax()]}: fill it."
        )
    frame = X.iloc[: origin + 1 + known.steps][columns]
    return with_known_future(frame, known.columns, known.steps).iloc[: origin + 1][
        list(feature_names)
    ]


def _with_phase(X, phase, season, n_past):
    """X with one indicator column per phase of the season after its first ``n_past``
    columns, before the known-future block (X itself without a phase)."""
    if phase is None:
        return X
    indicators = np.eye(season, dtype=X.dtype)[phase]
    return np.hstack([X[:, :n_past], indicators, X[:, n_past:]])


def _is_3d(X):
    # getattr first: array-likes that refuse NumPy's array functions still have an ndim or
    # convert with __array__.
    ndim = getattr(X, "ndim", None)
    return (np.asarray(X).ndim if ndim is None else ndim) == 3


def _target_names(y):
    """The target names when y is a named pandas object, else None."""
    columns = getattr(y, "columns", None)
    names = list(columns) if columns is not None else [getattr(y, "name", None)]
    if hasattr(y, "iloc") and all(isinstance(name, str) for name in names):
        return names
    return None


def _check_windows_and_targets(X, y, window):
    """Validate 3-D windows and their targets, one per window."""
    X = check_array(X, allow_nd=True, dtype=[np.float64, np.float32])
    if X.ndim != 3:
        raise ValueError(f"Expected 3-D windows (n_windows, window, n_features), got {X.shape}.")
    check_windows_3d(X, window)
    y = check_array(y, ensure_2d=False, dtype=np.float64)
    if len(y) != len(X):
        raise ValueError(
            f"X holds {len(X)} windows but y has {len(y)} rows: give one target per window."
        )
    return X, y
