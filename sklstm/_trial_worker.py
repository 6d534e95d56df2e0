"""Worker processes of a search: what each one does, and how they are recycled.

:class:`~sklstm.LSTMSearchCV` keeps the Optuna study in its own process and, when asked to,
sends every (candidate, fold) fit to worker processes. They are started by joblib's loky
executor, which starts a fresh interpreter that does not run the caller's ``__main__``
module: a script without an ``if __name__ == "__main__":`` guard, a notebook and an imported
module all work. TensorFlow is imported afresh in each worker, so its thread settings there
never reach the caller's process. Each worker is replaced after a fixed number of fits, which
gives back what TensorFlow keeps per process; ``docs/tuning.md`` ("Memory: in this process
or in worker processes") measures it.
"""

import functools
import queue
import time

from joblib.externals.loky import BrokenProcessPool, ProcessPoolExecutor
from joblib.externals.loky.backend import get_context
from sklearn.base import clone
from sklearn.metrics import check_scoring

from ._forecaster import LSTMForecaster
from ._sklearn_private import _safe_indexing

# Set once per worker process by `init_worker` (the executor's initializer): the data travel to
# each worker once instead of with every fit.
_context = {}


def init_worker(*, estimator, X, y, splits, scoring, n_threads=None):
    """Worker initializer: remember the search's data and limit TensorFlow's threads."""
    if n_threads is not None and _keras_backend() == "tensorflow":
        # Lazy: only a worker that fits needs TensorFlow (seconds and hundreds of MB to load).
        import tensorflow as tf

        # Worker processes only: the caller's process keeps its own settings.
        tf.config.threading.set_intra_op_parallelism_threads(n_threads)
        tf.config.threading.set_inter_op_parallelism_threads(n_threads)
    _context.update(estimator=estimator, X=X, y=y, splits=splits, scoring=scoring)


def _keras_backend():
    # JAX's thread pools are fixed when it starts, with no per-process setting like
    # TensorFlow's: under JAX the workers' threads are left to it (docs/performance.md).
    import keras

    return keras.backend.backend()


def fit_fold(params, fold):
    """Fit a clone of the estimator with ``params`` on training fold ``fold``; score its test
    fold. Return ``(score, n_epochs, fit_seconds)``."""
    return fit_and_score(params, fold, **_context)


def fit_and_score(params, fold, *, estimator, X, y, splits, scoring):
    """Fit and score one candidate on one fold (in whichever process calls it)."""
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
    if isinstance(model, LSTMForecaster):
        return int(model.n_iter_)
    return int(sum(n_epochs(step) for _, step in getattr(model, "steps", [])))


# -- the calling process's side ------------------------------------------------------------------


class RecycledWorkers:
    """``n_workers`` worker processes, each replaced after ``tasks_per_worker`` tasks.

    ``initializer`` is called without arguments in every new worker (bind its arguments by
    name with :func:`functools.partial`). A worker is shut down and joined *before* its
    replacement starts: a process that imported TensorFlow takes seconds to exit, and a
    replacement started meanwhile imports TensorFlow too, so with
    ``ProcessPoolExecutor(max_tasks_per_child=...)`` both were alive together, which set the
    peak memory of a whole search (``docs/tuning.md``, "Memory").
    """

    def __init__(self, n_workers, tasks_per_worker, initializer=None):
        self._idle = queue.SimpleQueue()
        self._workers = [_Worker(tasks_per_worker, initializer) for _ in range(n_workers)]
        for worker in self._workers:
            self._idle.put(worker)

    def run(self, fn, *args):
        """Run ``fn(*args)`` in an idle worker (waiting for one) and return its result."""
        worker = self._idle.get()
        try:
            return worker.run(fn, *args)
        finally:
            self._idle.put(worker)

    def close(self):
        """Stop every worker, waiting for tasks that are running."""
        for worker in self._workers:
            worker.stop()


class _Worker:
    """One worker process at a time (started on demand), replaced after ``tasks`` tasks."""

    def __init__(self, tasks, initializer):
        self._tasks = tasks
        self._initializer = initializer
        self._executor = None
        self._done = 0

    def run(self, fn, *args):
        try:
            return self._submit(fn, *args)
        except BrokenProcessPool:
            # The process died (killed, out of memory): try once more in a fresh one.
            self.stop()
            return self._submit(fn, *args)

    def _submit(self, fn, *args):
        if self._executor is None:
            # loky rather than multiprocessing's "spawn": a spawned child first runs the
            # caller's __main__ module, which in a script without a __main__ guard starts the
            # search again and breaks the pool, or hangs the caller while it writes the data.
            # The "loky" context is named because loky's default can be changed process-wide.
            self._executor = ProcessPoolExecutor(
                max_workers=1, context=get_context("loky"), initializer=self._initializer
            )
        try:
            return self._executor.submit(fn, *args).result()
        finally:
            self._done += 1
            if self._done >= self._tasks:
                self.stop()

    def stop(self):
        """Shut the process down and wait until it has exited."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._done = 0


def make_workers(n_workers, tasks_per_worker, data, n_threads):
    """Workers that each receive the search's ``data`` (a dict of ``init_worker``'s keyword
    arguments) once, when they start."""
    initializer = functools.partial(init_worker, n_threads=n_threads, **data)
    return RecycledWorkers(n_workers, tasks_per_worker, initializer)
