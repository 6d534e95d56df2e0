"""Lazy windows: gathered and scaled per batch, never the whole 3-D array."""

import numpy as np

from sklstm import LSTMForecaster
from sklstm._batches import Windows, window_dataset
from sklstm._window import sliding_windows


def _rows(n=60, n_features=3):
    return np.random.default_rng(0).normal(size=(n, n_features))


def test_windows_match_sliding_windows_scaled():
    rows = _rows()
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    windows = Windows(rows, 5, mean, scale)
    expected = ((sliding_windows(rows, 5)[4:] - mean) / scale).astype(np.float32)
    assert len(windows) == len(expected)
    np.testing.assert_allclose(
        windows.take(np.arange(len(windows))), expected, rtol=1e-6, atol=1e-6
    )
    # 3-D input: the windows are taken as they are.
    three_d = Windows(sliding_windows(rows, 5)[4:], 5, mean, scale)
    np.testing.assert_allclose(
        three_d.take(np.array([3, 0])), expected[[3, 0]], rtol=1e-6, atol=1e-6
    )


def test_each_epoch_draws_a_new_seeded_order():
    windows = Windows(_rows(), 5, 0.0, 1.0)
    y = np.arange(len(windows), dtype=np.float32)[:, None]

    def epochs(seed):
        rng = np.random.default_rng(seed)
        return [
            np.concatenate(
                [t[:, 0] for _, t in windows.batches(slice(None), y, batch_size=8, rng=rng)]
            )
            for _ in range(2)
        ]

    first, second = epochs(0)
    assert sorted(first) == sorted(second) == list(y[:, 0])
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(epochs(0)[1], second)


def test_tf_dataset_reshuffles_every_iteration_and_knows_its_length():
    windows = Windows(_rows(), 5, 0.0, 1.0)
    y = np.arange(len(windows), dtype=np.float32)[:, None]
    dataset = window_dataset(windows, slice(0, 50), y, batch_size=16, shuffle_seed=0)
    assert int(dataset.cardinality()) == 4
    orders = [np.concatenate([t.numpy()[:, 0] for _, t in dataset]) for _ in range(2)]
    assert sorted(orders[0]) == sorted(orders[1]) == list(range(50))
    assert not np.array_equal(*orders)


def test_memmap_input_trains_like_an_array(tmp_path):
    rows = _rows(120).astype(np.float32)
    path = tmp_path / "rows.f32"
    disk = np.memmap(path, dtype=np.float32, mode="w+", shape=rows.shape)
    disk[:] = rows
    disk.flush()
    disk = np.memmap(path, dtype=np.float32, mode="r", shape=rows.shape)
    y = rows[:, 0].astype(np.float64)
    params = dict(window=6, units=4, epochs=2, random_state=0)
    from_disk = LSTMForecaster(**params).fit(disk, y).predict(disk)
    from_memory = LSTMForecaster(**params).fit(rows, y).predict(rows)
    np.testing.assert_allclose(from_disk, from_memory, rtol=0, atol=1e-6)
