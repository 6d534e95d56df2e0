"""The real ``sklstm`` console script: outputs, bad input (exit status 2) and a fast --help."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _script():
    beside_python = Path(sys.executable).parent / "sklstm"
    found = str(beside_python) if beside_python.exists() else shutil.which("sklstm")
    if found is None:
        pytest.fail("the 'sklstm' console script is not installed: pip install -e .")
    return found


def sklstm(*args, cwd=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [_script(), *map(str, args)], capture_output=True, text=True, cwd=cwd, env=env
    )


def _frame(n_rows=60):
    rng = np.random.default_rng(0)
    t = np.arange(n_rows)
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n_rows, freq="D").strftime("%Y-%m-%d"),
            "load": 10 + np.sin(t / 4) + 0.1 * rng.normal(size=n_rows),
            "temp": 20 + np.cos(t / 5) + 0.1 * rng.normal(size=n_rows),
        }
    )


@pytest.fixture
def csv(tmp_path):
    def write(frame, name="data.csv"):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        return path

    return write


def test_help_is_fast():
    assert sklstm("--help").returncode == 0  # warm the file system cache
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = sklstm("--help")
        timings.append(time.perf_counter() - started)
    assert result.returncode == 0
    assert "forecast" in result.stdout and "demo" in result.stdout and "tune" in result.stdout
    assert min(timings) < 1.0, f"sklstm --help took {min(timings):.2f} s"
    assert "usage: sklstm forecast" in sklstm("forecast", "--help").stdout


def test_forecast_says_where_it_averages_in_the_smoothing(csv, tmp_path):
    # A monthly season on a wandering level: a window of 4 months holds neither.
    rng = np.random.default_rng(0)
    t = np.arange(300)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2000-01-01", periods=300, freq="MS").strftime("%Y-%m-%d"),
            "y": np.cumsum(rng.normal(scale=0.2, size=300))
            + 3 * np.sin(2 * np.pi * t / 12)
            + rng.normal(size=300),
        }
    )
    result = sklstm(
        "forecast", csv(frame), "--target", "y", "--horizon", "2", "--window", "4",
        "--epochs", "2", "--units", "4", "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "of 2 forecast(s) averaged with exponential smoothing" in result.stdout
    assert len(pd.read_csv(tmp_path / "out" / "forecast.csv")) == 2


def test_import_loads_no_heavy_library():
    code = (
        "import sys, sklstm, sklstm.cli; sklstm.load; sklstm.plotting; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib', 'optuna') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_forecast_writes_forecast_scores_and_plot(csv, tmp_path):
    data = csv(_frame())
    out = tmp_path / "out"
    result = sklstm(
        "forecast", data, "--target", "load", "--target", "temp", "--horizon", "2",
        "--window", "4", "--epochs", "1", "--units", "4", "--confidence-level", "0.8",
        "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Holdout scores" in result.stdout and "persistence (last value)" in result.stdout
    assert "Holdout values inside the prediction intervals: " in result.stdout
    assert "Traceback" not in result.stderr

    forecast = pd.read_csv(out / "forecast.csv", index_col="date", parse_dates=True)
    assert list(forecast.columns) == [
        "load", "load_lower_80", "load_upper_80", "temp", "temp_lower_80", "temp_upper_80"
    ]  # fmt: skip
    assert (forecast["load_lower_80"] < forecast["load_upper_80"]).all()
    assert list(forecast.index.strftime("%Y-%m-%d")) == ["2024-03-01", "2024-03-02"]
    scores = pd.read_csv(out / "scores.csv", index_col=[0, 1])
    assert list(scores.columns) == ["MAE", "RMSE", "MAE / persistence"]
    assert scores.loc[("load", "persistence (last value)"), "MAE / persistence"] == 1.0
    markdown = (out / "scores.md").read_text()
    assert markdown.startswith("| target | model | MAE |")
    assert (out / "forecast.png").read_bytes().startswith(PNG_MAGIC)


def _with_gap(frame):
    return frame.drop(index=10)


def _unsorted(frame):
    return frame.iloc[[*range(20), 21, 20, *range(22, len(frame))]]


def _duplicated(frame):
    return pd.concat([frame.iloc[:21], frame.iloc[20:]])


def _non_numeric(frame):
    return frame.assign(weather=["rain", "sun"] * (len(frame) // 2))


def _missing_value(frame):
    frame = frame.copy()
    frame.loc[5, "temp"] = np.nan
    return frame


@pytest.mark.parametrize(
    "make, args, message",
    [
        (None, ["--target", "load"], "no such file"),
        (_frame, ["--target", "nope"], "no target column 'nope'"),
        (_frame, ["--target", "load", "--date-col", "when"], "no date column 'when'"),
        (_non_numeric, ["--target", "load"], "column 'weather' is not numeric"),
        (_missing_value, ["--target", "load"], "column 'temp' has 1 missing value"),
        (_with_gap, ["--target", "load"], "not evenly spaced"),
        (_unsorted, ["--target", "load"], "not sorted in time"),
        (_duplicated, ["--target", "load"], "duplicated time stamps"),
        (lambda: _frame(12), ["--target", "load", "--window", "8"], "too few rows"),
        (_frame, ["--target", "load", "--horizon", "0"], "expected a positive integer"),
    ],
    ids=[
        "missing-file",
        "missing-column",
        "missing-date-column",
        "non-numeric",
        "missing-value",
        "gap",
        "unsorted",
        "duplicates",
        "too-few-rows",
        "bad-horizon",
    ],
)
def test_bad_input_exits_with_status_2_and_one_line(make, args, message, csv, tmp_path):
    if make is None:
        data = tmp_path / "absent.csv"
    elif make is _frame or make.__name__ == "<lambda>":
        data = csv(make())
    else:
        data = csv(make(_frame()))
    result = sklstm("forecast", data, *args, "--out", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    if "expected a positive integer" not in message:  # argparse adds its usage line
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


def test_rows_without_dates_are_numbered_steps(csv):
    from sklstm.cli import read_series

    frame = read_series(csv(_frame(40).drop(columns="date")), ["load"])
    assert isinstance(frame.index, pd.RangeIndex) and list(frame.columns) == ["load", "temp"]
    dated = read_series(csv(_frame(40), name="dated.csv"), ["load"])
    assert dated.index.freqstr == "D" and dated.index.name == "date"


@pytest.mark.slow
def test_demo(tmp_path):
    result = sklstm("demo", "--epochs", "1", "--out", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    assert "Holdout scores" in result.stdout and "Ridge on lagged windows" in result.stdout
    assert "Forecast for the 3 step(s) after 2015-12-31" in result.stdout
    forecast = pd.read_csv(tmp_path / "demo" / "forecast.csv", index_col="date")
    assert forecast.index.tolist() == ["2016-01-01", "2016-01-02", "2016-01-03"]
    assert (tmp_path / "demo" / "forecast.png").read_bytes().startswith(PNG_MAGIC)


@pytest.mark.slow
def test_tune_resumes_a_study_and_writes_best_params(csv, tmp_path):
    pytest.importorskip("sklstm._search")
    import optuna
    from optuna.distributions import IntDistribution

    # A study that already holds its one trial: the command resumes it, runs no new trial
    # (so the test stays fast) and goes straight to the best model's outputs.
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = optuna.create_study(storage=storage, study_name="cli", direction="maximize")
    best = {"units": 3, "n_layers": 1}
    study.add_trial(
        optuna.trial.create_trial(
            params=best,
            distributions={"units": IntDistribution(2, 8), "n_layers": IntDistribution(1, 3)},
            value=-0.5,
            user_attrs={"split_scores": [-0.4, -0.6]},
        )
    )
    result = sklstm(
        "tune", csv(_frame(60)), "--target", "load", "--window", "3", "--epochs", "1",
        "--cv", "2", "--n-trials", "1", "--storage", storage, "--study-name", "cli",
        "--in-process", "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Study 'cli': 1 complete, 0 pruned trials" in result.stdout
    assert "Holdout scores" in result.stdout and "Traceback" not in result.stderr
    assert json.loads((tmp_path / "out" / "best_params.json").read_text()) == best
    assert (tmp_path / "out" / "optimization_history.png").read_bytes().startswith(PNG_MAGIC)
    assert (tmp_path / "out" / "param_importances.png").exists()
    assert (tmp_path / "out" / "forecast.csv").exists()
    assert len(optuna.load_study(study_name="cli", storage=storage).trials) == 1

    import sklstm as package

    model = package.load(tmp_path / "out" / "model.sklstm.zip")
    assert (model.units, model.window) == (3, 3)


def test_tune_study_name_needs_storage(csv, tmp_path):
    result = sklstm(
        "tune", csv(_frame()), "--target", "load", "--n-trials", "1", "--study-name", "s",
        "--out", tmp_path / "out",
    )  # fmt: skip
    assert result.returncode == 2 and "--study-name needs --storage" in result.stderr


def _sunspots(tmp_path):
    import statsmodels.api as sm

    path = tmp_path / "sunspots.csv"
    sm.datasets.sunspots.load_pandas().data.to_csv(path, index=False)  # YEAR as 1700.0, ...
    return path


def test_numeric_years_are_years_not_nanoseconds(tmp_path):
    out = tmp_path / "out"
    result = sklstm(
        "forecast", _sunspots(tmp_path), "--target", "SUNACTIVITY", "--date-col", "YEAR",
        "--window", "4", "--epochs", "1", "--units", "2", "--horizon", "2", "--out", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "(1700 .. " in result.stdout and "1970" not in result.stdout
    forecast = pd.read_csv(out / "forecast.csv")
    assert forecast["YEAR"].tolist() == [2009, 2010]
    assert (out / "forecast.png").read_bytes().startswith(PNG_MAGIC)


def test_an_undeclared_time_column_gets_a_hint(tmp_path):
    from sklstm.cli import read_series

    frame = read_series(_sunspots(tmp_path), ["SUNACTIVITY"])
    assert "YEAR" in frame.columns  # used as a feature, as asked, but the user is told
    result = sklstm("forecast", _sunspots(tmp_path), "--target", "SUNACTIVITy", "--out", "x")
    assert result.returncode == 2
    assert "Did you mean 'SUNACTIVITY'?" in result.stderr


def test_numbers_that_are_not_years_need_a_format(csv, tmp_path, capsys):
    from sklstm.cli import InputError, read_series

    frame = _frame(30).assign(date=lambda f: pd.to_datetime(f["date"]).dt.strftime("%Y%m%d"))
    frame["date"] = frame["date"].astype(int)
    path = csv(frame)
    with pytest.raises(InputError, match=r"not whole years.*--date-format"):
        read_series(path, ["load"])
    dated = read_series(path, ["load"], date_format="%Y%m%d")
    assert dated.index[0] == pd.Timestamp("2024-01-01") and dated.index.freqstr == "D"


def test_the_command_line_is_quiet(csv, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [_script(), "forecast", str(csv(_frame())), "--target", "load", "--window", "4",
         "--epochs", "1", "--units", "2", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
