"""LSTMSearchCV: an Optuna study over cross-validated, time-ordered fits, pruned per fold."""

import difflib
import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.model_selection import TimeSeriesSplit, check_cv
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, indexable

from ._sklearn_private import Interval, _fit_context
from ._trial_worker import fit_and_score

_MAX_SEED = 2**31 - 1


class LSTMSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search the hyper-parameters of an LSTMForecaster with Optuna and time-ordered CV.

    Every trial of the Optuna study fits a candidate on each training fold of ``cv`` in time
    order and scores it on the fold's test rows (which take their true preceding window from
    the training rows). After each fold the running mean of the fold scores is reported to the
    pruner at step = fold index, so every trial's curve is compared with the other trials' at
    the same fold: poor candidates stop after their first folds. Fits run in worker processes
    that are replaced every ``fits_per_process`` fits, so a long search does not accumulate
    what TensorFlow keeps per process. The user guide's "Hyper-parameter search" page describes
    storages, resuming, several workers and the measured savings.

    Parameters
    ----------
    estimator : LSTMForecaster or Pipeline
        The model to tune: an :class:`~sklstm.LSTMForecaster`, or a
        :class:`~sklearn.pipeline.Pipeline` with one as a step. Parameters of that step may be
        named without the step prefix (``"units"`` for ``"lstmforecaster__units"``).
    param_distributions : dict of str to optuna.distributions.BaseDistribution or callable, \
            default=None
        The search space: a dict of Optuna distributions by parameter name, or a callable
        ``trial -> dict of params`` that calls ``trial.suggest_*``. None searches ``units``,
        ``n_layers``, ``dropout``, ``bidirectional``, ``learning_rate`` and, where the
        smallest training fold allows it and the forecaster sees raw rows, ``window``.
    n_trials : int, default=20
        Finished (complete or pruned) trials the study should hold at the end, counting
        trials of earlier runs and other workers on the same storage. Workers stop starting
        trials once it is reached; trials already running still finish, so k workers may end
        with up to k - 1 extra trials.
    timeout : float, default=None
        Stop starting trials after this many seconds of this call.
    cv : int, cross-validation generator or iterable, default=None
        None means ``TimeSeriesSplit(5)``, an int k ``TimeSeriesSplit(k)``. Splits whose
        training rows come after their test rows are refused unless ``allow_lookahead``.
    scoring : str or callable, default=None
        A scikit-learn scorer (greater is better); None uses the estimator's ``score`` (R²).
    refit : bool, default=True
        Fit ``best_estimator_`` on all rows with the best parameters.
    pruner : "auto", optuna.pruners.BasePruner or None, default="auto"
        "auto" keeps, at each fold, the trials whose running mean score is in the best
        quarter of the complete trials' at that fold, once 3 trials are complete
        (``PercentilePruner(25, n_startup_trials=3)``). None never prunes.
    sampler : optuna.samplers.BaseSampler, default=None
        None uses a ``TPESampler`` seeded from ``random_state``.
    storage : str, default=None
        Where the study lives. None: in memory. A database URL (``"sqlite:///search.db"``,
        ``"postgresql://user@host/db"``) or a journal file path ending in ``.log`` or
        ``.journal``: the study survives the process, so a rerun with the same
        ``study_name`` resumes it and workers on other processes or machines share it.
    study_name : str, default=None
        Name of the study in ``storage``; an existing study of that name is resumed. None
        creates a new study with a generated name.
    n_jobs : int, default=1
        Trials run at the same time, each fitting in its own worker process; -1 uses one per
        CPU core. TensorFlow in each worker gets ``cores // n_jobs`` threads.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler and, when the forecaster's own ``random_state`` is None,
        every fit. With an int and ``n_jobs=1``, a search is reproducible.
    verbose : int, default=0
        Show Optuna's progress bar when > 0.
    allow_lookahead : bool, default=False
        Accept a ``cv`` whose training folds hold rows after their test rows (KFold,
        shuffled splits). Such scores let a model learn from the future it is scored on.
    fits_per_process : int or None, default=5
        Fits a worker process runs before it is replaced by a fresh one (the old one has
        exited before its successor starts). Each replacement costs a TensorFlow import
        (seconds) and gives back whatever the worker's fits left behind (about 1.4 MB per fit
        of a small model). None fits in this process instead: no start-up cost, TensorFlow
        loads here, and ``n_jobs`` must be 1.
    heartbeat_interval : int, default=60
        Seconds between a running trial's heartbeats in a database storage. A trial whose
        worker died is marked failed after twice this time and run again (up to 3 times).

    Attributes
    ----------
    best_params_ : dict
        Parameters of the best complete trial, by their ``set_params`` name.
    best_score_ : float
        Its mean cross-validated score.
    best_estimator_ : estimator
        A clone of ``estimator`` with ``best_params_``, fitted on all rows (when ``refit``).
    best_index_ : int
        Row of the best trial in ``cv_results_``.
    cv_results_ : dict of str to ndarray
        One entry per trial of the study (load it with ``pandas.DataFrame``): ``number``,
        ``state``, ``params``, ``param_<name>``, ``split<k>_test_score`` (NaN for folds a
        pruned trial did not run), ``mean_test_score``, ``std_test_score``,
        ``rank_test_score``, ``n_epochs`` and ``fit_time`` (seconds over its folds).
    study_ : optuna.study.Study
        The study, for Optuna's own analysis and :mod:`sklstm.plotting`.
    n_trials_ : int
        Finished (complete or pruned) trials in the study.
    n_splits_ : int
        Number of cross-validation folds.
    n_features_in_ : int
        Number of features of X, when ``best_estimator_`` has it.

    See Also
    --------
    LSTMForecaster : The estimator being tuned.
    sklstm.plotting.plot_optimization_history : Scores of the trials.

    Notes
    -----
    Worker processes are started with the "spawn" method: a script that calls ``fit`` must
    guard its entry point with ``if __name__ == "__main__":``.

    Examples
    --------
    >>> import optuna
    >>> from sklstm import LSTMForecaster, LSTMSearchCV, make_horizon_target
    >>> from sklstm.datasets import load_seattle_weather
    >>> X, y = make_horizon_target(load_seattle_weather()[:150], "temp_max", horizon=1)
    >>> space = {"units": optuna.distributions.IntDistribution(2, 8)}
    >>> search = LSTMSearchCV(
    ...     LSTMForecaster(window=5, epochs=1), space, n_trials=2, cv=2, random_state=0,
    ...     fits_per_process=None,  # fit here: the fastest for a tiny search
    ... ).fit(X, y)
    >>> sorted(search.best_params_), search.n_trials_
    (['units'], 2)
    >>> search.predict(X[-3:]).shape
    (3, 1)
    """

    _parameter_constraints = {
        "estimator": "no_validation",
        "param_distributions": [dict, callable, None],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "pruner": "no_validation",  # "auto", None or an Optuna pruner: checked in fit,
        "sampler": "no_validation",
        "storage": [str, None],
        "study_name": [str, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "allow_lookahead": ["boolean"],
        "fits_per_process": [Interval(Integral, 1, None, closed="left"), None],
        "heartbeat_interval": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        param_distributions=None,
        *,
        n_trials=20,
        timeout=None,
        cv=None,
        scoring=None,
        refit=True,
        pruner="auto",
        sampler=None,
        storage=None,
        study_name=None,
        n_jobs=1,
        random_state=None,
        verbose=0,
        allow_lookahead=False,
        fits_per_process=5,
        heartbeat_interval=60,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.pruner = pruner
        self.sampler = sampler
        self.storage = storage
        self.study_name = study_name
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.allow_lookahead = allow_lookahead
        self.fits_per_process = fits_per_process
        self.heartbeat_interval = heartbeat_interval

    # -- fitting -----------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Run the study (or resume it), then refit the best candidate on all rows.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
            Target of each row.

        Returns
        -------
        self : LSTMSearchCV
            The fitted search.
        """
        import optuna

        X, y = indexable(X, y)
        prefix, forecaster, sees_rows = _find_forecaster(self.estimator)
        splits = _time_ordered_splits(self.cv, X, y, self.allow_lookahead)
        n_jobs = _n_workers(self.n_jobs)
        if n_jobs > 1 and self.fits_per_process is None:
            raise ValueError(
                f"n_jobs={self.n_jobs} runs fits in worker processes: set fits_per_process to "
                "an int (e.g. 5), or n_jobs=1 to fit in this process."
            )
        rng = check_random_state(self.random_state)
        base = clone(self.estimator)
        if self.random_state is not None and forecaster.random_state is None:
            # One seed for every candidate, so that they differ by their parameters only.
            base.set_params(**{f"{prefix}random_state": int(rng.randint(_MAX_SEED))})
        valid = set(base.get_params(deep=True))
        space = self.param_distributions
        if space is None:
            min_train = min(len(train) for train, _ in splits)
            space = _default_space(forecaster, prefix, min_train, sees_rows)
        if not callable(space):
            space = _resolve_names(space, valid, prefix, type(self.estimator).__name__)
            _check_distributions(space)

        self.study_ = optuna.create_study(
            storage=_make_storage(self.storage, self.heartbeat_interval),
            study_name=self.study_name,
            load_if_exists=True,
            direction="maximize",
            sampler=self._sampler(rng),
            pruner=self._pruner(),
        )
        self.n_splits_ = len(splits)
        data = {"estimator": base, "X": X, "y": y, "splits": splits, "scoring": self.scoring}
        fits = _Fits(data, n_jobs, self.fits_per_process)
        objective = _Objective(space, valid, prefix, fits, len(splits), type(self.estimator))
        finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        remaining = self.n_trials - len(self.study_.get_trials(deepcopy=False, states=finished))
        try:
            if remaining > 0:
                self.study_.optimize(
                    objective,
                    n_trials=remaining,
                    timeout=self.timeout,
                    n_jobs=n_jobs,
                    # Other workers on the same storage count too: stop at the study's total.
                    callbacks=[optuna.study.MaxTrialsCallback(self.n_trials, states=finished)],
                    show_progress_bar=self.verbose > 0,
                )
        finally:
            fits.close()

        self.n_trials_ = len(self.study_.get_trials(deepcopy=False, states=finished))
        self.cv_results_ = _cv_results(self.study_, len(splits))
        complete = optuna.trial.TrialState.COMPLETE
        if not self.study_.get_trials(deepcopy=False, states=(complete,)):
            raise ValueError(
                f"No trial of the study completed ({self.n_trials_} finished, all pruned): "
                "raise n_trials, or pass pruner=None."
            )
        best = self.study_.best_trial
        self.best_index_ = int(np.flatnonzero(self.cv_results_["number"] == best.number)[0])
        self.best_params_ = dict(self.cv_results_["params"][self.best_index_])
        self.best_score_ = float(best.value)
        if self.refit:
            self.best_estimator_ = clone(base).set_params(**self.best_params_).fit(X, y)
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _sampler(self, rng):
        if self.sampler is not None:
            return self.sampler
        import optuna

        return optuna.samplers.TPESampler(seed=int(rng.randint(_MAX_SEED)))

    def _pruner(self):
        import optuna

        if self.pruner is None:
            return optuna.pruners.NopPruner()
        if isinstance(self.pruner, str) and self.pruner == "auto":
            # Three start-up trials rather than five: 1.2x fewer epochs on the pruning benchmark
            # (docs/search.md), with the same best score.
            return optuna.pruners.PercentilePruner(25.0, n_startup_trials=3, n_warmup_steps=0)
        if not isinstance(self.pruner, optuna.pruners.BasePruner):
            raise ValueError(
                "The 'pruner' parameter of LSTMSearchCV must be 'auto', None or an "
                f"optuna.pruners.BasePruner. Got {self.pruner!r} instead."
            )
        return self.pruner

    # -- delegating --------------------------------------------------------------------------

    def predict(self, X):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.

        Returns
        -------
        y_pred : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            The best estimator's predictions.
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X)

    def score(self, X, y):
        """Score ``best_estimator_`` with ``scoring`` (its own ``score`` when None).

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.
        y : array-like of shape (n_rows,) or (n_rows, n_outputs)
            True targets.

        Returns
        -------
        score : float
            Greater is better.
        """
        from sklearn.metrics import check_scoring

        check_is_fitted(self, "best_estimator_")
        return check_scoring(self.best_estimator_, scoring=self.scoring)(self.best_estimator_, X, y)


