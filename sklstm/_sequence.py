"""The batches of :class:`~sklstm._batches.Windows` as a ``keras.utils.PyDataset``: the input
every Keras backend reads, used where TensorFlow's ``tf.data`` is not (JAX, torch).

Imported only when training or predicting, so that importing sklstm does not load Keras.
"""

import keras
import numpy as np


class WindowSequence(keras.utils.PyDataset):
    """Batches of the windows ``select`` picks, with their rows of ``y`` when given.

    Parameters
    ----------
    windows : Windows
        The scaled windows of a series.
    select : slice or ndarray of int
        Which windows, in order.
    y : ndarray of shape (n_windows, n_outputs), default=None
        Targets aligned with ``windows``.
    batch_size : int
        Windows per batch.
    shuffle_seed : int, default=None
        If not None, every epoch visits the windows in the next permutation drawn from a NumPy
        generator seeded with it: the same permutations as the ``tf.data`` pipeline's.
    pad : bool, default=False
        Give every batch one of few shapes, so that JAX compiles a step once per shape instead
        of once more for the last batch of every fit and for every new number of windows:
        the last batch is padded (with repeats of its own windows) to ``batch_size`` windows
        when there are several batches, and a single batch to the next power of two (at
        least 16, at most ``batch_size``). Padded outputs are to be dropped by the caller
        (:attr:`n_windows` are real). With targets, every batch carries sample weights: 0
        for the padding and ``size / n_real`` for the real windows, so that the batch's loss
        is still the mean over its real windows. Several batches of targets without
        shuffling (validation) are never padded: Keras averages their losses weighted by
        batch size, which padding would change.
    """

    def __init__(self, windows, select, y=None, *, batch_size, shuffle_seed=None, pad=False):
        # One worker, no multiprocessing: batches are gathered in the training thread, which
        # costs a gather of one batch and keeps the permutation's order deterministic.
        super().__init__()
        self.windows = windows
        self.y = None if y is None else np.asarray(y, dtype=np.float32)
        self.batch_size = int(batch_size)
        self._index = np.arange(len(windows))[select]
        self._rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        self._order = self._index
        self.n_windows = len(self._index)
        self._padded_size = None
        if pad and len(self) == 1:
            bucket = 1 << max(int(self.n_windows - 1).bit_length(), 4)
            self._padded_size = min(self.batch_size, bucket)
        elif pad and (self.y is None or self._rng is not None):
            self._padded_size = self.batch_size

    def __len__(self):
        return -(-len(self._index) // self.batch_size)

    def on_epoch_begin(self):
        if self._rng is not None:
            self._order = self._rng.permutation(self._index)

    def __getitem__(self, i):
        pick = self._order[i * self.batch_size : (i + 1) * self.batch_size]
        n_real, size = len(pick), self._padded_size
        if size is not None:
            pick = np.resize(pick, size)
        if self.y is None:
            return (self.windows.take(pick),)
        if size is None:
            return self.windows.take(pick), self.y[pick]
        # Every batch carries weights, the full ones too (all 1, an exact no-op): a batch
        # without them would be another input structure, and JAX would compile again.
        weight = np.zeros(size, dtype=np.float32)
        weight[:n_real] = size / n_real
        return self.windows.take(pick), self.y[pick], weight
