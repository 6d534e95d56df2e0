"""What else could be done with the trained network: refitting it on every window,
averaging seeds, or blending it with the linear part, side by side on dev rows.

Each series' dev split is fitted once per seed with the gate forced open (as in
``benchmarks/gate.py``). Every fit records the validation windows' predictions of the
network and of its linear part, and forecasts the dev test rows with the linear part alone,
with the network as the estimator keeps it (early stopped, its linear part refitted on every
window), and with a second network: built with the same seed on the linear part refitted on
every window, and trained on every window, the validation windows too, for the number of
epochs of the first one's best validation loss. Scored, over the best simple baseline of the
same dev split (``benchmarks/results/suite_dev_baselines.csv``):

- ``early stopped`` (the default): the network, or the linear part where the 1-SE gate on
  the validation gains leaves the LSTM out;
- ``refitted on every window``: the same choice, but a kept network is the second one (it
  has no held-out windows, so the gate reads the first one's);
- ``mean of k seeds``: the networks of ``k`` seeds averaged (the linear part is a closed-form
  fit, the same in every seed, so this averages their LSTMs), the 1-SE gate on the
  averaged network's validation gains: what training ``k`` networks per fit would give;
- ``validated blend``: the linear part plus ``w`` times the LSTM's contribution, ``w`` in
  [0, 1] the least-squares weight on the validation windows, instead of the gate's 0 or 1.

The median over seeds (over groups of ``k`` seeds for the mean) per series; test rows are
never looked at. The MAE of every fit and variant goes to
``benchmarks/results/network_variants_dev.csv``, the table beside it; ``--report`` rebuilds
the table from the CSV. Reproduce (35 minutes on 2 busy cores)::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/network_variants.py --seeds 3
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import gate  # noqa: E402
import suite  # noqa: E402

from sklstm import _forecaster  # noqa: E402
from sklstm._training import build_optimizer  # noqa: E402

OUT = Path(__file__).parent / "results" / "network_variants_dev.csv"
DEFAULT = "early stopped (default)"


class Variants(gate.GateOpen):
    """The gate held open and the validation predictions kept; a second network is trained
    on every window for the first one's best epoch count."""

    def _lstm_improves(self, network, alone, y):
        self.validation_ = {"network": network, "alone": alone, "y": y}
        return super()._lstm_improves(network, alone, y)

    def _train(self, windows, y, n_train, units, seed, sources, season):
        model, losses, linear_only, residuals = super()._train(
            windows, y, n_train, units, seed, sources, season
        )
        refit = self._build(units, seed)
        _forecaster._LinearStart.set_on(refit, self.linear_.every_window)
        refit.get_layer("highway").trainable = False
        refit.compile(
            optimizer=build_optimizer(self.optimizer, self.learning_rate),
            loss=_forecaster._KERAS_LOSSES[self.loss],
        )
        refit.fit(
            self._dataset(windows, slice(None), y, shuffle_seed=seed),
            epochs=int(np.argmin(losses["val_loss"])) + 1,
            verbose=0,
            shuffle=False,
        )
        self.refit_model_ = refit
        return model, losses, linear_only, residuals


def fit(data, seed):
    """One dev fit: the validation predictions (scaled, as the gate sees them) and the test
    forecasts of the linear part, the network and the refitted network."""
    window = data["window"]
    model = Variants(window=window, random_state=seed, fallback=None)
    model.fit(data["X"].iloc[: data["n_train"]], data["y_frame"].iloc[: data["n_train"]])
    context = data["X"].iloc[data["test_start"] - (window - 1) :]

    def forecast():
        return np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]

    model.alone_ = True
    found = {"test_linear": forecast()}
    model.alone_ = False
    found["test_network"] = forecast()
    model.model_ = model.refit_model_
    found["test_refit"] = forecast()
    return found | {f"val_{key}": value for key, value in model.validation_.items()}


