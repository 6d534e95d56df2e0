"""How LSTMForecaster's linear part chooses its anchors and penalties: variants side by side.

Design-selection protocol (``suite.py --dev``): on each series only the rows that the suite's
training origins see are used, split 80/20 again with the same horizon gap; the test rows are
never looked at. Each variant fits the linear part alone (``sklstm._linear`` as
``LSTMForecaster.fit`` calls it; no network is built) and is scored by its MAE over the MAE
of the best simple baseline of the same dev split (persistence, seasonal naive, ridge, ETS:
``benchmarks/results/suite_dev_baselines.csv``); the summary is the geometric mean over the
series, the worst series and how many are more than 10 % behind.

Variants:

- ``3 anchors, one pick``: zero, persistence and seasonal naive; the most penalised candidate
  within one standard error of the best (the first design);
- ``6 anchors, one pick``: adds the seasonal change and the two exponentially weighted means;
- ``6 anchors, averaged``: the one-SE pick averaged with every other anchor's most penalised
  candidate within one SE whose penalty is at least ``MIN_AVERAGED_PENALTY`` (the second);
- ``6 anchors, averaged, any penalty``: the same without the penalty floor;
- ``7 anchors, averaged``: adds the seasonal mean (the seasons the window holds, averaged at
  the target's phase, on the last season's level);
- ``7 anchors, averaged, seasonal phase``: the same with each row's phase in its season as
  indicator inputs (``seasonal_phase="auto"``, read from the series' time index); the
  default before the drift anchor. The earlier variants run with ``seasonal_phase=None``.
  All of these take the standard error of the best candidate's own fold errors;
- ``paired SE``: the same, but a candidate is kept when its fold-by-fold excess over the
  best averages at most one standard error of that excess (``select(..., paired=True)``;
  measured, not the default: docs/accuracy.md);
- ``paired SE, one pick`` and ``paired SE, any penalty``: the paired rule without the
  averaging, and without the averaging's penalty floor;
- ``8 anchors (drift), averaged, seasonal phase``: adds the drift anchor (the last value
  plus the window's mean change per row for every step ahead);
- ``9 anchors (trend), averaged, seasonal phase``: adds the trend anchor (the least-squares
  line through the window, continued); the default.

Reproduce ``benchmarks/results/linear_selection.md`` and the table in docs/accuracy.md ("How
the linear part is chosen"), about 6 minutes::

    python benchmarks/linear_selection.py

The baselines file comes from (under 2 minutes)::

    python benchmarks/suite.py --dev --models persistence seasonal_naive ridge ets \\
        --series <every series but calls_5min and elecdemand_30min> \\
        --out benchmarks/results/suite_dev_baselines.csv
"""

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
import suite  # noqa: E402

from sklstm import LSTMForecaster, _forecaster, _linear  # noqa: E402

BASELINES = Path(__file__).parent / "results" / "suite_dev_baselines.csv"
# The anchors of the earlier designs (the default has them all).
ANCHOR_SETS = {
    3: ("zero", "persistence", "seasonal"),
    6: ("zero", "persistence", "seasonal", "seasonal_change", "smoothed_0.5", "smoothed_0.2"),
}
ANCHOR_SETS[7] = (*ANCHOR_SETS[6], "seasonal_mean")
ANCHOR_SETS[8] = (*ANCHOR_SETS[7], "drift")
FLOOR = _linear.MIN_AVERAGED_PENALTY
VARIANTS = {
    "3 anchors, one pick": dict(anchors=3, combine=False, floor=FLOOR),
    "6 anchors, one pick": dict(anchors=6, combine=False, floor=FLOOR),
    "6 anchors, averaged": dict(anchors=6, combine=True, floor=FLOOR),
    "6 anchors, averaged, any penalty": dict(anchors=6, combine=True, floor=0.0),
    "7 anchors, averaged": dict(anchors=7, combine=True, floor=FLOOR),
    "7 anchors, averaged, seasonal phase": dict(anchors=7, combine=True, floor=FLOOR, phase="auto"),
    "paired SE": dict(anchors=7, combine=True, floor=FLOOR, phase="auto", paired=True),
    "paired SE, one pick": dict(anchors=7, combine=False, floor=FLOOR, phase="auto", paired=True),
    "paired SE, any penalty": dict(anchors=7, combine=True, floor=0.0, phase="auto", paired=True),
    "8 anchors (drift), averaged, seasonal phase": dict(
        anchors=8, combine=True, floor=FLOOR, phase="auto"
    ),
    "9 anchors (trend), averaged, seasonal phase": dict(
        anchors=9, combine=True, floor=FLOOR, phase="auto"
    ),
}


class LinearPartAlone(LSTMForecaster):
    """LSTMForecaster's fit up to its linear part (the same scaling, windows, anchors and
    folds), which then predicts alone."""

    def _train(self, windows, y, n_train, units, seed, sources, season):
        with threadpool_limits(1, user_api="blas"):
            self.linear_ = _forecaster._LinearStart.fit(windows, y, n_train, sources, season, self)
        return None, {"loss": []}, True, (np.empty(0, int), np.empty((0, y.shape[1])))

    def _predict_scaled(self, windows):
        return _forecaster._linear_outputs(self.linear_.every_window, windows, slice(None))


@contextlib.contextmanager
def variant(anchors, combine, floor, phase=None, paired=False):
    saved = _linear.anchors, _linear.select, _linear.MIN_AVERAGED_PENALTY
    names = ANCHOR_SETS.get(anchors)
    if names:
        _linear.anchors = lambda *a, **k: [
            anchor for anchor in saved[0](*a, **k) if anchor.name in names
        ]
    _linear.select = lambda *a, **k: saved[1](*a, **k, combine=combine, paired=paired)
    _linear.MIN_AVERAGED_PENALTY = floor
    try:
        yield phase
    finally:
        _linear.anchors, _linear.select, _linear.MIN_AVERAGED_PENALTY = saved


def linear_mae(name, seasonal_phase):
    """MAE of the linear part alone on the dev split of ``name``."""
    data = suite.prepare(name, dev=True)
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    model = LinearPartAlone(
        window=window, early_stopping=False, random_state=0, seasonal_phase=seasonal_phase
    )
    model.fit(data["X"].iloc[:n_train], data["y_frame"].iloc[:n_train])
    context = data["X"].iloc[test_start - (window - 1) :]
    pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
    return suite._mae(data["y"][test_start:], pred)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    best = pd.read_csv(BASELINES).groupby("series")["mae"].min()
    parser.add_argument("--series", nargs="+", default=list(best.index), choices=list(best.index))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args(argv)
    names = [name for name in suite.suite_series.NAMES if name in args.series]
    table = {v: [] for v in args.variants}
    print("MAE / best simple baseline's MAE on each series' dev split\n")
    print("| series | " + " | ".join(args.variants) + " |")
    print("|---|" + "---:|" * len(args.variants))
    for name in names:
        for v in args.variants:
            with variant(**VARIANTS[v]) as phase:
                table[v].append(linear_mae(name, phase) / best[name])
        print(f"| {name} | " + " | ".join(f"{table[v][-1]:.3f}" for v in args.variants) + " |")
    rows = {
        "geometric mean": [np.exp(np.mean(np.log(table[v]))) for v in args.variants],
        "worst": [max(table[v]) for v in args.variants],
        "series > 1.10": [sum(r > 1.10 for r in table[v]) for v in args.variants],
    }
    for label, values in rows.items():
        print(
            f"| {label} | "
            + " | ".join(
                f"{x:.3f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)
                for x in values
            )
            + " |"
        )


if __name__ == "__main__":
    main()
