"""Every Python block of README.md and docs/*.md runs as written, so the docs never go stale.

Each block runs on its own, as a reader would paste it into a fresh session: in a new
namespace, in a temporary working directory (the files a block writes land there), with
``MPLBACKEND=Agg``. No block may rely on another one; the pages tell their readers so.

Tiny budgets (the default), as ``tests/test_examples.py`` does for the examples:

- ``LSTMForecaster.fit`` trains at most ``MAX_EPOCHS`` epochs, in batches of at least
  ``MIN_BATCH`` windows (smaller batches unroll the time loop, whose tracing takes longer
  than two epochs: several seconds for the deeper networks a search tries);
- ``LSTMSearchCV.fit`` runs at most ``MAX_TRIALS`` trials, its forecaster with the same caps
  (also in worker processes);
- ``TimeSeriesSplit`` yields only its first ``MAX_SPLITS`` splits, in cross-validation and in
  searches alike.

The caps are set on the instances, so clones made by a search or by cross-validation keep
them. Blocks that run a search are marked ``slow`` even so: each fits some of the deep,
bidirectional networks that the default search space samples (15 to 50 s per block on 2 busy
cores); ``-m "not slow"`` runs the others.

``SKLSTM_DOCS_FULL=1`` runs the blocks with the budgets they state instead (tens of minutes:
the searches train for real), e.g. to check a run time that a page quotes.

Blocks fenced as ``text``, ``bash`` or ``console`` are not run. A block that imports scikeras
runs in a fresh interpreter, as written: importing scikeras patches ``keras.Model`` for the
whole process. The CLI page's options and defaults are checked against ``sklstm COMMAND --help``.
"""

import itertools
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from inspect import signature
from pathlib import Path

import pytest
from sklearn.model_selection import TimeSeriesSplit

from sklstm import LSTMForecaster

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAX_EPOCHS, MIN_BATCH, MAX_TRIALS, MAX_SPLITS = 2, 128, 2, 1
FULL_BUDGET = os.environ.get("SKLSTM_DOCS_FULL") == "1"
RUN = {"python"}
NOT_RUN = {"text", "bash", "console"}
# Imports that change a whole process: blocks with them run in a fresh interpreter.
OWN_PROCESS = ("scikeras",)
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    info: str  # what follows the opening fence: a language, or a MyST directive
    code: str

    @property
    def name(self):
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced_blocks(page):
    """Every fenced block of a Markdown page, fences nested in MyST directives included."""
    blocks, opened = [], []  # opened: [fence, info, first line, lines] of the enclosing fences
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line.strip())
        in_code = opened and not opened[-1][1].startswith("{")
        if match and opened and not match["info"]:
            fence, opening = match["fence"], opened[-1][0]
            if fence[0] == opening[0] and len(fence) >= len(opening):
                _, info, start, lines = opened.pop()
                blocks.append(Block(page, start, info, "\n".join(lines) + "\n"))
                continue
        if match and not in_code:
            # A block at the top level or inside a directive, whose body is Markdown again.
            opened.append([match["fence"], match["info"].strip(), number, []])
            continue
        if opened:
            opened[-1][3].append(line)
    assert not opened, f"{page.name}: the fence on line {opened[-1][2]} is never closed"
    return blocks


BLOCKS = [block for page in PAGES for block in fenced_blocks(page)]
PYTHON = [block for block in BLOCKS if block.info in RUN]
SLOW = ("LSTMSearchCV(",)


