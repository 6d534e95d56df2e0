"""Scaled windows fed to Keras in batches gathered on demand, never the whole 3-D array.

Each batch is gathered from the 2-D rows and standardised on the fly, so a fit holds no copy
of the series beyond one batch (an ``np.memmap`` stays on disk), and the shuffle is a seeded
NumPy permutation per epoch: the same in every run, without touching TensorFlow's global seed.
The statistics come from :func:`column_stats`, which reads long series in chunks so that they
never need a float64 copy.
"""

import numpy as np

# Rows per chunk: large enough for vectorised speed, small enough that a float64 copy of one
# chunk is a few megabytes whatever the series length.
CHUNK = 1 << 15


def _chunks(a):
    for start in range(0, len(a), CHUNK):
        # C order and float64: pairwise sums round the same way whatever the input's layout.
        yield np.ascontiguousarray(a[start : start + CHUNK], dtype=np.float64)


def column_stats(a):
    """Per-column mean and standard deviation of a 2-D array (1 where a column is constant),
    and whether each column is constant."""
    mean = sum(chunk.sum(axis=0) for chunk in _chunks(a)) / len(a)
    var = sum(((chunk - mean) ** 2).sum(axis=0) for chunk in _chunks(a)) / len(a)
    constant = np.sqrt(var) <= np.finfo(np.float32).eps
    return mean, np.where(constant, 1.0, np.sqrt(var)), constant


def standardize(a, mean, scale):
    """``(a - mean) / scale`` as a new float32 array, computed chunk by chunk along axis 0."""
    out = np.empty(a.shape, dtype=np.float32)
    for start, chunk in zip(range(0, len(a), CHUNK), _chunks(a), strict=True):
        out[start : start + len(chunk)] = (chunk - mean) / scale
    return out


class Windows:
    """The scaled windows of a series, gathered by window number.

    Parameters
    ----------
    data : ndarray of shape (n_rows, n_features) or (n_windows, window, n_features)
        Time-ordered rows, where window ``i`` is ``data[i : i + window]``, or ready-made 3-D
        windows, where window ``i`` is ``data[i]``. Never copied.
    window : int
        Time steps per window.
    mean, scale : ndarray of shape (n_features,)
        Each window is returned as ``(window - mean) / scale`` in float32.
    """

    def __init__(self, data, window, mean, scale):
        self.data = data
        self.window = int(window)
        # float32 arithmetic per batch: twice the speed of float64 for a difference of one
        # rounding, every epoch.
        self._mean32 = np.asarray(mean, dtype=np.float32)
        self._inverse_scale32 = np.asarray(1 / np.asarray(scale, dtype=np.float64), np.float32)

    def __len__(self):
        if self.data.ndim == 3:
            return len(self.data)
        return max(len(self.data) - self.window + 1, 0)

    def take(self, index):
        """The scaled windows at ``index`` (int array), shape (len(index), window, n_features)."""
        if self.data.ndim == 3:
            batch = self.data[index]
        else:
            batch = self.data[index[:, None] + np.arange(self.window)]
        batch = batch.astype(np.float32)  # a copy for memmaps and float64 rows too
        batch -= self._mean32
        batch *= self._inverse_scale32
        return batch

    def batches(self, select, y=None, *, batch_size, rng=None):
        """Yield batches of the windows ``select`` picks (a slice or index array), with their
        rows of ``y`` (aligned with the windows) when given; shuffled by ``rng`` if not None."""
        index = np.arange(len(self))[select]
        if rng is not None:
            index = rng.permutation(index)
        for start in range(0, len(index), batch_size):
            pick = index[start : start + batch_size]
            yield self.take(pick) if y is None else (self.take(pick), y[pick])


def window_dataset(windows, select, y=None, *, batch_size, shuffle_seed=None):
    """What Keras' ``fit`` and ``predict`` take: the batches of :meth:`Windows.batches`,
    reshuffled every epoch if ``shuffle_seed`` is not None, with a known number of batches.

    Under TensorFlow a ``tf.data.Dataset`` of batches of any size (its traced steps accept
    them all), which prefetches the next batch while one trains; under any other backend a
    :class:`~sklstm._sequence.WindowSequence` (Keras' backend-neutral ``PyDataset``) whose
    batches are padded to few shapes, each compiled once (see there). Both draw the same
    permutations from the same seed.
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        return _tf_dataset(windows, select, y, batch_size=batch_size, shuffle_seed=shuffle_seed)
    from ._sequence import WindowSequence

    return WindowSequence(
        windows, select, y, batch_size=batch_size, shuffle_seed=shuffle_seed, pad=True
    )


def _tf_dataset(windows, select, y=None, *, batch_size, shuffle_seed=None):
    import tensorflow as tf

    batch_size = int(batch_size)
    y = None if y is None else np.asarray(y, dtype=np.float32)
    rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    n_windows = len(range(len(windows))[select]) if isinstance(select, slice) else len(select)
    n_features = windows.data.shape[-1]
    spec = tf.TensorSpec((None, windows.window, n_features), tf.float32)
    if y is not None:
        spec = (spec, tf.TensorSpec((None, y.shape[1]), tf.float32))
    dataset = tf.data.Dataset.from_generator(
        # Called once per epoch, so every epoch draws the next permutation from rng.
        lambda: windows.batches(select, y, batch_size=batch_size, rng=rng),
        output_signature=spec,
    )
    n_batches = -(-n_windows // batch_size)
    return dataset.apply(tf.data.experimental.assert_cardinality(n_batches)).prefetch(2)
