"""sklstm.plotting: every function returns its Axes and the figures save as PNG files."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
optuna = pytest.importorskip("optuna")

from matplotlib.figure import Figure  # noqa: E402
from sklearn.model_selection import TimeSeriesSplit  # noqa: E402

from sklstm import plotting  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _axes():
    return Figure(figsize=(6, 3)).add_subplot()


def _saved_png(ax, path):
    ax.figure.savefig(path)
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    return path


@pytest.fixture(scope="module")
def study():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        units = trial.suggest_int("units", 4, 64)
        rate = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        return -((units - 32) ** 2) / 100 - 0.01 * np.log10(rate)

    study.optimize(objective, n_trials=12)
    return study


def test_plot_forecast(tmp_path):
    index = pd.date_range("2024-01-01", periods=30, freq="D", name="date")
    history = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0)[::-1]}, index=index)
    future = pd.DataFrame(
        {"a": [30.0, 31.0, 32.0], "b": [-1.0, -2.0, -3.0]},
        index=pd.date_range("2024-01-31", periods=3, freq="D"),
    )
    predictions = history.iloc[20:] + 0.5
    ax = plotting.plot_forecast(history, future, predictions=predictions, n_history=15, ax=_axes())
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:6] == ["a", "b", "a predicted", "b predicted", "a forecast", "b forecast"]
    assert len(ax.get_lines()[0].get_xdata()) == 15
    # The forecast line starts at the last observation and has one point per future step.
    assert len(ax.get_lines()[4].get_ydata()) == 4
    assert ax.get_title() == "Forecast of the next 3 steps"
    _saved_png(ax, tmp_path / "forecast.png")


def test_plot_forecast_draws_intervals_as_a_fan(tmp_path):
    index = pd.date_range("2024-01-01", periods=30, freq="D", name="date")
    history = pd.Series(np.arange(30.0), index=index, name="a")
    future = pd.DataFrame(
        {
            "a": [30.0, 31.0, 32.0],
            "a_lower_80": [29.0, 29.5, 29.0],
            "a_upper_80": [31.0, 32.5, 35.0],
            "a_lower_97.5": [28.0, 27.0, 26.0],
            "a_upper_97.5": [32.0, 35.0, 38.0],
        },
        index=pd.date_range("2024-01-31", periods=3, freq="D"),
    )
    ax = plotting.plot_forecast(history, future, ax=_axes())
    # The bounds are bands, not lines; the widest drawn first and palest.
    assert [line.get_label() for line in ax.get_lines()][:2] == ["a", "a forecast"]
    bands = ax.collections[-2:]
    assert [band.get_label() for band in bands] == ["a 97.5 % interval", "a 80 % interval"]
    assert bands[0].get_alpha() < bands[1].get_alpha()
    # Each band opens at the last observation and spans the three future steps.
    vertices = bands[1].get_paths()[0].vertices
    assert vertices[:, 1].min() == 29.0 and vertices[:, 1].max() == 35.0
    _saved_png(ax, tmp_path / "fan.png")


def test_plot_forecast_without_time_index():
    ax = plotting.plot_forecast(
        pd.Series(np.arange(10.0), name="y"),
        pd.DataFrame({"y": [10.0, 11.0]}, index=pd.RangeIndex(10, 12)),
        ax=_axes(),
    )
    assert [line.get_label() for line in ax.get_lines()][:2] == ["y", "y forecast"]


def test_plot_cv_folds(tmp_path):
    X = pd.DataFrame({"x": np.zeros(50)}, index=pd.date_range("2024-01-01", periods=50))
    ax = plotting.plot_cv_folds(TimeSeriesSplit(4, test_size=5), X, ax=_axes())
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"fold {i}" for i in range(4)]
    assert len(ax.collections) == 8  # a train and a test bar per fold
    assert ax.get_xlabel() == "time"
    _saved_png(ax, tmp_path / "folds.png")
    rows = plotting.plot_cv_folds(TimeSeriesSplit(3), np.zeros((30, 1)), ax=_axes())
    assert rows.get_xlabel() == "row"


def test_plot_training_history(tmp_path):
    history = {"loss": [1.0, 0.6, 0.5, 0.45], "val_loss": [1.2, 0.8, 0.9, 1.0]}
    ax = plotting.plot_training_history(SimpleNamespace(history_=history), ax=_axes())
    assert [line.get_label() for line in ax.get_lines()][:2] == ["loss", "val_loss"]
    assert ax.texts[0].get_text() == "best epoch 2"
    _saved_png(ax, tmp_path / "history.png")
    assert plotting.plot_training_history({"loss": [1.0]}).get_xlabel() == "epoch"


def test_plot_optimization_history(study, tmp_path):
    ax = plotting.plot_optimization_history(SimpleNamespace(study_=study), ax=_axes())
    trials, best = ax.get_lines()
    assert len(trials.get_xdata()) == 12
    assert np.all(np.diff(best.get_ydata()) >= 0)  # maximising: best so far never drops
    assert best.get_ydata()[-1] == pytest.approx(study.best_value)
    _saved_png(ax, tmp_path / "optimization.png")


def test_plot_param_importances(study, tmp_path):
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
    ax = plotting.plot_param_importances(study, evaluator=evaluator, ax=_axes())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["learning_rate", "units"]
    widths = [patch.get_width() for patch in ax.patches]
    assert widths[-1] > widths[0] and sum(widths) == pytest.approx(1.0)
    _saved_png(ax, tmp_path / "importances.png")


def test_functions_create_axes_when_none_given():
    import matplotlib.pyplot as plt

    ax = plotting.plot_training_history({"loss": [1.0, 0.5]})
    assert ax.figure is not None
    plt.close(ax.figure)