@pytest.fixture
def budget(monkeypatch):
    """Cap training at a tiny budget, unless SKLSTM_DOCS_FULL=1."""
    if FULL_BUDGET:
        return
    from sklstm import LSTMSearchCV

    def capped(estimator):
        # set_params on the instance: clones made by searches and CV copy the cap along.
        estimator.set_params(
            epochs=min(estimator.epochs, MAX_EPOCHS),
            batch_size=max(estimator.batch_size, MIN_BATCH),
        )

    fit = LSTMForecaster.fit

    def capped_fit(self, X, y):
        capped(self)
        return fit(self, X, y)

    search_fit = LSTMSearchCV.fit

    def capped_search_fit(self, X, y, *args, **kwargs):
        self.set_params(n_trials=min(self.n_trials, MAX_TRIALS))
        for step in [self.estimator, *self.estimator.get_params(deep=True).values()]:
            if isinstance(step, LSTMForecaster):
                capped(step)  # worker processes fit clones of it without the patched fit
        return search_fit(self, X, y, *args, **kwargs)

    split = TimeSeriesSplit.split

    def first_splits(self, X, y=None, groups=None):
        return itertools.islice(split(self, X, y, groups), MAX_SPLITS)

    monkeypatch.setattr(LSTMForecaster, "fit", capped_fit)
    monkeypatch.setattr(LSTMSearchCV, "fit", capped_search_fit)
    monkeypatch.setattr(TimeSeriesSplit, "split", first_splits)


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(block, marks=[pytest.mark.slow] if any(s in block.code for s in SLOW) else [])
        for block in PYTHON
    ],
    ids=[block.name for block in PYTHON],
)
def test_python_block_runs(block, budget, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    if any(re.search(rf"^\s*(from|import) {name}\b", block.code, re.M) for name in OWN_PROCESS):
        for name in OWN_PROCESS:
            pytest.importorskip(name)
        result = subprocess.run(
            [sys.executable, "-c", block.code], capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, f"{block.name} failed:\n{result.stderr[-3000:]}"
        return
    try:
        exec(compile(block.code, block.name, "exec"), {"__name__": "__main__"})
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def test_every_block_says_what_it_is():
    # An unlabelled fence would be neither run nor highlighted: say python, text, bash or
    # console (or use a MyST directive such as {include}).
    unknown = [
        f"{block.name}: {block.info or '(no language)'}"
        for block in BLOCKS
        if block.info not in RUN | NOT_RUN and not block.info.startswith("{")
    ]
    assert not unknown, unknown
    assert len(PYTHON) >= 10, "fewer Python blocks than the pages hold: is the parser broken?"


# -- the command line page -------------------------------------------------------------------


def _help(command, capsys):
    from sklstm.cli import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    return capsys.readouterr().out


def _options(help_text):
    """{names of an option (short and long forms): its default or None} from argparse's help."""
    options = {}
    for chunk in re.split(r"\n(?=  -)", help_text.split("options:", 1)[1]):
        if not chunk.startswith("  -"):
            continue
        # "  -v, --verbose  help text": the names end at two spaces or at the line's end.
        names = re.split(r"\s{2,}|\n", chunk.strip())[0]
        names = tuple(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", names))
        default = re.search(r"\(default: ([^)]*)\)", " ".join(chunk.split()))
        if names != ("-h", "--help"):
            options[names] = default[1] if default else None
    return options


def _section(page, heading):
    text = page.read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


@pytest.mark.parametrize("command", ["forecast", "tune", "demo"])
def test_cli_page_names_every_option(command, capsys):
    section = _section(ROOT / "docs" / "cli.md", f"`sklstm {command}`")

    def mentioned(name):
        return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", section)

    missing = [
        names
        for names in _options(_help(command, capsys))
        if not any(mentioned(name) for name in names)
    ]
    assert not missing, f"docs/cli.md does not mention these options of sklstm {command}"


def test_cli_page_defaults_match_the_code(capsys):
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in _section(
            ROOT / "docs" / "cli.md", "Defaults: the command line is not the library"
        )
        .strip()
        .splitlines()
        if line.startswith("| `")
    ]
    table = {row[0].strip("`").split("`")[0]: row[1:] for row in rows}
    option = {
        "window": "--window",
        "units": "--units",
        "epochs": "--epochs",
        "random_state": "--seed",
    }
    for column, command in enumerate(["forecast", "tune", "demo"]):
        defaults = {
            name: default
            for names, default in _options(_help(command, capsys)).items()
            for name in names
        }
        assert "--epochs" in defaults, f"could not read the options of sklstm {command} --help"
        for setting, flag in option.items():
            if defaults.get(flag) is not None:
                assert table[setting][column].split()[0] == defaults[flag], (command, setting)
    library = signature(LSTMForecaster).parameters
    for setting in option:
        assert table[setting][3] == str(library[setting].default), setting
