"""Exponential smoothing of a target's own column: the forecast the estimator falls back on.

Additive Holt-Winters in error-correction form, with a damped trend and, where the data's
frequency has one, an additive season (ETS(A,Ad,A)). After row ``t`` with one-step error
``e = y[t] - (level + phi * trend + season[t - m])``::

    level  <- level + phi * trend + alpha * e
    trend  <- phi * trend + beta * e
    season[t] <- season[t - m] + gamma * e

and the forecast ``k`` rows on is ``level + (phi + ... + phi**k) * trend + season[t + k - m j]``
(``j`` the whole seasons at or beyond ``k``). Unlike the window's anchors, its level and
season carry the whole history: what a window of a few rows of a short series cannot hold.

The smoothing constants are chosen on a grid by the one-step squared error over the fitted
rows, all grid points run side by side. A run starts from its first row alone (level from
it, no trend) and the seasonal profile of the fitted rows' first season, so that no state
ever reads a later row. Plain NumPy.
"""

from dataclasses import dataclass

import numpy as np

from ._target import source_features

# The grid: beta and gamma as fractions of alpha and of 1 - alpha, which keeps the
# recursion stable.
ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
TREND_FRACTIONS = (0.0, 0.05, 0.2)
DAMPINGS = (0.8, 0.9, 0.98)
SEASON_FRACTIONS = (0.0, 0.1, 0.3)
# Longer seasons are left out: too many states for the rows of the series that need them.
MAX_SEASON = 52


def season_of(season, n_rows):
    """The season the smoothing keeps for ``n_rows`` rows: ``season`` when two of them fit
    and it is at most ``MAX_SEASON`` rows, else 0 (none)."""
    if season and 1 < season <= MAX_SEASON and n_rows >= 2 * season:
        return int(season)
    return 0


