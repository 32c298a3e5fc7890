"""Figure primitives on matplotlib's object API: no pyplot state, no backend switch.

    fig = new_figure(figsize=(9, 4.8))
    ax = fig.subplots()
    ...
    png_bytes = to_png(fig)

Experiments return `{file name: Figure}`; the composition layer turns them into
PNG files and the page. `Figure.savefig` renders with Agg by itself, so nothing
here needs a display or touches the global backend.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure


def new_figure(**kwargs) -> Figure:
    kwargs.setdefault("layout", "constrained")
    return Figure(**kwargs)


def to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def bar_panels(title: str, groups: list[str], series: dict[str, list], panels,
               legend: str) -> Figure:
    """Grouped bars: one panel per (ylabel, panel title, value index, label format),
    one bar per series in each group; `series[name][g]` is a tuple of values or None."""
    fig = new_figure(figsize=(6 * len(panels), 4.5))
    axes = fig.subplots(1, len(panels), squeeze=False)
    width = 0.8 / max(len(series), 1)
    for ax, (ylabel, panel_title, k, fmt_) in zip(axes[0], panels):
        for i, (name, values) in enumerate(series.items()):
            xs = [g + (i - (len(series) - 1) / 2) * width
                  for g, v in enumerate(values) if v is not None]
            ys = [v[k] for v in values if v is not None]
            bars = ax.bar(xs, ys, width, label=name)
            ax.bar_label(bars, fmt=fmt_, fontsize=8)
        ax.set_xticks(range(len(groups)), groups)
        ax.set_title(panel_title)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", alpha=0.3)
        ax.margins(y=0.12)
    # Outside the axes, so that no bar or label is hidden behind it.
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, title=legend or None, loc="outside right upper")
    fig.suptitle(title)
    return fig
