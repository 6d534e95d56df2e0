"""Main job: forecast tomorrow's maximum temperature in Seattle and score it against persistence.

Trains on 2012-2014, then walks forward through 2015: every day of 2015 is predicted from its
true preceding week, exactly as a TimeSeriesSplit test fold would be. Runs in about a minute on
two CPU cores.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, root_mean_squared_error
from sklearn.pipeline import make_pipeline

from sklstm import LSTMForecaster, SlidingWindowTransformer, make_horizon_target
from sklstm.datasets import load_seattle_weather


def main():
    X, y = make_horizon_target(load_seattle_weather(), "temp_max", horizon=1)
    train = X.index < "2015-01-01"
    X_train, X_test, y_train, y_test = X[train], X[~train], y[train], y[~train]

    models = {
        "LSTMForecaster": LSTMForecaster(window=14, units=32, epochs=60, random_state=0),
        "Ridge on windows": make_pipeline(SlidingWindowTransformer(14, flatten=True), Ridge()),
    }
    predictions = {"persistence (today's value)": X_test["temp_max"].to_numpy()}
    for name, model in models.items():
        predictions[name] = np.ravel(model.fit(X_train, y_train).predict(X_test))

    truth = y_test.to_numpy().ravel()
    naive = mean_absolute_error(truth, predictions["persistence (today's value)"])
    table = pd.DataFrame(
        {
            name: {
                "MAE": mean_absolute_error(truth, pred),
                "RMSE": root_mean_squared_error(truth, pred),
                "MAE / persistence": mean_absolute_error(truth, pred) / naive,
            }
            for name, pred in predictions.items()
        }
    ).T
    print(
        f"Seattle daily max temperature (deg C), next-day forecast: trained on "
        f"{len(X_train)} days, tested on {len(X_test)} days of 2015\n"
    )
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
