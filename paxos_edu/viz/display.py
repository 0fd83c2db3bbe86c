"""Make the figures show in a notebook even when nobody imported pyplot.

The diagrams build ``matplotlib.figure.Figure`` objects directly (no pyplot), so
a notebook shows each one exactly once, as the cell's value. IPython only knows
how to draw a Figure once matplotlib's inline backend has registered its
formatter, which happens on ``import matplotlib.pyplot``. Without it a figure
would print as ``<Figure size ...>`` only; this registers the same PNG formatter
the inline backend uses, and leaves an existing one alone.
"""

from __future__ import annotations

from matplotlib.figure import Figure


def enable_notebook_display() -> bool:
    """Register a PNG formatter for Figures in the running IPython, if it has none.

    Returns True when one was added; False outside IPython or when one exists.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    png = shell.display_formatter.formatters["image/png"]
    try:
        png.lookup_by_type(Figure)
        return False
    except KeyError:
        png.for_type(Figure, lambda fig: print_figure(fig, "png", bbox_inches="tight"))
        return True
