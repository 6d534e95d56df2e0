"""When LSTMForecaster keeps its LSTM: rules for the gate, side by side on dev rows.

After training, the fit compares the network (linear part + LSTM) with its linear part alone
on the validation windows and keeps the LSTM only when the gain is clearly more than noise.
This script fits each series' dev split once per seed with the gate forced open, records the
per-window validation gains, and scores what every rule would have chosen: the network's or
the refitted linear part's forecasts of the dev test rows, over the best simple baseline of
the same dev split (``benchmarks/results/suite_dev_baselines.csv``). Test rows are never
looked at.

Rules:

- ``always linear`` / ``always network``: the two bounds;
- ``1 SE``, ``2 SE``: mean gain > 1 or 2 standard errors, the windows taken as
  independent (``LSTMForecaster._lstm_improves``);
- ``2 SE, h-blocks``: the same on the means of consecutive blocks of ``horizon`` windows
  (batch means): windows ``horizon`` apart share no target row, neighbours share all but
  one, so their gains are not independent and the windows overstate the evidence;
- ``2 SE, HAC``: the windows' gains, their mean's variance from their autocovariances up to
  lag ``horizon - 1`` (Newey-West with Bartlett weights, as in the Diebold-Mariano test);
- ``..., refitted``: the same choice, but a kept network's linear part is the one refitted
  on every training window (the validation windows included, as when the LSTM is left
  out), the LSTM unchanged: what the estimator does since this comparison; the other rules
  keep the linear part the network trained with.

The fits (gains and both MAEs per series and seed) go to ``benchmarks/results/gate_dev.csv``
and the table beside it; ``--report`` rebuilds the table from the CSV, so rules can be added
without refitting. Reproduce (25 minutes on 2 busy cores)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/gate.py --seeds 3

``--paired-se`` fits with the linear part chosen by the paired standard error
(``sklstm._linear.select(..., paired=True)``; ``benchmarks/results/gate_dev_paired_se.md``)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/gate.py --seeds 3 --paired-se \
        --out benchmarks/results/gate_dev_paired_se.csv
"""

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import suite  # noqa: E402

from sklstm import LSTMForecaster, _forecaster, _linear  # noqa: E402

BASELINES = Path(__file__).parent / "results" / "suite_dev_baselines.csv"
OUT = Path(__file__).parent / "results" / "gate_dev.csv"


def batch_means(gains, block):
    """Means of consecutive blocks of ``block`` gains, the most recent block complete."""
    n = len(gains) // block * block
    return gains[len(gains) - n :].reshape(-1, block).mean(axis=1) if n else gains[:0]


def se_rule(k):
    """Mean gain > ``k`` standard errors, the windows taken as independent."""

    def keep(gains, horizon=1):
        if len(gains) < 2:
            return bool(len(gains) and gains.mean() > 0)
        return bool(gains.mean() > k * gains.std(ddof=1) / np.sqrt(len(gains)))

    return keep


def hac_two_se(gains, horizon):
    """Mean gain > 2 standard errors, the variance of the mean from the autocovariances up
    to lag ``horizon - 1`` with Bartlett weights (Newey-West, as in the Diebold-Mariano test)."""
    n = len(gains)
    if n < 2:
        return bool(n and gains.mean() > 0)
    d = gains - gains.mean()
    var = d @ d / n
    for lag in range(1, min(horizon, n)):
        var += 2 * (1 - lag / horizon) * (d[lag:] @ d[:-lag]) / n
    return bool(gains.mean() > 2 * np.sqrt(max(var, 0.0) / n))


RULES = {
    "always linear": lambda gains, h: False,
    "always network": lambda gains, h: True,
    "1 SE": se_rule(1),
    "2 SE": se_rule(2),
    "2 SE, h-blocks": lambda gains, h: se_rule(2)(batch_means(gains, h)),
    "2 SE, HAC": hac_two_se,
}
# Rules whose kept network forecasts with its linear part refitted on every window.
REFITTED = {
    "always network, refitted": RULES["always network"],
    "1 SE, refitted (default)": RULES["1 SE"],
}


