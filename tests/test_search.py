"""LSTMSearchCV: space and input checks, results, pruning, storages shared by real processes."""

import atexit
import functools
import glob
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import optuna
import pandas as pd
import pytest
import sqlalchemy
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState
from sklearn.base import is_regressor
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from sklstm import LSTMForecaster, LSTMSearchCV, SlidingWindowTransformer, make_horizon_target
from sklstm._search import _default_space, _where_to_fit
from sklstm._trial_worker import RecycledWorkers
from sklstm.datasets import load_seattle_weather

optuna.logging.set_verbosity(optuna.logging.WARNING)

# Tiny on purpose: every fit below takes well under a second.
SPACE = {
    "units": IntDistribution(2, 4),
    "dropout": FloatDistribution(0.0, 0.3),
    "bidirectional": CategoricalDistribution([False, True]),
}
FORECASTER = dict(window=3, units=2, epochs=1, batch_size=32, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_horizon_target(load_seattle_weather()[:80], "temp_max", horizon=1)
    return X, y


def tiny_search(**kwargs):
    params = dict(n_trials=2, cv=2, random_state=0, refit=False)
    params.update(kwargs)
    return LSTMSearchCV(LSTMForecaster(**FORECASTER), SPACE, **params)


# -- bad input: refused before any training ----------------------------------------------------


class _NoFit(LSTMForecaster):
    def fit(self, X, y):  # pragma: no cover - reaching it is the failure
        raise AssertionError("trained before the input was checked")


def test_unknown_parameter_name_is_refused(data):
    search = LSTMSearchCV(_NoFit(), {"unit": IntDistribution(2, 4)}, n_trials=1)
    with pytest.raises(ValueError, match="'unit'.*Did you mean 'units'"):
        search.fit(*data)


def test_space_for_a_missing_step_is_refused(data):
    pipe = Pipeline([("scale", StandardScaler()), ("lstm", _NoFit())])
    search = LSTMSearchCV(pipe, {"net__units": IntDistribution(2, 4)}, n_trials=1)
    with pytest.raises(ValueError, match="step 'net'.*steps are \\['lstm', 'scale'\\]"):
        search.fit(*data)


def test_estimator_without_a_forecaster_is_refused(data):
    with pytest.raises(ValueError, match="tunes an LSTMForecaster"):
        LSTMSearchCV(StandardScaler(), n_trials=1).fit(*data)


@pytest.mark.parametrize("cv", [KFold(3), KFold(3, shuffle=True, random_state=0)])
def test_cv_that_trains_on_the_future_is_refused(data, cv):
    with pytest.raises(ValueError, match="allow_lookahead=True"):
        LSTMSearchCV(_NoFit(), SPACE, cv=cv, n_trials=1).fit(*data)


def test_lookahead_opt_out_runs(data):
    search = tiny_search(cv=KFold(2), allow_lookahead=True, n_trials=1).fit(*data)
    assert search.n_trials_ == 1


def test_callable_space_with_unknown_name_fails_before_fitting(data):
    search = LSTMSearchCV(_NoFit(), lambda trial: {"colour": 1}, n_trials=1)
    with pytest.raises(ValueError, match="'colour'"):
        search.fit(*data)


def test_n_jobs_in_process_is_refused(data):
    with pytest.raises(ValueError, match="fits_per_process"):
        LSTMSearchCV(_NoFit(), SPACE, n_jobs=2, fits_per_process=None).fit(*data)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"pruner": "median"},
            "The 'pruner' parameter of LSTMSearchCV must be a str among {'auto'}, an object "
            "implementing 'prune' or None. Got 'median' instead.",
        ),
        (
            {"sampler": "tpe"},
            "The 'sampler' parameter of LSTMSearchCV must be an object implementing "
            "'infer_relative_search_space', 'sample_relative' and 'sample_independent' or None. "
            "Got 'tpe' instead.",
        ),
        (
            {"fits_per_process": 0},
            "The 'fits_per_process' parameter of LSTMSearchCV must be an int in the range "
            "[1, inf), a str among {'auto'} or None. Got 0 instead.",
        ),
    ],
)
def test_parameters_are_validated_in_scikit_learns_words(data, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        LSTMSearchCV(_NoFit(), SPACE, n_trials=1, **params).fit(*data)


@pytest.mark.parametrize(
    "storage",
    [
        "nosuchdb://x",  # no such SQLAlchemy dialect
        "postgres+foo://",  # no such dialect ("postgresql") nor driver
        "search.db",  # neither a URL nor a journal file
        "sqlite:////no/such/dir/search.db",
        "/no/such/dir/search.journal",
    ],
)
def test_storage_that_cannot_be_opened_is_refused(data, storage):
    search = LSTMSearchCV(_NoFit(), SPACE, n_trials=1, storage=storage)
    accepted = r"sqlite:///.*postgresql://.*mysql://.*\.log or \.journal"
    expected = rf"The 'storage' parameter of LSTMSearchCV must be None, .*{accepted}\. "
    with pytest.raises(ValueError, match=expected + rf"Got {re.escape(repr(storage))} instead"):
        search.fit(*data)


def test_tags_follow_the_estimator():
    pipe = Pipeline([("scale", StandardScaler()), ("lstm", LSTMForecaster())])
    for estimator in (LSTMForecaster(), pipe):
        search = LSTMSearchCV(estimator)
        assert is_regressor(search)
        assert get_tags(search).regressor_tags == get_tags(estimator).regressor_tags
    assert get_tags(LSTMSearchCV(LSTMForecaster())).target_tags.multi_output
    assert get_tags(LSTMSearchCV(LSTMForecaster())).non_deterministic
    assert not get_tags(LSTMSearchCV(LSTMForecaster(), random_state=0)).non_deterministic


def test_where_fits_run():
    assert _where_to_fit(1, "auto") == (1, None)  # in this process
    assert _where_to_fit(None, "auto") == (1, None)
    assert _where_to_fit(0, "auto") == (1, None)
    assert _where_to_fit(2, "auto") == (2, 5)  # workers replaced every 5 fits
    assert _where_to_fit(1, 3) == (1, 3)
    assert _where_to_fit(-1, "auto")[0] == (os.cpu_count() or 1)


def test_one_job_fits_in_this_process_by_default(data, monkeypatch):
    def no_workers(*args, **kwargs):  # pragma: no cover - reaching it is the failure
        raise AssertionError("started worker processes")

    monkeypatch.setattr("sklstm._search.make_workers", no_workers)
    assert tiny_search(n_trials=1).fit(*data).n_trials_ == 1


def test_too_few_rows_for_the_folds_is_reported(data):
    X, y = data
    with pytest.raises(ValueError, match=r"cannot split X \(2 samples\)"):
        LSTMSearchCV(_NoFit(), SPACE, cv=3, n_trials=1).fit(X[:2], y[:2])


# -- spaces, results and delegation ------------------------------------------------------------


def test_default_space_tunes_window_only_where_the_data_allow():
    names = set(_default_space(LSTMForecaster(window=8), "", 300, True))
    assert names == {"units", "n_layers", "dropout", "bidirectional", "learning_rate", "window"}
    assert "window" not in _default_space(LSTMForecaster(window=8), "", 6, True)
    assert "lstm__window" not in _default_space(LSTMForecaster(window=8), "lstm__", 300, False)


def test_pipeline_fit_results_and_delegation(data):
    X, y = data
    pipe = Pipeline([("scale", StandardScaler()), ("lstm", LSTMForecaster(**FORECASTER))])
    space = {"units": IntDistribution(2, 4), "lstm__dropout": FloatDistribution(0.0, 0.3)}
    search = LSTMSearchCV(
        pipe,
        space,
        n_trials=2,
        cv=TimeSeriesSplit(2),
        scoring="neg_mean_absolute_error",
        random_state=0,
    ).fit(X, y)
    assert set(search.best_params_) == {"lstm__units", "lstm__dropout"}
    assert search.best_estimator_.named_steps["lstm"].units == search.best_params_["lstm__units"]
    results = pd.DataFrame(search.cv_results_)
    assert len(results) == search.n_trials_ == len(search.study_.trials) == 2
    assert {"param_lstm__units", "split1_test_score", "rank_test_score", "n_epochs"} <= set(results)
    assert results.loc[search.best_index_, "mean_test_score"] == pytest.approx(search.best_score_)
    assert search.predict(X[-5:]).shape == (5, 1)
    assert search.score(X[-20:], y[-20:]) <= 0
    assert search.n_features_in_ == X.shape[1]


def test_same_random_state_gives_the_same_search(data):
    first, second = (tiny_search(n_trials=3).fit(*data) for _ in range(2))
    assert first.cv_results_["params"] == second.cv_results_["params"]
    assert first.best_params_ == second.best_params_
    np.testing.assert_allclose(
        first.cv_results_["mean_test_score"], second.cv_results_["mean_test_score"]
    )


class _PruneAllButFirst(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return trial.number > 0


def test_pruned_trials_stop_after_their_first_fold(data):
    search = tiny_search(n_trials=3, cv=3, pruner=_PruneAllButFirst()).fit(*data)
    results = search.cv_results_
    pruned = results["state"] == "PRUNED"
    assert pruned.any() and not pruned.all()
    assert np.isnan(results["split1_test_score"][pruned]).all()
    assert np.isfinite(results["split0_test_score"]).all()
    assert (results["n_epochs"][pruned] == 1).all()  # one fold of one epoch
    assert (results["rank_test_score"][pruned] > (~pruned).sum()).all()


def test_all_trials_pruned_is_reported(data):
    with pytest.raises(ValueError, match="No trial of the study completed"):
        tiny_search(cv=2, pruner=optuna.pruners.ThresholdPruner(lower=1e9)).fit(*data)


def test_windowed_pipeline(data):
    X, y = data
    pipe = Pipeline(
        [("windows", SlidingWindowTransformer(window=3)), ("lstm", LSTMForecaster(**FORECASTER))]
    )
    search = LSTMSearchCV(pipe, SPACE, n_trials=1, cv=2).fit(X, y)
    assert set(search.best_params_) == {f"lstm__{name}" for name in SPACE}


def test_resume_from_sqlite(data, tmp_path):
    storage = f"sqlite:///{tmp_path / 'search.db'}"
    first = tiny_search(n_trials=1, storage=storage, study_name="s").fit(*data)
    resumed = tiny_search(n_trials=3, storage=storage, study_name="s").fit(*data)
    assert resumed.n_trials_ == 3
    assert resumed.cv_results_["params"][0] == first.cv_results_["params"][0]
    assert len(resumed.study_.trials) == 3


# -- real worker processes ---------------------------------------------------------------------

WORKER = """
import sys
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklstm import LSTMForecaster, LSTMSearchCV, make_horizon_target
from sklstm.datasets import load_seattle_weather

optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_horizon_target(load_seattle_weather()[:80], "temp_max", horizon=1)
space = {{
    "units": IntDistribution(2, 4),
    "dropout": FloatDistribution(0.0, 0.3),
    "bidirectional": CategoricalDistribution([False, True]),
}}
LSTMSearchCV(
    # No early stopping: a trial of many epochs runs long enough to be killed mid-trial.
    LSTMForecaster(window=3, units=2, epochs={epochs}, early_stopping=False, random_state=0),
    space, n_trials={n_trials}, cv=2, refit=False,
    storage=sys.argv[1], study_name="shared", heartbeat_interval={heartbeat},
).fit(X, y)
"""


def start_worker(tmp_path, storage, n_trials, epochs=1, heartbeat=2):
    script = tmp_path / "worker.py"
    source = WORKER.format(n_trials=n_trials, epochs=epochs, heartbeat=heartbeat)
    script.write_text(textwrap.dedent(source))
    # A session of its own, so that a SIGKILL can take the worker with everything it started.
    return subprocess.Popen(
        [sys.executable, str(script), storage],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(worker, timeout=120):
    _, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err.decode()[-2000:]


@pytest.mark.slow
def test_two_workers_share_a_journal_file(tmp_path):
    storage = str(tmp_path / "study.journal")
    workers = [start_worker(tmp_path, storage, n_trials=4) for _ in range(2)]
    for worker in workers:
        finish(worker)
    storage_obj = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(storage)
    )
    trials = optuna.load_study(study_name="shared", storage=storage_obj).trials
    states = [t.state for t in trials]
    # n_trials counts the study's finished trials; a worker may finish one already running.
    assert 4 <= len(trials) <= 5
    assert all(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states)
    assert len({t.number for t in trials}) == len(trials)


def running_trials(storage, fitting=False):
    """Numbers of the RUNNING trials of the study "shared" (none before it exists); with
    ``fitting``, only those whose objective has started."""
    try:
        study = optuna.load_study(study_name="shared", storage=storage)
    except KeyError:
        return []
    except sqlalchemy.exc.IntegrityError:
        return []  # the worker is creating the database's tables: as good as no study yet
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [t.number for t in running if not fitting or "params" in t.user_attrs]


def kill_mid_trial(worker, storage):
    """SIGKILL ``worker`` (and all it started) once it runs a trial; return that trial."""
    deadline = time.monotonic() + 120
    running = []
    while not running and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.5)
        running = running_trials(storage, fitting=True)
    assert running, "the worker never started a trial"
    # Optuna starts a trial's heartbeat thread just before its objective; a trial killed
    # before the thread's first beat has no heartbeat and is never found stale.
    time.sleep(1)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    return running[0]


def trial_states(storage):
    trials = optuna.load_study(study_name="shared", storage=storage).trials
    return {t.number: t.state for t in trials}


@pytest.mark.slow
def test_killed_worker_is_retried_and_the_study_completes(data, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    number = kill_mid_trial(start_worker(tmp_path, storage, n_trials=2, epochs=30), storage)
    time.sleep(4.5)  # more than the grace period of two heartbeats
    resumed = tiny_search(storage=storage, study_name="shared", heartbeat_interval=2).fit(*data)
    trials = resumed.study_.trials
    killed = trials[number]
    assert killed.state == TrialState.FAIL
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params
    assert retried[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert resumed.n_trials_ == 2


@pytest.mark.slow
def test_resume_with_nothing_left_to_run_fails_a_killed_workers_trial(data, tmp_path):
    # The study holds n_trials finished trials and one whose worker was killed: a rerun with
    # the same n_trials has nothing left to run, so no new trial of Optuna's finds the dead one.
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = tiny_search(storage=storage, study_name="shared", heartbeat_interval=1)
    search.fit(*data)
    worker = start_worker(tmp_path, storage, n_trials=3, epochs=500, heartbeat=1)
    killed = kill_mid_trial(worker, storage)
    time.sleep(3)  # more than the grace period of two heartbeats
    resumed = search.fit(*data)
    states = trial_states(storage)
    assert states[killed] == TrialState.FAIL
    assert TrialState.RUNNING not in states.values()
    # The retry is queued, to run first when a later search raises n_trials.
    assert list(states.values()).count(TrialState.WAITING) == 1
    assert resumed.n_trials_ == 2
    assert "RUNNING" not in resumed.cv_results_["state"]


@pytest.mark.slow
def test_a_trial_that_goes_stale_during_a_search_is_failed_at_its_end(data, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    killed = kill_mid_trial(
        start_worker(tmp_path, storage, n_trials=1, epochs=500, heartbeat=5), storage
    )
    running_at_start = []

    def slow_space(trial):
        running_at_start.append(killed in running_trials(storage))
        time.sleep(11)  # past the killed trial's grace period of two heartbeats
        return {"units": trial.suggest_int("units", 2, 4)}

    search = LSTMSearchCV(
        LSTMForecaster(**FORECASTER),
        slow_space,
        n_trials=1,
        cv=2,
        refit=False,
        storage=storage,
        study_name="shared",
        heartbeat_interval=5,
    ).fit(*data)
    # When this search's trial started, the killed trial was not stale yet: only the check at
    # the end of the search can have failed it.
    assert running_at_start == [True]
    states = trial_states(storage)
    assert states[killed] == TrialState.FAIL
    assert TrialState.RUNNING not in states.values()
    assert search.n_trials_ == 1


@pytest.mark.slow
def test_recycled_worker_processes_with_two_jobs(data):
    search = tiny_search(n_trials=2, n_jobs=2, fits_per_process=2, refit=True).fit(*data)
    assert search.n_trials_ == 2
    assert set(search.cv_results_["state"]) == {"COMPLETE"}
    assert search.predict(data[0][-3:]).shape == (3, 1)


def worker_processes():
    """PIDs of this process's loky worker processes (not the resource tracker)."""
    children = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                children += f.read().split()
        except FileNotFoundError:  # a thread (of loky's executor, say) that just ended
            continue
    pids = []
    for pid in children:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmd:
                if b"loky.backend.popen_loky_posix" in cmd.read():
                    pids.append(int(pid))
        except FileNotFoundError:
            continue
    return pids


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc")
def test_a_recycled_worker_is_gone_before_its_successor_starts():
    # Each worker lingers at exit, as one that imported TensorFlow does for seconds: a
    # successor started meanwhile would double the memory of the search.
    workers = RecycledWorkers(1, 2, functools.partial(atexit.register, time.sleep, 0.5))
    alive, done = [], threading.Event()

    def watch():
        while not done.wait(0.005):
            alive.append(len(worker_processes()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        pids = [workers.run(os.getpid) for _ in range(5)]
    finally:
        workers.close()
        done.set()
        watcher.join()
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4] != pids[0]
    assert max(alive) == 1
    assert worker_processes() == []


def test_a_dead_worker_is_replaced():
    workers = RecycledWorkers(1, 10)
    try:
        first = workers.run(os.getpid)
        with pytest.raises(BrokenProcessPool):
            workers.run(os._exit, 1)  # dies, and dies again in the one retry
        assert workers.run(os.getpid) != first
    finally:
        workers.close()


# -- PostgreSQL, on a private server -----------------------------------------------------------


@pytest.fixture
def postgres_url():
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not binaries:
        binaries = [shutil.which("initdb")] if shutil.which("initdb") else []
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        binaries = []
    if not binaries:
        message = "PostgreSQL server binaries (initdb, pg_ctl) or psycopg2 are not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; in CI this test must run.")
        pytest.skip(message)
    bin_dir = os.path.dirname(binaries[-1])
    # Directly under /tmp: a short socket path, and reachable by the postgres user when the
    # server must drop root (pytest's tmp_path lies in a directory private to root).
    base = pathlib.Path(tempfile.mkdtemp(prefix="sklstm-pg-"))
    run_as = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(base, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    data_dir, socket_dir = base / "data", base
    subprocess.run(
        [*run_as, f"{bin_dir}/initdb", "-D", str(data_dir), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    options = f"-k {socket_dir} -c listen_addresses='' -p 5433 -c fsync=off"
    pg_ctl = [*run_as, f"{bin_dir}/pg_ctl", "-D", str(data_dir), "-w"]
    subprocess.run([*pg_ctl, "-o", options, "-l", str(base / "log"), "start"], check=True)
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={socket_dir}&port=5433"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_postgresql_storage_with_two_workers(data, postgres_url, tmp_path):
    # Create the schema and the study once: workers racing to create tables on an empty
    # database collide (as the user guide says).
    optuna.create_study(storage=postgres_url, study_name="shared", direction="maximize")
    worker = start_worker(tmp_path, postgres_url, n_trials=3)
    # Every worker of a study needs the same heartbeat: each judges the others' trials by it.
    search = tiny_search(
        n_trials=3, storage=postgres_url, study_name="shared", heartbeat_interval=2
    ).fit(*data)
    finish(worker)
    trials = optuna.load_study(study_name="shared", storage=postgres_url).trials
    assert 3 <= len(trials) <= 4
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    assert search.n_trials_ >= 3


def test_a_database_another_worker_is_creating_opens_once_its_tables_exist(
    data, tmp_path, monkeypatch
):
    from sklstm import _search

    calls = []

    class Racing(optuna.storages.RDBStorage):
        def __init__(self, url, **kwargs):
            # The first open loses the race to write the schema's version row, as when
            # workers start together on a new database (optuna#4621); the next finds the
            # tables written.
            calls.append(url)
            if len(calls) == 1:
                raise sqlalchemy.exc.IntegrityError(
                    "INSERT INTO alembic_version", {}, Exception("UNIQUE constraint failed")
                )
            super().__init__(url, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", Racing)
    monkeypatch.setattr(_search.time, "sleep", lambda seconds: None)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    search = tiny_search(n_trials=1, storage=storage, study_name="shared").fit(*data)
    assert len(calls) == 2
    assert search.n_trials_ == 1
