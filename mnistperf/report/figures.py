"""Figure primitives on matplotlib's object API: no pyplot state, no backend switch.

    fig = new_figure(figsize=(9, 4.8))
    ax = fig.subplots()
    ...
    png_bytes = to_png(fig)

Experiments return `{file name: Figure}`; the composition layer turns them into
PNG files and the page. `Figure.savefig` renders with Agg by itself, so nothing
here needs a display or touches the global backend.

Conventions every figure follows, kept here so they cannot drift apart:
accuracy axes run from 0 to 100 with a dotted chance line at 10 % (ten classes;
a tighter range would magnify run-to-run noise into apparent effects), a curve
of one point is drawn as a visible marker, and each figure carries a caption
(`set_caption`) that the page shows under it.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

# Ten classes in both datasets: guessing scores 10 %, a loss of ln 10 ~ 2.30.
CHANCE_ACCURACY = 10.0
CHANCE_LOSS = 2.302585
CHANCE_LABEL = f"chance ({CHANCE_ACCURACY:g} %)"


def new_figure(**kwargs) -> Figure:
    kwargs.setdefault("layout", "constrained")
    return Figure(**kwargs)


def set_caption(fig: Figure, text: str) -> Figure:
    """Attach the sentence the page prints under the figure (an Artist label, which
    matplotlib never draws for a Figure)."""
    fig.set_label(text)
    return fig


def caption_of(fig: Figure, name: str) -> str:
    """The figure's caption, else its title, else its file name."""
    if fig.get_label():
        return fig.get_label()
    # get_suptitle is matplotlib >= 3.8; pyproject allows 3.7.
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    return title.replace("\n", " ") or name


def title_of(fig: Figure, name: str) -> str:
    """A short name for the page's contents: the figure's title, else its first
    panel's, else its file name."""
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    if not title and fig.axes:
        title = fig.axes[0].get_title()
    return title.split("\n")[0] or name  # a second title line is a remark, not the name


def accuracy_axis(ax, top: float = 100.0, chance: bool = True) -> None:
    """0..100 % with ticks every 20 and the chance line; `top` above 100 leaves room
    for bar labels without ticks past 100."""
    ax.set_ylim(0, top)
    ax.set_yticks(range(0, 101, 20))
    if chance:
        # Above bars (zorder 1) and below their labels (3): where chance lies must
        # show across a bar, not only between bars.
        ax.axhline(CHANCE_ACCURACY, color="dimgrey", linestyle=":", linewidth=1.4,
                   label=CHANCE_LABEL, zorder=2.5)


def plot_curve(ax, values, style: str = "-", **kwargs):
    """A per-epoch curve against epochs 1..n; a single point (a one-epoch run) gets
    a large marker, since a line of one point draws nothing."""
    if len(values) == 1:
        kwargs["marker"] = kwargs.get("marker") or "o"
        kwargs["markersize"] = max(kwargs.get("markersize", 0), 8)
    return ax.plot(range(1, len(values) + 1), values, style, **kwargs)


# Label offsets in points, nearest first: right above, right below, left above, ...
_OFFSETS = [(5, 3), (5, -11), (-5, 3), (-5, -11), (5, 12), (5, -20), (-5, 12), (-5, -20),
            (5, 21), (5, -29), (-5, 21), (-5, -29)]


def label_points(ax, xs, ys, labels, keys=None, fontsize: float = 7,
                 most: int = 14) -> list[str]:
    """Label each point beside it, at the first nearby offset where the label covers
    no other label or point. When some label finds no free place, or there are more
    than `most` points, the points get numbers instead (1 = highest y) and the
    returned key lines ("1  key") go into the caller's legend; else returns [].
    `keys` (default: the labels) may say more than a label beside a point can.
    Call it after the axis limits and scales are final: placement works in pixels."""
    keys = keys or labels
    order = sorted(range(len(xs)), key=lambda i: -ys[i])
    if len(xs) <= most and _place(ax, xs, ys, labels, fontsize, dry_run=True):
        _place(ax, xs, ys, labels, fontsize)
        return []
    numbers = [""] * len(xs)
    for n, i in enumerate(order, 1):
        numbers[i] = str(n)
    _place(ax, xs, ys, numbers, fontsize + 1)
    return [f"{n:>2}  {keys[i]}" for n, i in enumerate(order, 1)]


