"""Holdout evaluation against simple baselines, and the one table writer.

Nothing here prints: the command line and the benchmarks format what these functions return.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from ._target import split_horizon_name
from ._window import SlidingWindowTransformer

PERSISTENCE = "persistence (last value)"
RIDGE = "Ridge on lagged windows"


def split_holdout(X, y, n_train):
    """The first ``n_train`` rows of X and y for training, the rest for scoring."""
    return X[:n_train], X[n_train:], y[:n_train], y[n_train:]


def baseline_predictions(X_train, y_train, X_test, window):
    """Predictions of the simple baselines that see the same rows as a forecaster.

    - ``RIDGE``: a ridge regression on the same ``window`` lagged rows;
    - ``PERSISTENCE``: every future step equals the last observed value of its column
      (targets named ``<column>_t+<k>``, as :func:`~sklstm.make_horizon_target` names them).
    """
    ridge = make_pipeline(SlidingWindowTransformer(window, flatten=True), Ridge())
    last_values = [X_test[split_horizon_name(c)[0]].to_numpy() for c in y_train.columns]
    return {
        RIDGE: ridge.fit(X_train, y_train).predict(X_test),
        PERSISTENCE: np.column_stack(last_values),
    }


def score_table(y_true, predictions, targets):
    """MAE, RMSE and MAE relative to persistence per target and model, over all horizons.

    Parameters
    ----------
    y_true : pandas.DataFrame
        True values, columns named ``<target>_t+<k>``.
    predictions : dict of str to array-like
        Predictions of each model, shaped like ``y_true``; one must be ``PERSISTENCE``.
    targets : list of str
        The target columns to score.

    Returns
    -------
    table : pandas.DataFrame
        Indexed by (target, model).
    """
    columns = [split_horizon_name(c)[0] for c in y_true.columns]
    truth = y_true.to_numpy()
    rows = {}
    for target in targets:
        picked = [i for i, column in enumerate(columns) if column == target]
        for name, pred in predictions.items():
            error = np.reshape(pred, truth.shape)[:, picked] - truth[:, picked]
            rows[(target, name)] = {
                "MAE": np.abs(error).mean(),
                "RMSE": np.sqrt((error**2).mean()),
            }
    table = pd.DataFrame(rows).T
    table.index.names = ["target", "model"]
    naive = table.xs(PERSISTENCE, level="model")["MAE"]
    table["MAE / persistence"] = (
        table["MAE"] / naive.reindex(table.index.get_level_values("target")).to_numpy()
    )
    return table


def markdown_table(table, float_format="{:.3f}"):
    """A GitHub-flavoured markdown table of a DataFrame: index levels first, left-aligned;
    numbers right-aligned and written with ``float_format``."""
    n_labels = table.index.nlevels if any(table.index.names) else 0
    frame = table.reset_index() if n_labels else table
    header = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "|".join("---" if i < n_labels else "---:" for i in range(frame.shape[1])) + "|"
    body = [
        "| "
        + " | ".join(
            float_format.format(v) if isinstance(v, float | np.floating) else str(v) for v in row
        )
        + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])
