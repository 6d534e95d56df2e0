"""Every script in examples/ runs, with fewer epochs, so the docs' gallery never goes stale.

The scripts run as ``__main__`` in this process, with ``LSTMForecaster.fit`` capped at two
epochs and ``SKLSTM_EXAMPLES_QUICK=1`` set (examples may read it to shrink other settings,
e.g. the number of search trials).
"""

import runpy
from pathlib import Path

import pytest

from sklstm import LSTMForecaster

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
MAX_EPOCHS = 2


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("SKLSTM_EXAMPLES_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    fit = LSTMForecaster.fit

    def capped_fit(self, X, y):
        # set_params on the instance: clones made by searches and CV copy the cap along.
        self.set_params(epochs=min(self.epochs, MAX_EPOCHS))
        return fit(self, X, y)

    monkeypatch.setattr(LSTMForecaster, "fit", capped_fit)


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script, quick, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # files an example writes land here
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{script.name} printed nothing"


def test_examples_exist():
    assert EXAMPLES, "examples/ holds no scripts"
