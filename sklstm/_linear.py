"""The linear part of the network: ridge regressions on the flattened windows that shrink
toward simple forecasts, chosen and averaged on time-ordered folds.

Plain least squares on ``window * n_features`` inputs overfits short series, and shrinking
toward zero pulls forecasts of a trending series toward its mean. Shrinking toward an
*anchor*, a simple forecast, avoids both: zero, persistence, the seasonal naive forecast, the
seasonal naive plus the last season's change, the mean of the window's seasons on the last
season's level, an exponentially weighted mean of the target's own column, the drift, or
the least-squares line through the window (:func:`anchors`). Per output, each anchor's
penalty is chosen on forward-chaining folds (each validation block comes after all the rows
its fit sees), and the fits toward the anchors that validate about as well as the best are
averaged (:func:`select`).

Everything is computed from per-block normal equations (Gram matrices), so the windows are
read once, in batches, and never flattened all at once. Plain NumPy: no Keras here.

The last ``n_last`` features of every window step are read at the window's last row only
(:func:`flat_inputs`): the seasonal phase's indicators, then the known-future block (its last
``n_known``, see :class:`sklstm._target.KnownFuture`). The block is a few direct drivers
beside many redundant lags, so its penalty is lighter: its inputs enter the ridge scaled up
by ``BLOCK_SCALE``. The phase is penalised like the lags: with the block's lighter penalty
it overfitted the short series without a season (docs/accuracy.md).
"""

from dataclasses import dataclass

import numpy as np

from ._window import flatten_windows

# Penalties tried, relative to the mean diagonal of the normal equations (inputs are
# standardised); the largest leaves little more than the anchor itself.
PENALTIES = np.logspace(-4, 4, 17)
# Time-ordered blocks of the windows; the folds validate on blocks 2 .. 9 (0-based), each
# fitted on all blocks before it. Other layouts scored within 1 % of it on held-out training
# rows of the suite's short series (docs/accuracy.md, "How the linear part is chosen").
N_BLOCKS = 10
FIRST_VALIDATION_BLOCK = 2
# The exponentially weighted means among the anchors: their smoothing constants (0.5 weighs
# the last few rows, 0.2 about the last ten).
SMOOTHING = (0.5, 0.2)
# Of the anchors that validate about as well as the best, those whose fit keeps at least this
# penalty are averaged with the one-standard-error pick (docs/accuracy.md).
MIN_AVERAGED_PENALTY = 1.0
# Above this many inputs the eigendecompositions of the selection cost seconds each: the
# penalty stays at the smallest and the anchor is persistence where there is one.
MAX_SELECTED_INPUTS = 1024
# The known-future block's inputs are multiplied by this in the ridge: their penalty is the
# lags' divided by its square. With the lags' penalty the block was shrunk with them and of
# little use; 16 did better on the training rows (split again, test rows unseen) of both
# electricity data sets of docs/accuracy.md, "Known-future inputs".
BLOCK_SCALE = 16.0
# Above this many inputs the normal equations themselves are too large (window * n_features
# squared floats): the linear part is left to training, from zero.
MAX_INPUTS = 4096


def flat_inputs(windows, n_last=0):
    """The linear part's inputs of a batch of windows, shape (n_windows, n_inputs), in
    float64: :func:`sklstm._window.flatten_windows`'s layout."""
    return flatten_windows(np.asarray(windows, dtype=np.float64), n_last)


@dataclass(frozen=True)
class Anchor:
    """A simple forecast to shrink toward: a linear function of the window's own target
    columns (zero where it does not apply), ``coef`` over the window's past inputs."""

    name: str
    coef: np.ndarray  # (window * n_features, n_outputs)
    applies: np.ndarray  # (n_outputs,) bool: the outputs it is a forecast for

    def coefficients(self, n_inputs):
        """The coefficients over all ``n_inputs`` (the known-future block's are zero)."""
        coef = np.zeros((n_inputs, self.coef.shape[1]))
        coef[: len(self.coef)] = self.coef
        return coef


