"""Prediction intervals from residuals on windows the model never trained on.

Split conformal prediction: the half-width of an interval at confidence level ``c`` for one
output is the ``ceil((n + 1) c)``-th smallest of the ``n`` absolute calibration residuals of
that output, so intervals widen with the horizon step. Under exchangeable residuals it covers
at least ``c`` of future values.

Time series drift, so :func:`adaptive_half_widths` also runs adaptive conformal inference
(Gibbs & Candès, 2021) when the targets of the predicted rows are known: as each residual
becomes known (``lag`` rows after its origin, never earlier), it replaces the oldest one in the
calibration set, and the level used rises by ``ADAPTIVE_STEP * (missed - (1 - c))``: up
after a miss, down after a hit.
"""

import math
import re
import warnings
from numbers import Real

import numpy as np

# Gibbs & Candès' step size: the level moves by 0.5 % of a miss or a hit.
ADAPTIVE_STEP = 0.005
# The most recent calibration residuals kept: enough for a 99.9 % level, and a short enough
# memory for the adaptive form to follow a drifting residual scale.
MAX_CALIBRATION = 1000

_BOUND_NAME = re.compile(r"(.+)_(lower|upper)_(\d+(?:\.\d+)?)")


def bound_name(target, side, level):
    """The forecast column of a bound: ``bound_name("y", "lower", 0.8)`` is ``"y_lower_80"``."""
    return f"{target}_{side}_{100 * level:.10g}"


def split_bound_name(name):
    """``(target, side, percent)`` of a name made by :func:`bound_name`, or None."""
    match = _BOUND_NAME.fullmatch(name) if isinstance(name, str) else None
    return None if match is None else (match[1], match[2], float(match[3]))


def check_confidence_levels(confidence_level):
    """``confidence_level`` (a float or a sequence of floats in (0, 1)) as a 1-D array."""
    levels = np.atleast_1d(np.asarray(confidence_level, dtype=object))
    if levels.ndim != 1 or len(levels) == 0:
        raise ValueError(
            f"confidence_level must be a float in (0, 1) or a non-empty list of them, e.g. "
            f"0.9 or [0.8, 0.95]; got {confidence_level!r}."
        )
    for level in levels:
        if not isinstance(level, Real) or isinstance(level, bool):
            raise TypeError(
                f"confidence_level must hold floats in (0, 1), e.g. 0.9 for 90 % intervals; "
                f"got {level!r} of type {type(level).__name__}."
            )
        if not 0 < level < 1:
            hint = f" For {level} %, pass {level / 100:g}." if 1 < level < 100 else ""
            raise ValueError(
                f"confidence_level must be in (0, 1), e.g. 0.9 for 90 % intervals; "
                f"got {level}.{hint}"
            )
    return levels.astype(np.float64)


def split_half_widths(residuals, levels):
    """Half-widths of shape (n_outputs, n_levels) from calibration residuals of shape
    (n_calibration, n_outputs)."""
    scores = np.sort(np.abs(residuals), axis=0)
    _warn_if_too_few(len(scores), levels)
    return _order_statistic(scores, np.broadcast_to(levels, (scores.shape[1], len(levels))))


def adaptive_half_widths(residuals, observed, lags, levels):
    """Half-widths of shape (n_rows, n_outputs, n_levels), updated as targets become known.

    Parameters
    ----------
    residuals : ndarray of shape (n_calibration, n_outputs)
        Calibration residuals: the starting set.
    observed : ndarray of shape (n_rows, n_outputs)
        Residuals of the predicted rows, NaN where the target is not known.
    lags : ndarray of int of shape (n_outputs,)
        Rows after its origin at which an output's target is known: the residual of row ``s``
        is used from row ``s + lag`` on, so no interval depends on a later value.
    levels : ndarray of shape (n_levels,)
    """
    scores = np.abs(residuals).astype(np.float64)
    n_cal, n_outputs = scores.shape
    _warn_if_too_few(n_cal, levels)
    observed = np.abs(observed)
    outputs = np.arange(n_outputs)
    oldest = np.zeros(n_outputs, dtype=int)
    levels_now = np.tile(levels, (n_outputs, 1))
    widths = np.empty((len(observed), n_outputs, len(levels)))
    for t in range(len(observed)):
        origin = t - lags
        arrived = origin >= 0
        arrived[arrived] = ~np.isnan(observed[origin[arrived], outputs[arrived]])
        j, s = outputs[arrived], origin[arrived]
        missed = observed[s, j][:, None] > widths[s, j]
        levels_now[j] += ADAPTIVE_STEP * (missed - (1 - levels))
        scores[oldest[j], j] = observed[s, j]
        oldest[j] = (oldest[j] + 1) % n_cal
        widths[t] = _order_statistic(np.sort(scores, axis=0), levels_now)
    return widths


def _order_statistic(scores, levels):
    """The ``ceil((n + 1) level)``-th smallest score of each output (column of the sorted
    ``scores``) at each of its levels (row of ``levels``), the largest when that is past n."""
    n = len(scores)
    rank = np.ceil((n + 1) * np.clip(levels, 0, 1) - 1e-9).astype(int)
    index = np.clip(rank, 1, n) - 1
    # Levels given in any order: the wider interval always belongs to the higher level.
    order = np.argsort(levels, axis=1, kind="stable")
    widths = np.take_along_axis(scores, index.T, axis=0).T
    monotone = np.maximum.accumulate(np.take_along_axis(widths, order, axis=1), axis=1)
    np.put_along_axis(widths, order, monotone, axis=1)
    return widths


def _warn_if_too_few(n_calibration, levels):
    needed = math.ceil(max(level / (1 - level) for level in levels) - 1e-9)
    if n_calibration < needed:
        warnings.warn(
            f"{n_calibration} calibration windows are too few for a {max(levels):g} "
            f"interval's guarantee (it needs at least {needed}); its bounds use the largest "
            "calibration residual. Fit on more rows for this level.",
            UserWarning,
            stacklevel=4,
        )
