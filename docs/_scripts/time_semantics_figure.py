"""Draw docs/_static/time_semantics.png: rows, windows, a train/test fold, the remembered rows.

Run by docs/conf.py at every build (and by hand: python docs/_scripts/time_semantics_figure.py).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

N_ROWS, N_TRAIN, WINDOW = 18, 11, 4
TRAIN, TEST, HISTORY, PAD = "#9ecae1", "#fdae6b", "#3182bd", "#d9d9d9"


def _row_boxes(ax, y, colors, labels=True, hatch_from=None):
    for t in range(N_ROWS):
        ax.add_patch(Rectangle((t, y), 0.9, 0.8, facecolor=colors(t), edgecolor="0.3", lw=0.6))
        if labels:
            ax.text(t + 0.45, y + 0.4, str(t), ha="center", va="center", fontsize=7)


def _window(ax, y, end, label, padded=0, history=0):
    """The window ending at row ``end``: WINDOW boxes, ``padded`` repeats of the first row."""
    start = end - WINDOW + 1
    for k, t in enumerate(range(start, end + 1)):
        if k < padded:
            color, text = PAD, str(max(t, 0) if t >= 0 else start + padded)
        elif t < N_TRAIN and end >= N_TRAIN:
            color, text = HISTORY, str(t)
        else:
            color, text = (TRAIN if end < N_TRAIN else TEST), str(t)
        x = t if t >= 0 else t
        ax.add_patch(Rectangle((x, y), 0.9, 0.6, facecolor=color, edgecolor="0.3", lw=0.6))
        ax.text(x + 0.45, y + 0.3, text, ha="center", va="center", fontsize=7)
    arrow = FancyArrowPatch(
        (end + 0.95, y + 0.3), (end + 1.9, y + 0.3), arrowstyle="-|>", mutation_scale=8, color="0.2"
    )
    ax.add_patch(arrow)
    ax.text(end + 2.0, y + 0.3, label, va="center", fontsize=8)


def draw(path):
    figure = Figure(figsize=(9.5, 4.4), layout="constrained")
    ax = figure.add_subplot()
    # Rows of X, one per time step, split into a training and a test fold.
    _row_boxes(ax, 5.0, lambda t: TRAIN if t < N_TRAIN else TEST)
    ax.text(-0.3, 5.4, "rows of X\n(time steps)", ha="right", va="center", fontsize=8)
    ax.text(N_TRAIN / 2, 6.05, "training fold: fit(X[:11], y[:11])", ha="center", fontsize=8)
    ax.text((N_TRAIN + N_ROWS) / 2, 6.05, "test fold: predict(X[11:])", ha="center", fontsize=8)
    # The rows fit remembers.
    first_kept = N_TRAIN - (WINDOW - 1)
    ax.add_patch(
        Rectangle(
            (first_kept - 0.05, 4.93), WINDOW - 1 + 0.0, 0.94, fill=False, edgecolor=HISTORY, lw=2.2
        )
    )
    ax.text(
        first_kept + (WINDOW - 1) / 2,
        4.55,
        "last_window_: the last window - 1\nfitted rows",
        ha="center",
        va="top",
        fontsize=7.5,
        color=HISTORY,
    )
    # Windows (window=4).
    _window(ax, 3.0, 1, "y[1]: padded with row 0 (no earlier rows)", padded=2)
    _window(ax, 2.1, 8, "y[8]: rows 5..8 only, never a later row")
    _window(ax, 1.2, 11, "y[11]: first test row, history from the fitted rows 8..10")
    _window(ax, 0.3, 15, "y[15]")
    ax.text(-0.3, 1.9, f"windows\n(window={WINDOW})", ha="right", va="center", fontsize=8)
    ax.set_xlim(-3.2, N_ROWS + 8.5)
    ax.set_ylim(0, 6.5)
    ax.axis("off")
    ax.set_title(
        "y[t] is predicted from rows t - window + 1 .. t; a test fold that continues "
        "the training rows\ntakes its first windows' history from the rows fit "
        "remembered",
        fontsize=9.5,
    )
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / "_static" / "time_semantics.png"
    draw(sys.argv[1] if len(sys.argv) > 1 else default)
