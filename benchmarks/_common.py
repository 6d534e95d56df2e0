"""Helpers shared by the benchmark scripts (not part of the package)."""

import csv
import json
import platform
import time


def epoch_timer():
    """A Keras callback whose ``seconds`` list receives the wall time of every epoch."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def rss_mb():
    """This process's resident memory now, in MB (Linux)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def peak_mb():
    """This process's peak resident memory so far, in MB (Linux)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak_gflops(n=1024, repeats=20):
    """Best float32 matmul rate of TensorFlow in this process, in GFLOP/s."""
    import tensorflow as tf

    a = tf.random.stateless_normal((n, n), seed=(1, 2))

    @tf.function
    def chain(x):
        for _ in range(repeats):
            x = tf.matmul(x, a) * 1e-3
        return x

    chain(a).numpy()
    best = min(_timed(lambda: chain(a).numpy()) for _ in range(5))
    return 2 * n**3 * repeats / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def machine():
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"


def markdown_table(rows, columns):
    """Rows (dicts) as a markdown table, with sklstm's one table writer."""
    import pandas as pd

    from sklstm._evaluation import markdown_table as write

    return write(pd.DataFrame(rows, columns=columns), float_format="{:.3g}")


class ResultRows:
    """The rows of a benchmark run: kept for the report and, with ``out``, appended to that
    CSV as they come, so that an interrupted run keeps what it measured."""

    def __init__(self, out, columns):
        self.out, self.columns, self.rows = out, columns, []
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            self._handle = out.open("w", newline="")
            self._writer = csv.DictWriter(self._handle, columns)
            self._writer.writeheader()

    def write(self, row):
        self.rows.append(row)
        if self.out is not None:
            self._writer.writerow(row)
            self._handle.flush()

    def close(self):
        if self.out is not None:
            self._handle.close()

    def finish(self, run, text):
        """Print the report ``text``; with ``out``, write it and the ``run`` record beside."""
        print("\n" + text)
        if self.out is None:
            return
        self.close()
        self.out.with_suffix(".json").write_text(json.dumps(run, indent=2) + "\n")
        self.out.with_suffix(".md").write_text(text)
        print(
            f"written {self.out}, {self.out.with_suffix('.json')} and {self.out.with_suffix('.md')}"
        )


def dev_rules_main(doc, script, run, report, out, baselines, default_seeds, argv=None):
    """The command line of a script that scores design rules on the suite's dev splits.

    Fits every series and seed with ``run(name, seed)`` (a list of result rows), saving them
    to ``out`` as they come, then writes ``report(fits, best, command)`` beside it as
    Markdown, ``best`` the best simple baseline's MAE per series (from ``baselines``);
    ``--report`` rebuilds the table from ``out`` alone.
    """
    import argparse
    from pathlib import Path

    import pandas as pd
    import suite

    best = pd.read_csv(baselines).groupby("series")["mae"].min()
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--series", nargs="+", default=list(best.index), choices=list(best.index))
    parser.add_argument("--seeds", type=int, default=default_seeds)
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--report", action="store_true", help="rebuild the table from --out")
    args = parser.parse_args(argv)
    command = f"python benchmarks/{script} --seeds {args.seeds}"
    if not args.report:
        names = [name for name in suite.suite_series.NAMES if name in args.series]
        rows = []
        for name in names:
            for seed in range(args.seeds):
                new = run(name, seed)
                rows += new
                print(json.dumps(new), flush=True)
                pd.DataFrame(rows).to_csv(args.out, index=False)
    fits = pd.read_csv(args.out)
    table = report(fits, best, command)
    args.out.with_suffix(".md").write_text(table)
    print(table)
