"""A season read from the values where the time index gives none: rules side by side on dev rows.

``LSTMForecaster`` takes its season (for the linear part's seasonal anchors and the fallback
on exponential smoothing) from the time index's frequency. Plain arrays, day numbers and
annual steps give none, so a seasonal series passed that way was forecast as if it had no
season. ``sklstm._time.detected_season`` reads one from the autocorrelation of the targets'
own columns' first differences instead, when a peak exceeds a threshold.

This script fits each series' dev split (test rows unseen) as given, and once more with its
time index replaced by row numbers (how a user with NumPy arrays passes it: no calendar, no
seasonal phase), under each rule: no detection (before), and detection with each threshold.
Fits whose season would be the same are run once. Scores: MAE over the best simple baseline
of the same dev split (``benchmarks/results/suite_dev_baselines.csv``), median over seeds.

The fits go to ``benchmarks/results/season_detection_dev.csv`` and the table beside it;
``--report`` rebuilds the table from the CSV. Reproduce (about 30 minutes on 2 cores)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/season_detection.py --seeds 2
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import suite  # noqa: E402
from _common import dev_rules_main  # noqa: E402

from sklstm import LSTMForecaster, _forecaster, _time  # noqa: E402

BASELINES = Path(__file__).parent / "results" / "suite_dev_baselines.csv"
OUT = Path(__file__).parent / "results" / "season_detection_dev.csv"
THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
RULES = ["none"] + [f"r > {t}" for t in THRESHOLDS]


class _Probe(Exception):
    pass


def _seasons(X, y, window):
    """The season a fit on (X, y) would use under each rule: None where the fit asks for none
    (the time index gave one, or no target's own column is known)."""

    def probe(columns, max_season):
        raise _Probe(
            {
                rule: _time.detected_season(columns, max_season, t)
                for rule, t in zip(RULES[1:], THRESHOLDS, strict=True)
            }
        )

    detect, _forecaster.detected_season = _forecaster.detected_season, probe
    try:
        LSTMForecaster(window=window, epochs=1).fit(X, y)
    except _Probe as found:
        return {"none": None, **found.args[0]}
    finally:
        _forecaster.detected_season = detect
    return dict.fromkeys(RULES)


def _fit_predict(X, y, context, window, seed, season):
    detect = _forecaster.detected_season
    _forecaster.detected_season = lambda columns, max_season: season
    try:
        model = LSTMForecaster(window=window, random_state=seed).fit(X, y)
    finally:
        _forecaster.detected_season = detect
    pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
    return pred, model.season_


def run(name, seed):
    """The dev-test MAE of every rule on ``name``, as given and with row numbers."""
    data = suite.prepare(name, dev=True)
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    y_train, y_test = data["y_frame"].iloc[:n_train], data["y"][test_start:]
    rows = []
    for form, X in (("index", data["X"]), ("row numbers", data["X"].reset_index(drop=True))):
        X_train, context = X.iloc[:n_train], X.iloc[test_start - (window - 1) :]
        y_fit = y_train.set_axis(X_train.index)
        seasons = _seasons(X_train, y_fit, window)
        scores = {}
        result = {"series": name, "seed": seed, "form": form}
        for rule in RULES:
            season = seasons[rule]
            if season not in scores:
                pred, used = _fit_predict(X_train, y_fit, context, window, seed, season)
                scores[season] = (suite._mae(y_test, pred), used)
            result[rule], result[f"{rule} season"] = scores[season]
        rows.append(result)
    return rows


def report(fits, best, command):
    lines = [
        "<!-- Written by benchmarks/season_detection.py; do not edit by hand. -->",
        "",
        f"MAE / best simple baseline's MAE on each series' dev split, median over seeds "
        f"(`{command}`; test rows unseen), with X as given ('index') and with its index "
        "replaced by row numbers; 'season': the season the fit used (rule 'none': the time "
        "index's).",
        "",
        "| series | form | " + " | ".join(f"{r} | season" for r in RULES) + " |",
        "|---|---|" + "---:|---:|" * len(RULES),
    ]
    summary = []
    for form, part in fits.groupby("form", sort=False):
        medians = part.groupby("series", sort=False)[RULES].median()
        seasons = part.groupby("series", sort=False)[[f"{r} season" for r in RULES]].first()
        ratios = medians.div(best.loc[medians.index], axis=0)
        for name in ratios.index:
            cells = [
                f"{ratios.loc[name, r]:.3f} | {_season_text(seasons.loc[name, f'{r} season'])}"
                for r in RULES
            ]
            lines.append(f"| {name} | {form} | " + " | ".join(cells) + " |")
        geo = np.exp(np.log(ratios).mean())
        over = (ratios > 1.10).sum()
        changed = (ratios.sub(ratios["none"], axis=0).abs() > 1e-9).sum()
        summary += [
            f"| {form}: geometric mean | | " + " | ".join(f"{geo[r]:.3f} | " for r in RULES) + " |",
            f"| {form}: series > 1.10 | | " + " | ".join(f"{over[r]} | " for r in RULES) + " |",
            f"| {form}: series changed | | " + " | ".join(f"{changed[r]} | " for r in RULES) + " |",
        ]
    return "\n".join(lines + summary) + "\n"


def _season_text(season):
    return "-" if pd.isna(season) else str(int(season))


def main(argv=None):
    dev_rules_main(__doc__, "season_detection.py", run, report, OUT, BASELINES, 2, argv)


if __name__ == "__main__":
    main()
