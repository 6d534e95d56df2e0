"""Feed Keras batches of windows gathered on demand, never the whole 3-D array.

Windows are gathered inside the tf.data graph from the 2-D rows, so memory stays at the size of
the rows plus one batch, and the seeded, op-level shuffle is the same in every run without
touching TensorFlow's global seed.
"""

import numpy as np
import tensorflow as tf


def window_dataset(rows, window, positions, y=None, *, batch_size, shuffle_seed=None):
    """Batches of ``rows[p : p + window]`` for each ``p`` in ``positions`` (and ``y[p]``).

    Parameters
    ----------
    rows : ndarray of shape (n_rows, n_features)
        Scaled, time-ordered context (see :func:`sklstm._window.window_context`).
    window : int
        Time steps per window.
    positions : ndarray of int
        First row of each window; window ``p`` ends at row ``p + window - 1``.
    y : ndarray of shape (n_rows, n_outputs), default=None
        Targets indexed like ``positions``.
    batch_size : int
        Windows per batch.
    shuffle_seed : int, default=None
        Reshuffle the windows every epoch with this seed; keep their order if None.
    """
    rows = tf.constant(rows, dtype=tf.float32)
    offsets = tf.range(int(window), dtype=tf.int64)
    dataset = tf.data.Dataset.from_tensor_slices(np.asarray(positions, dtype=np.int64))
    if y is not None:
        dataset = tf.data.Dataset.zip(
            dataset, tf.data.Dataset.from_tensor_slices(np.asarray(y, dtype=np.float32))
        )
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(positions), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(int(batch_size))

    def gather(p, *target):
        return (tf.gather(rows, p[:, None] + offsets[None, :]), *target)

    return dataset.map(gather).prefetch(tf.data.AUTOTUNE)


def array_dataset(windows, y=None, *, batch_size, shuffle_seed=None):
    """Batches of ready-made 3-D windows (and their targets), for 3-D input."""
    windows = np.asarray(windows, dtype=np.float32)
    items = windows if y is None else (windows, np.asarray(y, dtype=np.float32))
    dataset = tf.data.Dataset.from_tensor_slices(items)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(windows), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)