def anchors(sources, *, window, n_features, x_scale, y_scale, season=None):
    """The anchors available for outputs whose ``sources`` are known.

    Each is a linear function of the output's own column over the window (``y`` its values,
    ``y[t]`` the last, for the output ``k`` steps ahead): persistence ``y[t]``; the seasonal
    naive forecast ``y[t + k - m s]``, ``m s`` the first whole number of seasons ``s`` at or
    beyond ``k``; the seasonal change, the seasonal naive plus the last season's change
    ``y[t] - y[t - s]``; the seasonal mean, the values at the target's phase in each of the
    ``m >= 2`` whole seasons the window holds, averaged, plus the mean of the last season
    minus the mean of those ``m`` (a classical decomposition's seasonal index on the current
    level); the exponentially weighted means of the window (``SMOOTHING``), simple
    exponential smoothing cut to the window; the drift ``y[t] + k (y[t] - y[t - w +
    1]) / (w - 1)`` (``w`` the window), the random walk with drift cut to the window; and
    the trend, the least-squares line through the window continued ``k`` rows on. They
    give the ridge a level, a season, a season on a moving level, a season averaged over its
    noise, a noise-averaging level, a trend from the last value and one averaged over the
    noise to shrink toward.

    Parameters
    ----------
    sources : list of (int, int) or None
        For each output, ``(feature, step)``: it is the value of input ``feature`` ``step``
        rows after the window's last row; None where it is not an input's future value.
    window, n_features : int
        Shape of a window without the known-future block; the flattened input
        ``position * n_features + feature`` is ``feature`` at window position ``position``
        (the last is ``window - 1``).
    x_scale, y_scale : ndarray
        Standard deviations of the inputs and outputs: anchors act on standardised values.
    season : int or None
        Rows per season, when the data's frequency has one.

    Returns
    -------
    anchors : list of Anchor
        Always zero first, then those of the others that apply to at least one output.
    """
    n_outputs = len(sources)
    found = [Anchor("zero", np.zeros((window * n_features, n_outputs)), np.ones(n_outputs, bool))]
    smoothed = {f"smoothed_{alpha:g}": alpha for alpha in SMOOTHING}
    for name in (
        "persistence",
        "seasonal",
        "seasonal_change",
        "seasonal_mean",
        *smoothed,
        "drift",
        "trend",
    ):
        coef = np.zeros((window * n_features, n_outputs))
        applies = np.zeros(n_outputs, bool)
        for j, source in enumerate(sources):
            if source is None:
                continue
            feature, step = source
            weights = _lag_weights(name, step, window, season, smoothed.get(name))
            if weights is None:
                continue
            rows = (window - 1 - np.arange(window)) * n_features + feature
            coef[rows, j] = weights * x_scale[feature] / y_scale[j]
            applies[j] = True
        if applies.any():
            found.append(Anchor(name, coef, applies))
    return found


