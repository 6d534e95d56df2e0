"""LSTMSearchCV called at the top level of a plain script, without a __main__ guard."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

# No `if __name__ == "__main__":` on purpose. The scorer is defined here, in the script's
# __main__ module, so that worker processes must receive it without importing the script.
SCRIPT = """
import optuna
from optuna.distributions import IntDistribution
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMForecaster, LSTMSearchCV, make_horizon_target
from sklstm.datasets import load_seattle_weather


def neg_mae(estimator, X, y):
    return -mean_absolute_error(y, estimator.predict(X))


optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_horizon_target(load_seattle_weather()[:100], "temp_max", horizon=1)
pipe = Pipeline(
    [("scale", StandardScaler()), ("lstm", LSTMForecaster(window=3, units=4, epochs=1))]
)
search = LSTMSearchCV(
    pipe, {{"units": IntDistribution(2, 4)}}, n_trials=2, cv=2, scoring=neg_mae,
    n_jobs={n_jobs}, refit=False, random_state=0,
).fit(X, y)
print("finished trials:", search.n_trials_)
"""


def run_script(path, timeout):
    """Run ``path`` with this Python; on a hang, kill it and everything it started."""
    process = subprocess.Popen(
        [sys.executable, str(path)],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(f"the script hung for {timeout} s:\n{err[-3000:]}")
    return process.returncode, out, err


@pytest.mark.slow
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_unguarded_script(tmp_path, n_jobs):
    script = tmp_path / "search.py"
    script.write_text(textwrap.dedent(SCRIPT.format(n_jobs=n_jobs)))
    returncode, out, err = run_script(script, timeout=300)
    assert returncode == 0, err[-3000:]
    assert "finished trials: 2" in out
