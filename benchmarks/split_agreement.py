"""Do the training rows tell which series a model misses on? Dev rows against test rows.

Each model's ratio to the best simple baseline of each series (median over seeds), once on
the dev rows (``suite.py --dev``: each series' training rows split 80/20 again) and once on
the test rows (``suite.py``), and how well the first predicts the second across the series:
Spearman's rank correlation, and the series past 1.10x on each split and on both. Where a
model's per-series ratios agree between the splits, a design chosen on the training rows can
aim at its misses; where they do not, its misses on the test rows are not visible where
designs are chosen. Reads the committed results; writes nothing else::

    python benchmarks/split_agreement.py > benchmarks/results/split_agreement.md
"""

import argparse
import pathlib
import sys

import numpy as np
import pandas as pd

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from _common import markdown_table  # noqa: E402
from suite import SIMPLE  # noqa: E402

MODELS = [*SIMPLE, "lstm_forecaster"]
MISS = 1.10


def ratios(path):
    """Per series and model: median MAE over seeds / the best simple baseline's MAE."""
    results = pd.read_csv(path)
    best = results[results["model"].isin(SIMPLE)].groupby("series")["mae"].min()
    mae = results.groupby(["series", "model"])["mae"].median().unstack()
    return mae.div(best, axis=0)


def agreement(dev, test):
    """One row per model: rank correlation across series and the misses on each split."""
    from scipy.stats import spearmanr

    rows = []
    for model in [model for model in MODELS if model in dev and model in test]:
        both = pd.DataFrame({"dev": dev[model], "test": test[model]}).dropna()
        rho, p = spearmanr(both["dev"], both["test"])
        dev_miss = set(both.index[both["dev"] > MISS])
        test_miss = set(both.index[both["test"] > MISS])
        rows.append(
            {
                "model": model,
                "series": len(both),
                "geo. mean, dev": f"{np.exp(np.log(both['dev']).mean()):.3f}",
                "geo. mean, test": f"{np.exp(np.log(both['test']).mean()):.3f}",
                "rank correlation dev/test": f"{rho:.2f} (p = {p:.2g})",
                f"past {MISS}x on dev": len(dev_miss),
                "on test": len(test_miss),
                "on both": len(dev_miss & test_miss),
                "misses (dev; test)": "; ".join(
                    ", ".join(sorted(miss)) if len(miss) <= 6 else "-"
                    for miss in (dev_miss, test_miss)
                ),
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    results = HERE / "results"
    parser.add_argument("--dev", type=pathlib.Path, default=results / "suite_dev.csv")
    parser.add_argument("--test", type=pathlib.Path, default=results / "suite.csv")
    args = parser.parse_args(argv)
    rows = agreement(ratios(args.dev), ratios(args.test))
    print(
        "<!-- Written by benchmarks/split_agreement.py; do not edit by hand. -->\n\n"
        "# Per-series ratios on the dev rows against the test rows\n\n"
        f"From `{args.dev.relative_to(HERE.parent)}` and `{args.test.relative_to(HERE.parent)}`"
        " (median over seeds; ratio to each split's best simple baseline): "
        "`python benchmarks/split_agreement.py`.\n\n" + markdown_table(rows, list(rows[0]))
    )


if __name__ == "__main__":
    main()
