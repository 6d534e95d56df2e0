"""LSTMSearchCV: an Optuna study over cross-validated, time-ordered fits, pruned per fold."""

import difflib
import os
import time
import warnings
from copy import deepcopy
from numbers import Integral, Real

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.metrics import check_scoring
from sklearn.model_selection import TimeSeriesSplit, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import check_is_fitted, indexable

from ._forecaster import LSTMForecaster
from ._sklearn_private import HasMethods, Interval, StrOptions, _fit_context
from ._trial_worker import fit_and_score, fit_fold, make_workers
from ._window import SlidingWindowTransformer

_MAX_SEED = 2**31 - 1
# fits_per_process="auto" with several jobs: of the values that docs/tuning.md measured
# ("Memory: in this process or in worker processes"), the one with the lower peak.
_FITS_PER_WORKER = 5
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# Tries to open a database storage whose tables other workers are creating at the same time.
_SCHEMA_ATTEMPTS = 5
_STORAGE_FORMS = (
    "None, a database URL (sqlite:///path/to/file.db, postgresql://user:password@host/db, "
    "mysql://user:password@host/db) whose driver is installed, or the path of an Optuna "
    "journal file ending in .log or .journal"
)


class LSTMSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search the hyper-parameters of an LSTMForecaster with Optuna and time-ordered CV.

    Every trial of the Optuna study fits a candidate on each training fold of ``cv`` in time
    order and scores it on the fold's test rows (which take their true preceding window from
    the training rows). After each fold the running mean of the fold scores is reported to the
    pruner at step = fold index, so every trial's curve is compared with the other trials' at
    the same fold: poor candidates stop after their first folds. One job fits in this process;
    several jobs fit in worker processes, each replaced after a few fits so that a long
    search does not accumulate what TensorFlow keeps per process. The user guide's
    "Hyper-parameter search" page describes storages, resuming, several workers and the
    measured memory.

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
        ``"postgresql://user@host/db"``, ``"mysql://user@host/db"``) or a journal file path
        ending in ``.log`` or ``.journal``: the study survives the process, so a rerun with
        the same ``study_name`` resumes it and workers on other processes or machines share
        it. A storage that cannot be opened raises a ValueError before any trial.
    study_name : str, default=None
        Name of the study in ``storage``; an existing study of that name is resumed. None
        creates a new study with a generated name.
    n_jobs : int, default=1
        Trials run at the same time; -1 uses one per CPU core. More than one job fits in
        worker processes (see ``fits_per_process``), where TensorFlow gets
        ``cores // n_jobs`` threads.
    random_state : int, RandomState instance or None, default=None
        Seeds the default sampler and, when the forecaster's own ``random_state`` is None,
        every fit. With an int and ``n_jobs=1``, a search is reproducible.
    verbose : int, default=0
        Show Optuna's progress bar when > 0.
    allow_lookahead : bool, default=False
        Accept a ``cv`` whose training folds hold rows after their test rows (KFold,
        shuffled splits). Such scores let a model learn from the future it is scored on.
    fits_per_process : "auto", int or None, default="auto"
        Where the fits run. None: in this process (TensorFlow loads here, no start-up cost;
        ``n_jobs`` must be 1). An int: in worker processes, each replaced by a fresh one
        after that many fits (the old one has exited before its successor starts), which
        gives back what the fits left in the process at the cost of a TensorFlow import
        (seconds) per replacement. "auto": in this process for one job, otherwise in workers
        replaced every 5 fits. The user guide's "Hyper-parameter search" page measures both
        (``docs/tuning.md``, "Memory").
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
    No ``if __name__ == "__main__":`` guard is needed: worker processes are started by
    joblib's loky executor, which does not run the caller's main module again, so ``fit``
    works from a plain script, a notebook or a module with any ``n_jobs``.

    A trial whose worker died (killed, out of memory) stays RUNNING in the storage until it
    is found stale. With a database storage, ``fit`` fails such trials when it starts and
    when it ends (as every new trial does), once their heartbeat is older than twice
    ``heartbeat_interval``, and queues a retry of each (a WAITING trial with the same
    parameters, run first by the next search that still has trials to run). A journal file
    has no heartbeat: a dead worker's trial stays RUNNING for good and is never retried
    (it does not count towards ``n_trials``); use SQLite or PostgreSQL where workers may
    be killed.

    Examples
    --------
    >>> import optuna
    >>> from sklstm import LSTMForecaster, LSTMSearchCV, make_horizon_target
    >>> from sklstm.datasets import load_seattle_weather
    >>> X, y = make_horizon_target(load_seattle_weather()[:150], "temp_max", horizon=1)
    >>> space = {"units": optuna.distributions.IntDistribution(2, 8)}
    >>> search = LSTMSearchCV(
    ...     LSTMForecaster(window=5, epochs=1), space, n_trials=2, cv=2, random_state=0
    ... ).fit(X, y)
    >>> sorted(search.best_params_), search.n_trials_
    (['units'], 2)
    >>> search.predict(X[-3:]).shape
    (3, 1)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "param_distributions": [dict, callable, None],
        "n_trials": [Interval(Integral, 1, None, closed="left")],
        "timeout": [Interval(Real, 0, None, closed="neither"), None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        # Duck-typed like scikit-learn's "estimator": any object with Optuna's interface.
        "pruner": [StrOptions({"auto"}), HasMethods(["prune"]), None],
        "sampler": [
            HasMethods(["infer_relative_search_space", "sample_relative", "sample_independent"]),
            None,
        ],
        "storage": [str, None],
        "study_name": [str, None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "allow_lookahead": ["boolean"],
        "fits_per_process": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
            None,
        ],
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
        fits_per_process="auto",
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

    def __sklearn_tags__(self):
        # As scikit-learn's BaseSearchCV: the search predicts with a fitted clone of its
        # estimator, so it is a regressor (and takes the inputs) where the estimator does.
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = deepcopy(inner.classifier_tags)
        tags.regressor_tags = deepcopy(inner.regressor_tags)
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.array_api_support = inner.array_api_support
        # Reproducible as documented: a seeded sampler and fits, and one job (with several,
        # what the sampler has seen depends on which trial finishes first).
        tags.non_deterministic = self.random_state is None or self.n_jobs not in (1, None)
        return tags

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
        X, y = indexable(X, y)
        rng = check_random_state(self.random_state)
        splits = _time_ordered_splits(self.cv, X, y, self.allow_lookahead)
        n_jobs, fits_per_process = _where_to_fit(self.n_jobs, self.fits_per_process)
        base, space = self._candidates(splits, rng)
        # Assigned before the trials run, so that an interrupted search still shows its study.
        self.study_ = self._open_study(rng)
        self.n_splits_ = len(splits)

        data = {"estimator": base, "X": X, "y": y, "splits": splits, "scoring": self.scoring}
        with _Fits(data, n_jobs, fits_per_process) as fits:
            _run_trials(
                self.study_,
                _Objective(space, fits, len(splits)),
                n_trials=self.n_trials,
                timeout=self.timeout,
                n_jobs=n_jobs,
                show_progress_bar=self.verbose > 0,
            )

        self.n_trials_ = len(self.study_.get_trials(deepcopy=False, states=_FINISHED))
        self.cv_results_ = _cv_results(self.study_, len(splits))
        self.best_index_, self.best_params_, self.best_score_ = _best_trial(
            self.study_, self.cv_results_, self.n_trials_
        )
        if self.refit:
            self.best_estimator_ = clone(base).set_params(**self.best_params_).fit(X, y)
            if hasattr(self.best_estimator_, "n_features_in_"):
                self.n_features_in_ = self.best_estimator_.n_features_in_
        return self

    def _candidates(self, splits, rng):
        """The estimator every candidate is cloned from, and the space of their parameters."""
        prefix, forecaster, sees_rows = _find_forecaster(self.estimator)
        base = clone(self.estimator)
        if self.random_state is not None and forecaster.random_state is None:
            # One seed for every candidate, so that they differ by their parameters only.
            base.set_params(**{f"{prefix}random_state": int(rng.randint(_MAX_SEED))})
        space = self.param_distributions
        if space is None:
            min_train = min(len(train) for train, _ in splits)
            space = _default_space(forecaster, prefix, min_train, sees_rows)
        valid = set(base.get_params(deep=True))
        return base, _Space(space, valid, prefix, type(self.estimator).__name__)

    def _open_study(self, rng):
        """Create the study, or load the one of ``study_name`` from ``storage``."""
        return optuna.create_study(
            storage=_make_storage(self.storage, self.heartbeat_interval),
            study_name=self.study_name,
            load_if_exists=True,
            direction="maximize",
            sampler=self._sampler(rng),
            pruner=self._pruner(),
        )

    def _sampler(self, rng):
        if self.sampler is not None:
            return self.sampler
        return optuna.samplers.TPESampler(seed=int(rng.randint(_MAX_SEED)))

    def _pruner(self):
        if self.pruner is None:
            return optuna.pruners.NopPruner()
        if self.pruner == "auto":
            # Three start-up trials rather than five: 1.2x fewer epochs on the pruning benchmark
            # (docs/tuning.md), with the same best score.
            return optuna.pruners.PercentilePruner(25.0, n_startup_trials=3, n_warmup_steps=0)
        return self.pruner

    # -- delegating --------------------------------------------------------------------------

    def predict(self, X, **params):
        """Predict with ``best_estimator_``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.
        **params : dict
            Passed on to the best estimator's ``predict``, e.g. ``confidence_level=0.9`` for
            prediction intervals too (see :meth:`LSTMForecaster.predict
            <sklstm.LSTMForecaster.predict>`).

        Returns
        -------
        y_pred : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            The best estimator's predictions (and bounds, with ``confidence_level``).
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X, **params)

    def predict_interval(self, X, y=None, *, confidence_level=0.9):
        """Predict with ``best_estimator_``, with lower and upper bounds.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Time-ordered rows.
        y : array-like of shape (n_rows,) or (n_rows, n_outputs), default=None
            Targets of the rows of X where known, for adaptive intervals.
        confidence_level : float or list of float, default=0.9
            Levels of the intervals.

        Returns
        -------
        y_pred : ndarray of shape (n_rows,) or (n_rows, n_outputs)
            The best estimator's predictions.
        y_pis : ndarray of shape (n_rows, 2, n_levels) or (n_rows, n_outputs, 2, n_levels)
            Lower and upper bounds, as :meth:`LSTMForecaster.predict_interval
            <sklstm.LSTMForecaster.predict_interval>` returns them.
        """
        check_is_fitted(self, "best_estimator_")
        estimator = self.best_estimator_
        if isinstance(estimator, Pipeline):
            # The rows through the transformers, the bounds from the forecaster at the end.
            X, estimator = estimator[:-1].transform(X), estimator[-1]
        return estimator.predict_interval(X, y, confidence_level=confidence_level)

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
        check_is_fitted(self, "best_estimator_")
        return check_scoring(self.best_estimator_, scoring=self.scoring)(self.best_estimator_, X, y)


# -- the estimator and its space ---------------------------------------------------------------


def _find_forecaster(estimator):
    """Return (parameter prefix, the LSTMForecaster, whether it receives raw rows)."""
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


class _Space:
    """Turns a trial into candidate parameters, named as ``set_params`` names them.

    A dict of distributions is checked here, before any trial; a callable space can only be
    checked on the parameters it returns, at the start of each trial (still before its fits).
    """

    def __init__(self, space, valid, prefix, estimator_name):
        self.valid = valid
        self.prefix = prefix
        self.estimator_name = estimator_name
        if callable(space):
            self.space = space
        else:
            self.space = _resolve_names(space, valid, prefix, estimator_name)
            _check_distributions(self.space)

    def __call__(self, trial):
        if callable(self.space):
            return _resolve_names(self.space(trial), self.valid, self.prefix, self.estimator_name)
        return {name: _suggest(trial, name, dist) for name, dist in self.space.items()}


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
    for name, dist in space.items():
        if not isinstance(dist, BaseDistribution):
            raise ValueError(
                f"The search space must map names to Optuna distributions; {name!r} maps to "
                f"{dist!r}. Use e.g. optuna.distributions.IntDistribution(4, 64), or a "
                "callable trial -> params."
            )


def _suggest(trial, name, dist):
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
    splitter = check_cv(cv)
    try:
        splits = [(np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y)]
    except ValueError as exc:  # e.g. more folds than rows: name the search's input too
        n_rows = len(X)
        rows = f"{n_rows} sample{'' if n_rows == 1 else 's'}"
        raise ValueError(f"cv={cv!r} cannot split X ({rows}): {exc}") from exc
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


def _where_to_fit(n_jobs, fits_per_process):
    """Return (number of jobs, fits per worker process, or None to fit in this process)."""
    if n_jobs is None:
        n_jobs = 1
    elif n_jobs < 0:  # -1: one per core, -2: all cores but one, ...
        n_jobs = (os.cpu_count() or 1) + 1 + n_jobs
    n_jobs = max(1, n_jobs)
    if fits_per_process == "auto":
        # One job fits here: no worker to start, and nothing to re-run in the caller's script.
        fits_per_process = None if n_jobs == 1 else _FITS_PER_WORKER
    if n_jobs > 1 and fits_per_process is None:
        raise ValueError(
            f"n_jobs={n_jobs} runs fits in worker processes: set fits_per_process to 'auto' "
            "or an int (e.g. 5), or n_jobs=1 to fit in this process."
        )
    return n_jobs, fits_per_process


class _Fits:
    """Runs (params, fold) fits in this process, or in recycled worker processes."""

    def __init__(self, data, n_jobs, fits_per_process):
        self._data = data
        self._workers = None
        if fits_per_process is not None:
            threads = max(1, (os.cpu_count() or 1) // n_jobs)
            self._workers = make_workers(n_jobs, fits_per_process, data, threads)

    def __call__(self, params, fold):
        if self._workers is None:
            return fit_and_score(params, fold, **self._data)
        return self._workers.run(fit_fold, params, fold)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._workers is not None:
            self._workers.close()


class _Objective:
    """One trial: suggest parameters, fit the folds in time order, report the running mean."""

    def __init__(self, space, fits, n_splits):
        self.space = space
        self.fits = fits
        self.n_splits = n_splits

    def __call__(self, trial):
        params = self.space(trial)
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


def _run_trials(study, objective, *, n_trials, timeout, n_jobs, show_progress_bar):
    """Run the trials the study lacks to hold ``n_trials`` finished ones."""
    # Optuna fails stale trials only when a trial starts: a resumed study with nothing left to
    # run, or one whose last worker was killed, would keep a dead worker's trial RUNNING.
    _fail_stale_trials(study)
    remaining = n_trials - len(study.get_trials(deepcopy=False, states=_FINISHED))
    if remaining > 0:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=timeout,
            n_jobs=n_jobs,
            # Other workers on the same storage count too: stop at the study's total.
            callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=_FINISHED)],
            show_progress_bar=show_progress_bar,
        )
    _fail_stale_trials(study)


def _fail_stale_trials(study):
    """Fail the trials whose heartbeat stopped and queue their retries (database storages)."""
    with warnings.catch_warnings():
        # Experimental in Optuna, which the user did not choose and should not be warned about.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


# -- storages and results ----------------------------------------------------------------------


def _make_storage(storage, heartbeat_interval):
    """An Optuna storage from a URL or journal path; None stays in memory."""
    if storage is None:
        return None
    try:
        if "://" not in storage and storage.endswith((".log", ".journal")):
            return _journal_storage(storage)
        return _database_storage(storage, heartbeat_interval)
    except Exception as exc:
        # Whatever SQLAlchemy, its drivers or the file system raise (an unknown dialect, a
        # missing driver, an unreachable server, a missing directory) means the same to the
        # user: this string does not open a storage. The cause stays chained.
        reason = str(exc) if exc.__cause__ is None else f"{exc} ({exc.__cause__})"
        raise ValueError(
            f"The 'storage' parameter of LSTMSearchCV must be {_STORAGE_FORMS}. Got "
            f"{storage!r} instead, which cannot be opened: {reason}"
        ) from exc


def _journal_storage(path):
    # Journal files have no heartbeat: a trial whose worker died stays RUNNING.
    return optuna.storages.JournalStorage(JournalFileBackend(path))


def _database_storage(url, heartbeat_interval):
    import sqlalchemy  # Optuna's database layer; only database storages need it

    engine_kwargs = None
    if url.startswith("sqlite"):
        # Wait for the file lock instead of failing with "database is locked".
        engine_kwargs = {"connect_args": {"timeout": 60}}
    # Optuna 4.9 renamed the retry callback; both names are experimental, which the user did not
    # choose and should not be warned about.
    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    retry = retry or optuna.storages.RetryFailedTrialCallback
    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_interval,
                    heartbeat_stale_trial_callback=retry(max_retry=3),
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError) as exc:
            # Workers started together on a new database all create its tables; all but one
            # fail on a table or version row that another has just written (optuna#4621).
            # Once the tables exist, opening succeeds.
            racing = isinstance(exc, sqlalchemy.exc.IntegrityError) or "already exists" in str(exc)
            if not racing or attempt == _SCHEMA_ATTEMPTS - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def _best_trial(study, cv_results, n_finished):
    """Return (row in cv_results, parameters, mean score) of the best complete trial."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        raise ValueError(
            f"No trial of the study completed ({n_finished} finished, all pruned): "
            "raise n_trials, or pass pruner=None."
        )
    best = study.best_trial
    index = int(np.flatnonzero(cv_results["number"] == best.number)[0])
    return index, dict(cv_results["params"][index]), float(best.value)


def _cv_results(study, n_splits):
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
    complete = np.array([t.state == TrialState.COMPLETE for t in trials], bool)
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