class GateOpen(LSTMForecaster):
    """Keeps the LSTM whatever the validation says, records the gains, and can predict with
    its refitted linear part alone."""

    def _validation_predictions(self, model, linear, windows, select):
        self.linear_ = linear  # the fit's own linear part, kept for predicting alone
        return super()._validation_predictions(model, linear, windows, select)

    def _lstm_improves(self, network, alone, y):
        self.gains_ = np.mean((y - alone) ** 2 - (y - network) ** 2, axis=1)
        return True

    def _predict_scaled(self, windows):
        if not getattr(self, "alone_", False):
            return super()._predict_scaled(windows)
        return _forecaster._linear_outputs(self.linear_.every_window, windows, slice(None))


def run(name, seed):
    """One dev fit: the horizon, the validation gains and the MAE of both forecasts."""
    data = suite.prepare(name, dev=True)
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    # The gate alone: without the smoothing the estimator may blend in after it.
    model = GateOpen(window=window, random_state=seed, fallback=None)
    model.fit(data["X"].iloc[:n_train], data["y_frame"].iloc[:n_train])
    context = data["X"].iloc[test_start - (window - 1) :]

    def mae():
        pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
        return suite._mae(data["y"][test_start:], pred)

    model.alone_ = True
    mae_linear = mae()
    model.alone_ = False
    mae_refitted = mae()  # the fit refits a kept network's linear part on every window
    _forecaster._LinearStart.set_on(model.model_, model.linear_.training)
    return {
        "series": name,
        "seed": seed,
        "horizon": data["horizon"],
        "mae_network": mae(),
        "mae_linear": mae_linear,
        "mae_network_refitted": mae_refitted,
        "gains": json.dumps([round(float(g), 6) for g in model.gains_]),
    }


def report(fits, best, command):
    """The markdown table of what each rule scores, from the recorded fits."""
    rules = {rule: (keep, "mae_network") for rule, keep in RULES.items()}
    if "mae_network_refitted" in fits:
        rules.update({rule: (keep, "mae_network_refitted") for rule, keep in REFITTED.items()})
    table = {rule: [] for rule in rules}
    lines = [
        "<!-- Written by benchmarks/gate.py; do not edit by hand. -->",
        "",
        f"MAE / best simple baseline's MAE on each series' dev split, median over "
        f"{fits['seed'].nunique()} seeds (`{command}`; test rows unseen). 'val windows': the "
        "validation windows the gate compares on.",
        "",
        "| series | val windows | h | " + " | ".join(rules) + " |",
        "|---|---:|---:|" + "---:|" * len(rules),
    ]
    for name, runs in fits.groupby("series", sort=False):
        gains = [np.array(json.loads(g)) for g in runs["gains"]]
        h = int(runs["horizon"].iloc[0])
        for rule, (keep, network) in rules.items():
            maes = [
                getattr(r, network) if keep(g, h) else r.mae_linear
                for g, r in zip(gains, runs.itertuples(), strict=True)
            ]
            table[rule].append(np.median(maes) / best[name])
        lines.append(
            f"| {name} | {len(gains[0])} | {h} | "
            + " | ".join(f"{table[r][-1]:.3f}" for r in rules)
            + " |"
        )
    summary = {
        "geometric mean": [f"{np.exp(np.mean(np.log(table[r]))):.3f}" for r in rules],
        "series > 1.10": [str(sum(x > 1.1 for x in table[r])) for r in rules],
    }
    lines += [f"| {label} | | | " + " | ".join(cells) + " |" for label, cells in summary.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    best = pd.read_csv(BASELINES).groupby("series")["mae"].min()
    parser.add_argument("--series", nargs="+", default=list(best.index), choices=list(best.index))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--neural-max-rows", type=int, default=9000)
    parser.add_argument("--out", default=str(OUT), help="CSV of the fits; the table beside it")
    parser.add_argument("--report", action="store_true", help="rebuild the table only")
    parser.add_argument(
        "--paired-se", action="store_true", help="the linear part by the paired standard error"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    command = f"python benchmarks/gate.py --seeds {args.seeds}" + (
        f" --paired-se --out {args.out}" if args.paired_se else ""
    )
    if args.paired_se:
        _linear.select = functools.partial(_linear.select, paired=True)
    if not args.report:
        rows = [
            run(name, seed)
            for name in suite.suite_series.NAMES
            if name in args.series and suite.suite_series.SERIES[name].rows <= args.neural_max_rows
            for seed in range(args.seeds)
        ]
        pd.DataFrame(rows).to_csv(out, index=False)
    table = report(pd.read_csv(out), best, command)
    out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
