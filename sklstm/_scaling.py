"""Standardisation of rows, in chunks so that long series never need float64 copies."""

import numpy as np

# Rows per chunk: large enough for vectorised speed, small enough that a float64 copy of one
# chunk is a few megabytes whatever the series length.
CHUNK = 1 << 15


def _chunks(a):
    for start in range(0, len(a), CHUNK):
        # C order and float64: pairwise sums round the same way whatever the input's layout.
        yield np.ascontiguousarray(a[start : start + CHUNK], dtype=np.float64)


def column_stats(a):
    """Per-column mean and standard deviation of a 2-D array (1 where a column is constant)."""
    mean = sum(chunk.sum(axis=0) for chunk in _chunks(a)) / len(a)
    var = sum(((chunk - mean) ** 2).sum(axis=0) for chunk in _chunks(a)) / len(a)
    std = np.sqrt(var)
    return mean, np.where(std > np.finfo(np.float32).eps, std, 1.0)


def standardize(a, mean, scale):
    """``(a - mean) / scale`` as a new float32 array, computed chunk by chunk along axis 0."""
    out = np.empty(a.shape, dtype=np.float32)
    for start, chunk in zip(range(0, len(a), CHUNK), _chunks(a), strict=True):
        out[start : start + len(chunk)] = (chunk - mean) / scale
    return out