def _lag_weights(name, step, window, season, alpha=None):
    """An anchor's forecast ``step`` rows ahead as weights of the window's rows by lag (0:
    its last row), or None where the window cannot hold it."""
    weights = np.zeros(window)
    if name == "persistence":
        weights[0] = 1.0
    elif name == "drift":
        # The last value plus ``step`` times the mean change per row over the window.
        if window < 2:
            return None
        span = window - 1
        weights[0] = 1.0 + step / span
        weights[span] -= step / span
    elif name == "trend":
        # The least-squares line through the window, ``step`` rows past its last row: a
        # slope from every row, not two, on a level averaged over the noise.
        if window < 3:
            return None
        time = -np.arange(window, dtype=float)
        centred = time - time.mean()
        weights = 1.0 / window + centred * (step - time.mean()) / (centred**2).sum()
    elif alpha is not None:
        weights = alpha * (1 - alpha) ** np.arange(window)
        weights /= weights.sum()
    elif not season or season > window - 1:
        return None
    elif name == "seasonal_mean":
        # The seasons the window holds whole, each read at the target's phase, averaged,
        # then moved from their mean level to the last season's.
        first = (-step) % season
        n_seasons = min((window - 1 - first) // season + 1, window // season)
        if n_seasons < 2:
            return None
        weights[first + season * np.arange(n_seasons)] += 1.0 / n_seasons
        weights[:season] += 1.0 / season
        weights[: n_seasons * season] -= 1.0 / (n_seasons * season)
    else:
        weights[(-step) % season] += 1.0
        if name == "seasonal_change":
            weights[0] += 1.0
            weights[season] -= 1.0
    return weights


@dataclass(frozen=True)
class Choice:
    """The candidates a linear part averages: ``terms`` of ``(anchor index, penalty,
    weight per output)``; each output's weights sum to one."""

    terms: tuple

    @classmethod
    def single(cls, anchor_index, penalty):
        """One candidate per output: ``anchor_index[j]`` and ``penalty[j]`` for output ``j``."""
        anchor_index, penalty = np.asarray(anchor_index), np.asarray(penalty, dtype=float)
        pairs = sorted(set(zip(anchor_index.tolist(), penalty.tolist(), strict=True)))
        return cls(
            tuple((a, p, ((anchor_index == a) & (penalty == p)).astype(float)) for a, p in pairs)
        )


@dataclass(frozen=True)
class LinearPart:
    """The fitted linear part: ``inputs @ coef + intercept``."""

    coef: np.ndarray
    intercept: np.ndarray
    n_last: int = 0

    def predict(self, windows):
        """The linear part's outputs for a batch of (scaled) windows."""
        return flat_inputs(windows, self.n_last) @ self.coef + self.intercept


def select(blocks, anchors, n_known=0, *, combine=True, paired=False):
    """Choose, per output, the candidates (anchor and penalty) of the linear part from the
    forward-chaining folds of ``blocks`` (a list of :class:`Normal` equations in time order),
    whose last ``n_known`` inputs are a known-future block.

    The one-standard-error rule: a candidate is kept if its mean validation error is within
    one standard error (over the folds) of the best's, and of an anchor's kept candidates the
    most penalised one, the closest to that anchor, is taken. The most penalised of those
    (the one-SE pick) is kept alone, or, with ``combine``, averaged with the others taken at
    a penalty of at least ``MIN_AVERAGED_PENALTY`` (weaker ones are close to least squares,
    which strays once a series leaves its training range). Short series have few, noisy
    validation windows: the rule keeps their linear part near simple forecasts unless the
    data clearly say otherwise, and averaging forecasts that validate equally well errs less
    than betting on one of them (docs/accuracy.md).

    The standard error is that of the best candidate's fold errors. With ``paired``, it is
    that of each candidate's fold-by-fold excess over the best, which does not count folds
    that are hard for every candidate alike: it keeps fewer strongly penalised candidates,
    which made the linear part alone better on the training rows but not the whole model
    (docs/accuracy.md), so it is not the default.

    Returns a :class:`Choice`.
    """
    n_inputs = blocks[0].gram.shape[0] - 1
    n_outputs = blocks[0].cross.shape[1]
    if not has_folds(blocks):
        preferred = min(len(anchors) - 1, 1)  # persistence when there is one
        fallback = np.where(anchors[preferred].applies, preferred, 0)
        return Choice.single(fallback, np.full(n_outputs, PENALTIES[0]))
    blocks = [block.scaled(n_known, BLOCK_SCALE) for block in blocks]
    folds = range(FIRST_VALIDATION_BLOCK, len(blocks))
    errors = np.zeros((len(folds), len(anchors), len(PENALTIES), n_outputs))
    for f, k in enumerate(folds):
        train = sum(blocks[:k], Normal.empty(n_inputs, n_outputs)).ridge()
        n_valid = max(blocks[k].gram[-1, -1], 1)
        for a, anchor in enumerate(anchors):
            for p, beta in enumerate(train.solutions(anchor.coefficients(n_inputs), PENALTIES)):
                errors[f, a, p] = blocks[k].squared_error(beta) / n_valid
    # An anchor that does not apply to an output would be the zero anchor again.
    applies = np.array([anchor.applies for anchor in anchors])[:, None, :]
    mean = np.where(applies, errors.mean(axis=0), np.inf)
    outputs = np.arange(n_outputs)
    best = mean.reshape(-1, n_outputs).argmin(axis=0)
    best_errors = errors.reshape(len(folds), -1, n_outputs)[:, best, outputs]
    spread = errors - best_errors[:, None, None, :] if paired else best_errors
    error_of_mean = spread.std(axis=0, ddof=1) / np.sqrt(len(folds))
    kept = mean <= mean.reshape(-1, n_outputs)[best, outputs] + error_of_mean
    # The one-SE pick: the most penalised kept candidate of any anchor; ties go to the lower
    # error.
    finite = np.where(np.isfinite(mean), mean, 0.0)
    rank = np.arange(len(PENALTIES))[None, :, None]
    score = np.where(kept, rank - finite / (finite.max(axis=(0, 1)) + 1e-300), -np.inf)
    chosen = score.reshape(-1, n_outputs).argmax(axis=0)
    if not combine:
        return Choice.single(chosen // len(PENALTIES), PENALTIES[chosen % len(PENALTIES)])
    # Per anchor, its most penalised kept candidate (-1: none kept); averaged with the pick
    # where that stays near the anchor: weakly penalised fits are close to least squares,
    # whose pull toward the training mean misled out of sample (random walks).
    top = np.where(kept.any(axis=1), len(PENALTIES) - 1 - kept[:, ::-1].argmax(axis=1), -1)
    near = top >= np.searchsorted(PENALTIES, MIN_AVERAGED_PENALTY)
    top = np.where(near | (np.arange(len(anchors))[:, None] == chosen // len(PENALTIES)), top, -1)
    weights = (top >= 0) / (top >= 0).sum(axis=0)
    return Choice(
        tuple(
            (a, PENALTIES[p], np.where(top[a] == p, weights[a], 0.0))
            for a in range(len(anchors))
            for p in np.unique(top[a][top[a] >= 0])
        )
    )


def has_folds(blocks):
    """Whether :func:`select` chooses on the folds of ``blocks``, rather than falling back to
    a fixed choice (too few blocks, or too many inputs for the folds to be cheap)."""
    n_inputs = blocks[0].gram.shape[0] - 1
    return n_inputs <= MAX_SELECTED_INPUTS and len(blocks) > FIRST_VALIDATION_BLOCK + 1


def fold_fits(blocks, anchors, choice, n_known=0, n_last=None):
    """Yield ``(k, linear part)``: the chosen linear part fitted on the blocks before each
    validation block ``k`` of the folds (see :func:`has_folds`)."""
    empty = Normal.empty(blocks[0].gram.shape[0] - 1, blocks[0].cross.shape[1])
    for k in range(FIRST_VALIDATION_BLOCK, len(blocks)):
        yield k, fit(sum(blocks[:k], empty), anchors, choice, n_known, n_last)


def fit(normal, anchors, choice, n_known=0, n_last=None):
    """Fit the linear part on ``normal`` with the candidates of ``choice`` (a
    :class:`Choice`) averaged per output (``n_known``: the size of the windows' known-future
    block; ``n_last``, by default ``n_known``: the features read at the window's last row,
    see :func:`flat_inputs`)."""
    n_inputs = normal.gram.shape[0] - 1
    ridge = normal.scaled(n_known, BLOCK_SCALE).ridge()
    beta = np.zeros((n_inputs + 1, len(choice.terms[0][2])))
    for a, penalty, weight in choice.terms:
        coef = anchors[a].coefficients(n_inputs)
        beta += next(ridge.solutions(coef, [penalty])) * weight
    # The block's coefficients, for its inputs as they are rather than scaled.
    beta[n_inputs - n_known : n_inputs] *= BLOCK_SCALE
    n_last = n_known if n_last is None else n_last
    return LinearPart(coef=beta[:-1], intercept=beta[-1], n_last=n_last)


@dataclass
class Normal:
    """The normal equations of some windows: Gram matrix and cross-products of the inputs
    bordered by a column of ones (the intercept), and the targets' sums of squares."""

    gram: np.ndarray
    cross: np.ndarray
    squares: np.ndarray

    @classmethod
    def empty(cls, n_inputs, n_outputs):
        return cls(
            np.zeros((n_inputs + 1, n_inputs + 1)),
            np.zeros((n_inputs + 1, n_outputs)),
            np.zeros(n_outputs),
        )

    @classmethod
    def of(cls, batches, n_inputs, n_outputs, n_last=0):
        """Accumulate over ``(windows, targets)`` batches, so that the flattened windows
        never exist all at once."""
        total = cls.empty(n_inputs, n_outputs)
        for windows, targets in batches:
            flat = flat_inputs(windows, n_last)
            flat = np.hstack([flat, np.ones((len(flat), 1))])
            targets = np.asarray(targets, dtype=np.float64)
            total.gram += flat.T @ flat
            total.cross += flat.T @ targets
            total.squares += (targets**2).sum(axis=0)
        return total

    def __add__(self, other):
        return Normal(
            self.gram + other.gram, self.cross + other.cross, self.squares + other.squares
        )

    def ridge(self):
        """The ridge regressions on these windows, for any anchor and penalty."""
        return Ridge(self)

    def scaled(self, n_known, scale):
        """The normal equations with the last ``n_known`` inputs (before the intercept)
        multiplied by ``scale``."""
        if not n_known:
            return self
        factor = np.ones(len(self.gram))
        factor[-1 - n_known : -1] = scale
        return Normal(
            self.gram * np.outer(factor, factor), self.cross * factor[:, None], self.squares
        )

    def squared_error(self, beta):
        """Sum of squared errors of ``beta`` (intercept last) on these windows, per output."""
        return (
            self.squares
            - 2 * np.einsum("ij,ij->j", beta, self.cross)
            + np.einsum("ij,ik,kj->j", beta, self.gram, beta)
        )


class Ridge:
    """Ridge regressions on some windows' normal equations, shrinking the slopes toward an
    anchor; the intercept is not penalised.

    The centring and the eigendecomposition of the Gram matrix, the costly part, are done
    once here and serve every anchor and penalty.
    """

    def __init__(self, normal):
        n = normal.gram[-1, -1]
        self.mean_x = normal.gram[:-1, -1] / n
        self.mean_y = normal.cross[-1] / n
        self.gram = normal.gram[:-1, :-1] - n * np.outer(self.mean_x, self.mean_x)
        self.cross = normal.cross[:-1] - n * np.outer(self.mean_x, self.mean_y)
        values, self.vectors = np.linalg.eigh(self.gram)
        self.values = np.clip(values, 0, None)
        self.scale = max(float(np.trace(self.gram)) / max(len(self.gram), 1), 1e-12)

    def solutions(self, anchor_coef, penalties):
        """Yield, for each penalty, the coefficients (intercept last) of the ridge regression
        that shrinks the slopes toward ``anchor_coef``."""
        # Ridge toward the anchor A: B = A + (G + aI)^-1 (C - G A), on centred data.
        rotated = self.vectors.T @ (self.cross - self.gram @ anchor_coef)
        for penalty in penalties:
            shrunk = rotated / (self.values + penalty * self.scale)[:, None]
            slopes = anchor_coef + self.vectors @ shrunk
            intercept = self.mean_y - self.mean_x @ slopes
            yield np.vstack([slopes, intercept])
