"""make_horizon_target: alignment, names and errors."""

import numpy as np
import pandas as pd
import pytest

from sklstm import make_horizon_target


def test_direct_multi_horizon_columns_are_aligned():
    frame = pd.DataFrame({"Demand": np.arange(6.0), "Temp": np.arange(6.0) * 10})
    X, y = make_horizon_target(frame, "Demand", horizon=3)
    assert list(y.columns) == ["Demand_t+1", "Demand_t+2", "Demand_t+3"]
    assert len(X) == len(y) == 3
    np.testing.assert_array_equal(y.iloc[0], [1.0, 2.0, 3.0])
    assert (X.index == y.index).all()


def test_several_targets_and_arrays():
    data = np.arange(20.0).reshape(10, 2)
    X, y = make_horizon_target(data, [0, 1], horizon=2)
    assert X.shape == (8, 2) and y.shape == (8, 4)
    np.testing.assert_array_equal(y[0], [2.0, 4.0, 3.0, 5.0])


@pytest.mark.parametrize(
    "target, horizon, match",
    [("Nope", 1, "not found"), ("Demand", 0, "horizon"), ("Demand", 5, "at least")],
)
def test_errors(target, horizon, match):
    frame = pd.DataFrame({"Demand": np.arange(5.0)})
    with pytest.raises(ValueError, match=match):
        make_horizon_target(frame, target, horizon=horizon)


def test_the_horizon_name_rule():
    from sklstm._target import horizon_layout, horizon_name, split_horizon_name

    assert horizon_name("load_t", 12) == "load_t_t+12"
    assert split_horizon_name("load_t_t+12") == ("load_t", 12)
    assert split_horizon_name("load") is None and split_horizon_name(3) is None
    targets, horizon, column_of = horizon_layout(["a_t+1", "a_t+2", "b_t+1", "b_t+2"])
    assert targets == ["a", "b"] and horizon == 2 and column_of["b", 1] == 2
    with pytest.raises(ValueError, match="make_horizon_target"):
        horizon_layout(["a_t+1", "a_t+3"])


def test_a_misspelt_target_gets_a_suggestion():
    frame = pd.DataFrame({"Demand": [1.0, 2.0, 3.0], "Temp": [4.0, 5.0, 6.0]})
    with pytest.raises(ValueError, match="Did you mean 'Demand'"):
        make_horizon_target(frame, "demand")
