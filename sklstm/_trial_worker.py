"""What a search's worker process does: fit one candidate on one cross-validation fold.

:class:`~sklstm.LSTMSearchCV` keeps the Optuna study in its own process and sends every
(candidate, fold) fit to a pool of worker processes. The pool is started with the "spawn"
method, so TensorFlow is imported afresh in each worker and its thread settings there never
reach the caller's process, and each worker is replaced after a fixed number of fits, which
returns the memory that Keras keeps per built model (about 11 MB on CPU) to the system.
"""

import time

# Set once per worker process by `init_worker` (the pool's initializer): the data travel to
# each worker once instead of with every fit.
_context = {}


def init_worker(estimator, X, y, splits, scoring, n_threads):
    """Pool initializer: remember the search's data and limit TensorFlow's threads."""
    if n_threads is not None:
        import tensorflow as tf

        # Worker processes only: the caller's process keeps its own settings.
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    _context.update(estimator=estimator, X=X, y=y, splits=splits, scoring=scoring)


def fit_fold(params, fold):
    """Fit a clone of the estimator with ``params`` on training fold ``fold``; score its test
    fold. Return ``(score, n_epochs, fit_seconds)``."""
    return fit_and_score(params, fold, **_context)


def fit_and_score(params, fold, *, estimator, X, y, splits, scoring):
    """Fit and score one candidate on one fold (in whichever process calls it)."""
    from sklearn.base import clone
    from sklearn.metrics import check_scoring
    from sklearn.utils import _safe_indexing

    train, test = splits[fold]
    model = clone(estimator).set_params(**params)
    start = time.perf_counter()
    model.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    seconds = time.perf_counter() - start
    scorer = check_scoring(model, scoring=scoring)
    score = float(scorer(model, _safe_indexing(X, test), _safe_indexing(y, test)))
    return score, n_epochs(model), seconds


def n_epochs(model):
    """Epochs that the LSTMForecaster in ``model`` (itself or a Pipeline step) ran."""
    from ._forecaster import LSTMForecaster

    if isinstance(model, LSTMForecaster):
        return int(model.n_iter_)
    return int(sum(n_epochs(step) for _, step in getattr(model, "steps", [])))