def one_se(fit):
    """The estimator's gate: the network's squared-error gain over the linear part on the
    validation windows is more than one standard error."""
    gains = np.mean(
        (fit["val_y"] - fit["val_alone"]) ** 2 - (fit["val_y"] - fit["val_network"]) ** 2, axis=1
    )
    return bool(gains.mean() > gains.std(ddof=1) / np.sqrt(len(gains)))


def blend_weight(fit):
    """The weight in [0, 1] of the LSTM's contribution that fits the validation windows best."""
    lstm = fit["val_network"] - fit["val_alone"]
    missed = fit["val_y"] - fit["val_alone"]
    return float(np.clip((lstm * missed).sum() / max((lstm * lstm).sum(), 1e-300), 0.0, 1.0))


def scores(name, fits, y_test, sizes):
    """Rows of (series, variant, seeds, MAE) for every variant."""
    rows = []
    for seed, fit in enumerate(fits):
        keep = one_se(fit)
        linear = fit["test_linear"]
        w = blend_weight(fit)
        for variant, pred in (
            (DEFAULT, fit["test_network"] if keep else linear),
            ("refitted on every window", fit["test_refit"] if keep else linear),
            ("validated blend", linear + w * (fit["test_network"] - linear)),
        ):
            rows.append((name, variant, str(seed), suite._mae(y_test, pred)))
    for k in sizes:
        for start in range(0, len(fits) // k * k, k):
            group = fits[start : start + k]
            mean = {key: np.mean([f[key] for f in group], axis=0) for key in group[0]}
            pred = mean["test_network"] if one_se(mean) else mean["test_linear"]
            seeds = f"{start}-{start + k - 1}"
            rows.append((name, f"mean of {k} seeds", seeds, suite._mae(y_test, pred)))
    return rows


def report(results, best):
    variants = list(dict.fromkeys(results["variant"]))
    ratio = results.groupby(["series", "variant"], sort=False)["mae"].median().unstack()
    ratio = ratio.div(best[ratio.index], axis=0)[variants]
    n_seeds = results.loc[results.variant == DEFAULT, "seeds"].nunique()
    lines = [
        "<!-- Written by benchmarks/network_variants.py; do not edit by hand. -->",
        "",
        "MAE / best simple baseline's MAE on each series' dev split, median over seeds "
        f"(`python benchmarks/network_variants.py --seeds {n_seeds}`; test rows unseen).",
        "",
        "| series | " + " | ".join(variants) + " |",
        "|---|" + "---:|" * len(variants),
    ]
    for name, row in ratio.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    geometric = np.exp(np.log(ratio).mean())
    lines.append("| geometric mean | " + " | ".join(f"{x:.3f}" for x in geometric) + " |")
    lines.append("| series > 1.10 | " + " | ".join(str(int(x)) for x in (ratio > 1.1).sum()) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    best = pd.read_csv(gate.BASELINES).groupby("series")["mae"].min()
    parser.add_argument("--series", nargs="+", default=list(best.index), choices=list(best.index))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--neural-max-rows", type=int, default=9000)
    parser.add_argument("--out", default=str(OUT), help="CSV of the scores; the table beside")
    parser.add_argument("--report", action="store_true", help="rebuild the table only")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if not args.report:
        rows = []
        for name in suite.suite_series.NAMES:
            if (
                name not in args.series
                or suite.suite_series.SERIES[name].rows > args.neural_max_rows
            ):
                continue
            data = suite.prepare(name, dev=True)
            fits = [fit(data, seed) for seed in range(args.seeds)]
            sizes = [k for k in (3,) if k <= args.seeds]
            rows += scores(name, fits, data["y"][data["test_start"] :], sizes)
            print(name, flush=True)
        pd.DataFrame(rows, columns=["series", "variant", "seeds", "mae"]).to_csv(out, index=False)
    table = report(pd.read_csv(out, dtype={"seeds": str}), best)
    out.with_suffix(".md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