def _place(ax, xs, ys, labels, fontsize, dry_run: bool = False) -> bool:
    """Place labels greedily; True when every one found a free spot."""
    px = ax.figure.dpi / 72.0
    points = ax.transData.transform(list(zip(xs, ys))) if len(xs) else []
    markers = [(x - 4, y - 4, x + 4, y + 4) for x, y in points]
    placed, free = [], True

    def covered(box, own):
        return sum(max(0.0, min(box[2], b[2]) - max(box[0], b[0]))
                   * max(0.0, min(box[3], b[3]) - max(box[1], b[1]))
                   for b in markers + placed if b is not own)

    for (x, y), own, text in zip(points, markers, labels):
        w, h = len(text) * fontsize * 0.6 * px + 2, fontsize * 1.3 * px
        options = []
        for dx, dy in _OFFSETS:
            left = x + dx * px if dx > 0 else x + dx * px - w
            box = (left, y + dy * px, left + w, y + dy * px + h)
            options.append((covered(box, own), box, (dx, dy)))
        cover, box, (dx, dy) = min(options, key=lambda o: o[0])
        free = free and cover == 0
        placed.append(box)
        if not dry_run:
            # A label pushed off its dot's side (past the nearest row of offsets) gets
            # a thin leader line, so that it never seems to float free of its dot.
            far = (dx, dy) not in _OFFSETS[:4]
            ax.annotate(text, ax.transData.inverted().transform((x, y)), xytext=(dx, dy),
                        textcoords="offset points", fontsize=fontsize, va="bottom",
                        ha="left" if dx > 0 else "right",
                        # a light backdrop keeps a label readable across grid lines
                        bbox=dict(boxstyle="square,pad=0.1", facecolor="white",
                                  edgecolor="none", alpha=0.75),
                        arrowprops=dict(arrowstyle="-", color="grey", linewidth=0.6,
                                        shrinkA=0, shrinkB=3) if far else None)
    return free


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def bar_panels(title: str, groups: list[str], series: dict[str, list], panels,
               legend: str) -> Figure:
    """Grouped bars: one panel per (ylabel, panel title, value index, label format),
    one bar per series in each group; `series[name][g]` is a tuple of values or None,
    and a None inside the tuple leaves that bar out. A panel whose ylabel starts
    with "accuracy" gets the 0-100 axis and the chance line."""
    # Panels of 5 inches and room for the legend outside them, so that a one-panel
    # figure does not squeeze its bars or run its title into the legend.
    fig = new_figure(figsize=(5 * len(panels) + 2.5, 4.5))
    axes = fig.subplots(1, len(panels), squeeze=False)
    width = 0.8 / max(len(series), 1)
    for ax, (ylabel, panel_title, k, fmt_) in zip(axes[0], panels):
        for i, (name, values) in enumerate(series.items()):
            kept = [(g, v[k]) for g, v in enumerate(values)
                    if v is not None and v[k] is not None]
            xs = [g + (i - (len(series) - 1) / 2) * width for g, _ in kept]
            bars = ax.bar(xs, [y for _, y in kept], width, label=name)
            ax.bar_label(bars, fmt=fmt_, fontsize=8)
        ax.set_xticks(range(len(groups)), groups)
        # With one or two groups the bars would stretch across the whole panel.
        pad = max(0, 3 - len(groups)) * 0.4
        ax.set_xlim(-0.6 - pad, len(groups) - 0.4 + pad)
        ax.set_title(panel_title)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        if ylabel.startswith("accuracy"):
            accuracy_axis(ax, top=108)  # room for the labels of bars near 100
        else:
            ax.margins(y=0.12)
    # Outside the axes, so that no bar or label is hidden behind it. Series first,
    # then the chance line (only accuracy panels have it).
    entries = {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(lab, h)
    # matplotlib lists lines before bars; the chance line goes last.
    labels = sorted(entries, key=lambda lab: lab == CHANCE_LABEL)
    fig.legend([entries[lab] for lab in labels], labels, title=legend or None,
               loc="outside right upper")
    fig.suptitle(title)
    return fig
