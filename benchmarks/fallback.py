"""When LSTMForecaster falls back on exponential smoothing: rules side by side on dev rows.

After training, the fit compares each output's forecast with the exponential smoothing of
its own column on the windows its calibration residuals come from, which the model did not
train on, and gives the smoothing a share of 0, 0.5 or 1 (``fallback="ets"``). This script
fits each series' dev split once per seed with the smoothing fitted for every output it can
forecast, records both residuals on those windows, and scores what every rule would have
chosen on the dev test rows: MAE over the best simple baseline of the same dev split
(``benchmarks/results/suite_dev_baselines.csv``). Test rows are never looked at.

Rules:

- ``never``: the model alone (``fallback=None``);
- ``least error``: the share whose blend has the least mean squared error on those windows;
- ``past 1 SE``: a share > 0 only where its gain in squared error over the model alone is
  more than one standard error (the windows taken as independent), the largest such gain
  otherwise: the same evidence the gate asks of the LSTM (``benchmarks/gate.py``);
- ``past 2 SE``: the same with two standard errors;
- ``least error of 0, 0.5``: ``least error`` without the smoothing alone;
- ``always 0.5``: the model and the smoothing averaged wherever the smoothing applies, no
  choice;
- ``..., later half``: the same on the later half of the windows only. On short series the
  windows are the linear part's forward-chaining folds, and its early folds are fitted on a
  few windows only, where the smoothing's constants come from all rows before the
  validation windows: the early windows favour the smoothing.

The fits go to ``benchmarks/results/fallback_dev.csv`` and the table beside it; ``--report``
rebuilds the table from the CSV. Reproduce (about 15 minutes on 2 cores)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/fallback.py --seeds 3
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import suite  # noqa: E402
from _common import dev_rules_main  # noqa: E402

from sklstm import LSTMForecaster, _smoothing  # noqa: E402

BASELINES = Path(__file__).parent / "results" / "suite_dev_baselines.csv"
OUT = Path(__file__).parent / "results" / "fallback_dev.csv"


def least_error(model, smooth, shares=(0.0, 0.5, 1.0)):
    return _smoothing.choose_shares(model, smooth, shares)


def past_se(k):
    def rule(model, smooth):
        shares = np.array([0.5, 1.0])
        gains = np.array([model**2 - ((1 - s) * model + s * smooth) ** 2 for s in shares])
        mean = gains.mean(axis=1)
        se = gains.std(axis=1, ddof=1) / np.sqrt(gains.shape[1])
        clear = np.nan_to_num(mean - k * se, nan=-np.inf) > 0
        best = np.where(clear, mean, -np.inf).argmax(axis=0)
        return np.where(clear.any(axis=0), shares[best], 0.0)

    return rule


def later_half(rule):
    def on_later(model, smooth):
        return rule(model[len(model) // 2 :], smooth[len(smooth) // 2 :])

    return on_later


RULES = {
    "never": lambda model, smooth: np.zeros(model.shape[1]),
    "least error": least_error,
    "past 1 SE": past_se(1),
    "past 2 SE": past_se(2),
    "least error, later half": later_half(least_error),
    "past 1 SE, later half": later_half(past_se(1)),
    "least error of 0, 0.5": lambda model, smooth: least_error(model, smooth, (0.0, 0.5)),
    "always 0.5": lambda model, smooth: np.where(np.isnan(smooth).all(axis=0), 0.0, 0.5),
}


def run(name, seed):
    """Fit the dev split of ``name`` once; the dev-test MAE of every rule's shares."""
    data = suite.prepare(name, dev=True)
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    seen = {}

    def every_output(model_residuals, smoothing_residuals):
        seen.update(model=model_residuals, smooth=smoothing_residuals)
        return np.where(np.isnan(smoothing_residuals).all(axis=0), 0.0, 1.0)

    chosen, _smoothing.choose_shares = _smoothing.choose_shares, every_output
    try:
        model = LSTMForecaster(window=window, random_state=seed)
        model.fit(data["X"].iloc[:n_train], data["y_frame"].iloc[:n_train])
    finally:
        _smoothing.choose_shares = chosen
    context = data["X"].iloc[test_start - (window - 1) :]
    y_test = data["y"][test_start:]
    result = {"series": name, "seed": seed, "windows": len(seen.get("model", []))}
    smoothed = model._fallback is not None
    for rule, choose in RULES.items():
        if smoothed:
            model.smoothing_share_ = choose(seen["model"], seen["smooth"])
        pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
        result[rule] = suite._mae(y_test, pred)
        result[f"{rule} share"] = float(np.mean(model.smoothing_share_))
    return result


def report(fits, best, command):
    rules = list(RULES)
    medians = fits.groupby("series", sort=False)[rules].median()
    ratios = medians.div(best.loc[medians.index], axis=0)
    lines = [
        "<!-- Written by benchmarks/fallback.py; do not edit by hand. -->",
        "",
        f"MAE / best simple baseline's MAE on each series' dev split, median over seeds "
        f"(`{command}`; test rows unseen). 'windows': those the shares are chosen on; "
        "'share': the mean share of the smoothing over outputs and seeds.",
        "",
        "| series | windows | " + " | ".join(f"{r} | share" for r in rules) + " |",
        "|---|---:|" + "---:|---:|" * len(rules),
    ]
    shares = fits.groupby("series", sort=False)[[f"{r} share" for r in rules]].mean()
    windows = fits.groupby("series", sort=False)["windows"].first()
    for name in ratios.index:
        cells = [f"{ratios.loc[name, r]:.3f} | {shares.loc[name, f'{r} share']:.2f}" for r in rules]
        lines.append(f"| {name} | {windows[name]} | " + " | ".join(cells) + " |")
    geo = np.exp(np.log(ratios).mean())
    lines.append("| geometric mean | | " + " | ".join(f"{geo[r]:.3f} | " for r in rules) + " |")
    over = (ratios > 1.10).sum()
    lines.append("| series > 1.10 | | " + " | ".join(f"{over[r]} | " for r in rules) + " |")
    baselines = pd.read_csv(BASELINES)
    persistence = baselines[baselines.model == "persistence"].set_index("series")["mae"]
    lost = (medians.div(persistence.loc[medians.index], axis=0) > 1.02).sum()
    lines.append(
        "| > 2 % behind persistence | | " + " | ".join(f"{lost[r]} | " for r in rules) + " |"
    )
    return "\n".join(lines) + "\n"


def main(argv=None):
    def fits(name, seed):
        return [run(name, seed)]

    dev_rules_main(__doc__, "fallback.py", fits, report, OUT, BASELINES, 3, argv)


if __name__ == "__main__":
    main()