# -- the estimator and its space ---------------------------------------------------------------


def _find_forecaster(estimator):
    """Return (parameter prefix, the LSTMForecaster, whether it receives raw rows)."""
    from ._forecaster import LSTMForecaster
    from ._window import SlidingWindowTransformer

    if isinstance(estimator, LSTMForecaster):
        return "", estimator, True
    sees_rows = True
    for name, step in getattr(estimator, "steps", []):
        if isinstance(step, LSTMForecaster):
            return f"{name}__", step, sees_rows
        if isinstance(step, SlidingWindowTransformer):
            sees_rows = False
    raise ValueError(
        "LSTMSearchCV tunes an LSTMForecaster or a Pipeline with an LSTMForecaster step; got "
        f"{estimator!r}."
    )


def _default_space(forecaster, prefix, min_train, sees_rows):
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    space = {
        "units": IntDistribution(4, 128, log=True),
        "n_layers": IntDistribution(1, 3),
        "dropout": FloatDistribution(0.0, 0.5),
        "bidirectional": CategoricalDistribution([False, True]),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }
    # A window from half to twice the given one, as long as the smallest training fold keeps
    # three windows' worth of rows (early stopping takes its validation rows from there).
    window = int(forecaster.window)
    low, high = max(2, window // 2), min(2 * window, min_train // 3)
    if sees_rows and high > low:
        space["window"] = IntDistribution(low, high)
    return {prefix + name: dist for name, dist in space.items()}


def _resolve_names(space, valid, prefix, estimator_name):
    """Map the space's names to set_params names, adding the forecaster's step prefix."""
    resolved = {}
    for name, dist in space.items():
        if name in valid:
            resolved[name] = dist
        elif prefix + name in valid:
            resolved[prefix + name] = dist
        else:
            raise ValueError(_unknown_name_message(name, valid, estimator_name))
    return resolved


def _unknown_name_message(name, valid, estimator_name):
    step, sep, _ = name.partition("__")
    steps = sorted({key.split("__")[0] for key in valid if "__" in key})
    if sep and steps and step not in steps:
        return (
            f"The search space names parameter {name!r} of step {step!r}, but the "
            f"{estimator_name} has no such step; its steps are {steps}."
        )
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return f"The search space names {name!r}, not a parameter of the {estimator_name}.{hint}"


def _check_distributions(space):
    from optuna.distributions import BaseDistribution

    for name, dist in space.items():
        if not isinstance(dist, BaseDistribution):
            raise ValueError(
                f"The search space must map names to Optuna distributions; {name!r} maps to "
                f"{dist!r}. Use e.g. optuna.distributions.IntDistribution(4, 64), or a "
                "callable trial -> params."
            )


def _suggest(trial, name, dist):
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    raise ValueError(f"Unsupported distribution {dist!r} for {name!r}.")


# -- cross-validation --------------------------------------------------------------------------


def _time_ordered_splits(cv, X, y, allow_lookahead):
    """The (train, test) index pairs, refused when training rows follow test rows."""
    if cv is None or isinstance(cv, Integral):
        cv = TimeSeriesSplit(5 if cv is None else int(cv))
    splits = [(np.asarray(train), np.asarray(test)) for train, test in check_cv(cv).split(X, y)]
    if allow_lookahead:
        return splits
    for k, (train, test) in enumerate(splits):
        if len(train) and len(test) and train.max() > test.min():
            raise ValueError(
                f"cv={cv!r} trains fold {k} on row {train.max()}, after its first test row "
                f"{test.min()}: the scores would reward models that see the future. Use "
                "TimeSeriesSplit, or pass allow_lookahead=True if this is intended."
            )
    return splits


# -- running the fits --------------------------------------------------------------------------


def _n_workers(n_jobs):
    cores = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    return max(1, cores + 1 + n_jobs if n_jobs < 0 else n_jobs)


class _Fits:
    """Runs (params, fold) fits in recycled worker processes, or here."""

    def __init__(self, data, n_jobs, fits_per_process):
        self._data = data
        self._workers = None
        if fits_per_process is not None:
            from ._trial_worker import RecycledWorkers, init_worker

            threads = max(1, (os.cpu_count() or 1) // n_jobs)
            self._workers = RecycledWorkers(
                n_jobs, fits_per_process, init_worker, (*data.values(), threads)
            )

    def __call__(self, params, fold):
        if self._workers is None:
            return fit_and_score(params, fold, **self._data)
        from ._trial_worker import fit_fold

        return self._workers.run(fit_fold, params, fold)

    def close(self):
        if self._workers is not None:
            self._workers.close()


class _Objective:
    """One trial: suggest parameters, fit the folds in time order, report the running mean."""

    def __init__(self, space, valid, prefix, fits, n_splits, estimator_type):
        self.space = space
        self.valid = valid
        self.prefix = prefix
        self.fits = fits
        self.n_splits = n_splits
        self.estimator_name = estimator_type.__name__

    def __call__(self, trial):
        import optuna

        if callable(self.space):
            params = _resolve_names(self.space(trial), self.valid, self.prefix, self.estimator_name)
        else:
            params = {name: _suggest(trial, name, dist) for name, dist in self.space.items()}
        trial.set_user_attr("params", params)
        scores, epochs, seconds = [], 0, 0.0
        for fold in range(self.n_splits):
            score, fold_epochs, fold_seconds = self.fits(params, fold)
            scores.append(score)
            epochs += fold_epochs
            seconds += fold_seconds
            trial.set_user_attr("split_scores", scores)
            trial.set_user_attr("n_epochs", epochs)
            trial.set_user_attr("fit_time", seconds)
            # Step = fold: every trial's running mean meets the others' over the same folds.
            trial.report(float(np.mean(scores)), fold)
            if fold < self.n_splits - 1 and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {fold}")
        return float(np.mean(scores))


# -- storages and results ----------------------------------------------------------------------


def _make_storage(storage, heartbeat_interval):
    """An Optuna storage from a URL or journal path; None stays in memory."""
    if storage is None:
        return None
    import optuna

    if "://" not in storage and storage.endswith((".log", ".journal")):
        from optuna.storages.journal import JournalFileBackend

        # Journal files have no heartbeat: a trial whose worker died stays RUNNING.
        return optuna.storages.JournalStorage(JournalFileBackend(storage))
    engine_kwargs = None
    if storage.startswith("sqlite"):
        # Wait for the file lock instead of failing with "database is locked".
        engine_kwargs = {"connect_args": {"timeout": 60}}
    # Optuna 4.9 renamed the retry callback; both names are experimental, which the user did not
    # choose and should not be warned about.
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or optuna.storages.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            storage,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=heartbeat_interval,
            heartbeat_stale_trial_callback=retry(max_retry=3),
        )


def _cv_results(study, n_splits):
    import optuna

    trials = study.get_trials(deepcopy=False)
    n = len(trials)
    results = {
        "number": np.array([t.number for t in trials], dtype=int),
        "state": np.array([t.state.name for t in trials], dtype=object),
        "params": [dict(t.user_attrs.get("params", t.params)) for t in trials],
    }
    names = sorted({name for p in results["params"] for name in p})
    for name in names:
        column = np.ma.masked_all(n, dtype=object)
        for i, p in enumerate(results["params"]):
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    splits = np.full((n, n_splits), np.nan)
    for i, t in enumerate(trials):
        scores = t.user_attrs.get("split_scores", [])
        splits[i, : len(scores)] = scores
    for k in range(n_splits):
        results[f"split{k}_test_score"] = splits[:, k]
    complete = np.array([t.state == optuna.trial.TrialState.COMPLETE for t in trials], bool)
    mean, std = np.full(n, np.nan), np.full(n, np.nan)
    mean[complete] = splits[complete].mean(axis=1)
    std[complete] = splits[complete].std(axis=1)
    results["mean_test_score"] = mean
    results["std_test_score"] = std
    # Rank 1 is the best complete trial; unfinished, pruned and failed trials rank last.
    order = np.argsort(np.where(complete, -mean, np.inf), kind="stable")
    rank = np.empty(n, dtype=np.int32)
    rank[order] = np.arange(1, n + 1)
    results["rank_test_score"] = rank
    results["n_epochs"] = np.array([t.user_attrs.get("n_epochs", 0) for t in trials], dtype=int)
    results["fit_time"] = np.array([t.user_attrs.get("fit_time", 0.0) for t in trials])
    return results