@dataclass(frozen=True)
class Smoothing:
    """Fitted smoothing constants of one column and the seasonal profile its runs start
    from; ``season`` 0 when it keeps none."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    season: int
    profile: np.ndarray

    @classmethod
    def fit(cls, values, season):
        """Choose the constants with the least one-step squared error over ``values``."""
        values = np.asarray(values, dtype=np.float64)
        season = season_of(season, len(values))
        # The first season's deviations from its mean, less the trend to the second's.
        profile = np.zeros(season)
        if season:
            first, second = values[:season], values[season : 2 * season]
            slope = (second.mean() - first.mean()) / season
            profile = first - first.mean() - slope * (np.arange(season) - (season - 1) / 2)
        grid = np.array(
            [
                (a, f * a, g * (1 - a), phi)
                for a in ALPHAS
                for f in TREND_FRACTIONS
                for g in (SEASON_FRACTIONS if season else (0.0,))
                for phi in (DAMPINGS if f else (1.0,))
            ]
        ).T
        errors = _run(values, *grid, season, start(values, profile))
        # The first season's errors come from the starting states, not the constants.
        sse = (errors[season or 1 :] ** 2).sum(axis=0)
        best = grid[:, int(np.argmin(np.where(np.isfinite(sse), sse, np.inf)))]
        return cls(*map(float, best), season, profile)

    def states(self, values, state=None):
        """The states after each row of ``values``, run on from ``state`` (by default, one
        started from their first row): a :class:`States`."""
        values = np.asarray(values, dtype=np.float64)
        state = start(values, self.profile) if state is None else state
        record = []
        _run(values, self.alpha, self.beta, self.gamma, self.phi, self.season, state, record)
        level, trend = (np.array([r[i] for r in record]).reshape(-1) for i in (0, 1))
        ring = np.concatenate([np.ravel(state[2]), [r[2] for r in record]])
        return States(level, trend, ring, self.phi, self.season)


@dataclass(frozen=True)
class States:
    """Level and trend after each of ``n`` rows, and the seasonal values of the ``season``
    rows before them and of each row (``ring``, length ``season + n``)."""

    level: np.ndarray
    trend: np.ndarray
    ring: np.ndarray
    phi: float
    season: int

    def forecasts(self, steps):
        """Forecasts ``steps`` rows after each row, shape (n_rows, len(steps))."""
        steps = np.asarray(steps)
        damping = np.cumsum(self.phi ** np.arange(1, steps.max() + 1))[steps - 1]
        pred = self.level[:, None] + self.trend[:, None] * damping
        if self.season:
            rows = np.arange(len(self.level))[:, None]
            back = self.season * np.ceil(steps / self.season).astype(int)
            pred = pred + self.ring[rows + self.season + steps - back]
        return pred

    def after(self, row):
        """The state after ``row`` (0-based), to run on from."""
        return (self.level[row], self.trend[row], self.ring[row + 1 : row + 1 + self.season])


def start(values, profile):
    """The state before the first of ``values``, read from it alone: the level that the
    seasonal ``profile`` puts it on, no trend, and the profile."""
    first = values[0] - (profile[0] if len(profile) else 0.0) if len(values) else 0.0
    return first, 0.0, np.asarray(profile, dtype=np.float64)


def _run(values, alpha, beta, gamma, phi, season, state, record=None):
    """One-step errors of each constant set (arrays broadcast side by side) over ``values``,
    shape (n_rows, n_sets); ``record`` collects (level, trend, season value) after each row."""
    level, trend, ring = state
    width = np.broadcast(alpha, beta, gamma, phi).shape
    level = np.broadcast_to(np.float64(level), width).copy()
    trend = np.broadcast_to(np.float64(trend), width).copy()
    ring = [np.broadcast_to(np.float64(s), width).copy() for s in np.ravel(ring)]
    errors = np.empty((len(values), *width))
    for t, value in enumerate(values):
        seasonal = ring[t % season] if season else 0.0
        damped = phi * trend
        error = value - (level + damped + seasonal)
        level = level + damped + alpha * error
        trend = damped + beta * error
        if season:
            ring[t % season] = seasonal + gamma * error
        errors[t] = error
        if record is not None:
            record.append((level, trend, ring[t % season] if season else 0.0))
    return errors


# The shares of the smoothing in an output's forecast that the fit chooses between: the
# model's forecast, or the two averaged. Choosing the smoothing alone as well misled on short
# series, whose few windows flattered it (docs/accuracy.md, "The fallback").
SHARES = (0.0, 0.5)


def fit_fallback(rows, sources, season, n_keep):
    """Smooth each input that an output is the future of, over all of ``rows``.

    Returns the fallback's plain state (see :func:`fallback_forecasts`): the constants of
    each smoothed column and its states after each of the last ``n_keep`` rows.
    """
    features = source_features(sources)
    kept = slice(max(len(rows) - n_keep, 0), None)
    fits = [Smoothing.fit(rows[:, f], season) for f in features]
    runs = [smoothing.states(rows[:, f]) for smoothing, f in zip(fits, features, strict=True)]
    state = {
        "features": np.array(features, dtype=np.int64),
        "constants": np.array([[s.alpha, s.beta, s.gamma, s.phi] for s in fits]),
        "season": fits[0].season,
        "profile": np.array([s.profile for s in fits]),
        "outputs": np.array([-1 if s is None else features.index(s[0]) for s in sources]),
        "steps": np.array([0 if s is None else s[1] for s in sources], dtype=np.int64),
        "level": np.array([run.level[kept] for run in runs]),
        "trend": np.array([run.trend[kept] for run in runs]),
        "ring": np.array([run.ring[kept.start :] for run in runs]),
    }
    return state


def fallback_forecasts(state, rows, n_preceding):
    """Each output's smoothing forecast at each of ``rows``, run on from the state after the
    ``n_preceding``-th of the kept rows (those that precede ``rows``), or started afresh
    from ``rows`` when none precede them."""
    season = int(state["season"])
    runs = []
    for i, feature in enumerate(state["features"]):
        smoothing = Smoothing(*state["constants"][i], season, state["profile"][i])
        start_state = _kept(state, i).after(n_preceding - 1) if n_preceding else None
        runs.append(smoothing.states(rows[:, feature], start_state))
    return _output_forecasts(runs, state)


def kept_forecasts(state):
    """Each output's smoothing forecast at each kept row."""
    return _output_forecasts([_kept(state, i) for i in range(len(state["features"]))], state)


def _kept(state, i):
    """The kept states of the ``i``-th smoothed column."""
    phi, season = state["constants"][i][3], int(state["season"])
    return States(state["level"][i], state["trend"][i], state["ring"][i], phi, season)


def _output_forecasts(runs, state):
    n_rows = len(runs[0].level)
    pred = np.full((n_rows, len(state["outputs"])), np.nan)
    for j, (i, step) in enumerate(zip(state["outputs"], state["steps"], strict=True)):
        if i >= 0:
            pred[:, j] = runs[i].forecasts([step])[:, 0]
    return pred


def choose_shares(model_residuals, smoothing_residuals, shares=SHARES):
    """Per output, the share of ``shares`` whose blend of the two forecasts has the least
    squared error on the windows of these residuals (0 where the smoothing has none)."""
    errors = np.array(
        [
            (((1 - share) * model_residuals + share * smoothing_residuals) ** 2).mean(axis=0)
            for share in shares
        ]
    )
    errors = np.where(np.isnan(errors), np.inf, errors)
    return np.asarray(shares)[errors.argmin(axis=0)]


def blend(model, smoothed, shares):
    """Each output's blend of the model's values and the smoothing's (NaN where it has none)
    by its share of the smoothing."""
    return np.where(shares > 0, model + shares * (smoothed - model), model)
