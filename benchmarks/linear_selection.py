"""How LSTMForecaster's linear part chooses its anchor and penalty: variants side by side.

Design-selection protocol (``suite.py --dev``): on each series only the rows that the suite's
training origins see are used, split 80/20 again with the same horizon gap; the test rows are
never looked at. Each variant fits the linear part alone (``sklstm._linear`` as
``LSTMForecaster`` calls it, LSTM left out) and is scored by MAE / persistence MAE; the summary
is the geometric mean over the series.

Variants: the selection rule (``best``: least mean validation error; ``one-se``: the most
penalised candidate within one standard error of it, sklstm's default) and the folds
(``blocks:first``: time-ordered blocks, validating on blocks ``first`` .. ``blocks - 1``).

Reproduce the table in docs/accuracy.md ("How the linear part is chosen"), about 5 minutes::

    python benchmarks/linear_selection.py
"""

import argparse
import contextlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import suite  # noqa: E402

# The suite's series of at most 400 rows: where the choice matters most (few windows).
SHORT = [name for name, spec in suite.suite_series.SERIES.items() if spec.rows <= 400]
VARIANTS = ["best 5:2", "one-se 5:2", "one-se 10:2", "one-se 10:5"]


def best_mean(blocks, anchors):
    """The selection rule without the one-standard-error step: least mean error."""
    from sklstm import _linear

    n_inputs, n_outputs = blocks[0].gram.shape[0] - 1, blocks[0].cross.shape[1]
    errors = np.zeros((len(anchors), len(_linear.PENALTIES), n_outputs))
    for k in range(_linear.FIRST_VALIDATION_BLOCK, len(blocks)):
        train = sum(blocks[:k], _linear.Normal.empty(n_inputs, n_outputs)).ridge()
        for a, anchor in enumerate(anchors):
            coef = anchor.coefficients(n_inputs)
            for p, beta in enumerate(train.solutions(coef, _linear.PENALTIES)):
                errors[a, p] += blocks[k].squared_error(beta)
    best = errors.reshape(-1, n_outputs).argmin(axis=0)
    return best // len(_linear.PENALTIES), _linear.PENALTIES[best % len(_linear.PENALTIES)]


@contextlib.contextmanager
def variant(name):
    from sklstm import _linear

    rule, folds = name.split()
    blocks, first = map(int, folds.split(":"))
    saved = _linear.select, _linear.N_BLOCKS, _linear.FIRST_VALIDATION_BLOCK
    _linear.N_BLOCKS, _linear.FIRST_VALIDATION_BLOCK = blocks, first
    if rule == "best":
        _linear.select = best_mean
    try:
        yield
    finally:
        _linear.select, _linear.N_BLOCKS, _linear.FIRST_VALIDATION_BLOCK = saved


def linear_ratio(name):
    """MAE / persistence of the linear part on the dev split of ``name``."""
    from sklstm import LSTMForecaster

    data = suite.prepare(name, dev=True)
    window, n_train, test_start = data["window"], data["n_train"], data["test_start"]
    origins = np.arange(test_start, data["n_origins"])
    y_test = data["y"][test_start:]
    naive = suite._mae(
        y_test, suite.as_y(suite.persistence(data["values"], origins, data["horizon"]))
    )
    # No early stopping: the linear part is fitted on every training window and the LSTM,
    # trained for one epoch, is switched off below by zeroing its output layer.
    model = LSTMForecaster(window=window, epochs=1, early_stopping=False, random_state=0)
    model.fit(data["X"].iloc[:n_train], data["y_frame"].iloc[:n_train])
    head = model.model_.get_layer("lstm_head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    context = data["X"].iloc[test_start - (window - 1) :]
    pred = np.asarray(model.predict(context)).reshape(len(context), -1)[window - 1 :]
    return suite._mae(y_test, pred) / naive


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=SHORT)
    parser.add_argument("--variants", nargs="+", default=VARIANTS)
    args = parser.parse_args(argv)
    table = {v: [] for v in args.variants}
    print("| series | " + " | ".join(args.variants) + " |")
    print("|---|" + "---:|" * len(args.variants))
    for name in args.series:
        cells = []
        for v in args.variants:
            with variant(v):
                table[v].append(linear_ratio(name))
            cells.append(f"{table[v][-1]:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    means = [float(np.exp(np.mean(np.log(table[v])))) for v in args.variants]
    print("| geometric mean | " + " | ".join(f"{m:.3f}" for m in means) + " |")


if __name__ == "__main__":
    main()
