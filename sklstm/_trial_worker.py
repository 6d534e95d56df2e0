"""Worker processes of a search: what each one does, and how they are recycled.

:class:`~sklstm.LSTMSearchCV` keeps the Optuna study in its own process and sends every
(candidate, fold) fit to worker processes. They are started with the "spawn" method, so
TensorFlow is imported afresh in each worker and its thread settings there never reach the
caller's process. Each worker is replaced after a fixed number of fits, which returns the
memory that Keras keeps per built model (about 11 MB on CPU) to the system.
"""

import queue
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


# -- the calling process's side ------------------------------------------------------------------


class RecycledWorkers:
    """``n_workers`` worker processes, each replaced after ``tasks_per_worker`` tasks.

    A worker is shut down and joined *before* its replacement starts. A process that imported
    TensorFlow takes seconds to exit, and a replacement started meanwhile imports TensorFlow
    too: with ``ProcessPoolExecutor(max_tasks_per_child=...)`` both were alive together, which
    set the peak memory of a whole search (about +650 MB over one worker's RSS).
    """

    def __init__(self, n_workers, tasks_per_worker, initializer=None, initargs=()):
        self._idle = queue.SimpleQueue()
        self._workers = [_Worker(tasks_per_worker, initializer, initargs) for _ in range(n_workers)]
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

    def __init__(self, tasks, initializer, initargs):
        self._tasks = tasks
        self._initializer = initializer
        self._initargs = initargs
        self._executor = None
        self._done = 0

    def run(self, fn, *args):
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._submit(fn, *args)
        except BrokenProcessPool:
            # The process died (killed, out of memory): try once more in a fresh one.
            self.stop()
            return self._submit(fn, *args)

    def _submit(self, fn, *args):
        if self._executor is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=self._initializer,
                initargs=self._initargs,
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
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        self._done = 0
