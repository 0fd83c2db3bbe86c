"""Message counts: Chang-Roberts Token messages over n, and a Paxos run's messages per phase.

The election counts are measured, not computed: each ring runs in the simulator
with FIFO links (the oldest pending message is always delivered next) until a
leader exists and has sent the roles, and every Token send is counted. They are
drawn against the textbook's best case 2n−1, worst case n(n+1)/2 and the
average n·H_n over random rings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..core.config import Config
from ..trace import message_counts
from .ring import best_case, worst_case
from .style import PHASE_COLORS, PHASE_NAMES, TEXT_COLOR, new_axes, phase_color

ORDER_COLORS = {"ascending": "#009E73", "descending": "#D55E00", "random": "#0072B2"}
ORDER_MARKERS = {"ascending": "^", "descending": "v", "random": "o"}
PHASE_ORDER = ("election", "setup", "request", "1.1", "1.2", "2.1", "2.2", "3")


def harmonic(n: int) -> float:
    """H_n = 1 + 1/2 + ... + 1/n."""
    return sum(1.0 / k for k in range(1, n + 1))


def election_tokens(n: int, ring: str = "ascending", ring_seed: int = 0,
                    max_steps: int = 1_000_000) -> int:
    """Token messages sent electing a leader on ``n`` nodes (n >= 3), FIFO delivery.

    ``ring`` is ``"ascending"``, ``"descending"`` or ``"random"`` (shuffled with
    ``ring_seed``), as in ``Config``.
    """
    if n < 3:
        raise ValueError(f"n={n}: a run needs a proposer, an acceptor and a learner (n >= 3)")
    from ..sim import Simulation  # measured by running one: the rest of viz only draws traces

    sim = Simulation(Config(proposers=1, acceptors=n - 2, learners=1, ring=ring,
                            ring_seed=ring_seed))
    sim.start()
    # The leader sends the roles in the same step as it sees its own token come back.
    for _ in range(max_steps):
        if sim.leader() is not None:
            break
        pending = sim.pending()
        if not pending:
            break
        sim.deliver(pending[0].id)
    return sum(1 for ev in sim.trace
               if ev["kind"] == "send" and ev["msg"]["type"] == "Token")


def measure_elections(ns: Iterable[int] = range(3, 21),
                      orders: Sequence[str] = ("ascending", "descending", "random"),
                      seeds: Iterable[int] = range(10)) -> dict[str, dict[int, list[int]]]:
    """``{order: {n: [Token count per run]}}``; random rings run once per seed."""
    seeds = list(seeds)
    out: dict[str, dict[int, list[int]]] = {}
    for order in orders:
        runs = seeds if order == "random" else [0]
        out[order] = {n: [election_tokens(n, order, s) for s in runs] for n in ns}
    return out


def plot_message_counts(ns: Iterable[int] = range(3, 21),
                        orders: Sequence[str] = ("ascending", "descending", "random"),
                        seeds: Iterable[int] = range(10), ax: Axes | None = None,
                        counts: dict[str, dict[int, list[int]]] | None = None) -> Figure:
    """Measured Token counts over n for each ring order, against 2n−1, n(n+1)/2 and n·H_n.

    Random rings are drawn as the mean over ``seeds`` with a bar from the fewest
    to the most. ``counts`` (from ``measure_elections``) skips the measuring.
    """
    ns = list(ns)
    counts = counts or measure_elections(ns, orders, seeds)
    fig, ax = new_axes(ax, (8, 5))
    xs = sorted({n for per_n in counts.values() for n in per_n})
    # Wide pale bands, so a measured line lying exactly on its bound still shows both.
    ax.plot(xs, [worst_case(n) for n in xs], color=ORDER_COLORS["descending"], lw=7,
            alpha=0.25, label="worst case n(n+1)/2")
    ax.plot(xs, [n * harmonic(n) for n in xs], color=ORDER_COLORS["random"], lw=7, alpha=0.25,
            label="average n·Hₙ")
    ax.plot(xs, [best_case(n) for n in xs], color=ORDER_COLORS["ascending"], lw=7, alpha=0.25,
            label="best case 2n−1")
    for order, per_n in counts.items():
        ns_o = sorted(per_n)
        means = [sum(per_n[n]) / len(per_n[n]) for n in ns_o]
        color = ORDER_COLORS.get(order, TEXT_COLOR)
        if any(len(v) > 1 for v in per_n.values()):
            lo = [m - min(per_n[n]) for m, n in zip(means, ns_o, strict=True)]
            hi = [max(per_n[n]) - m for m, n in zip(means, ns_o, strict=True)]
            ax.errorbar(ns_o, means, yerr=[lo, hi], color=color, marker=ORDER_MARKERS.get(order),
                        ms=5, lw=1.2, capsize=2, label=f"{order} rings (mean, min–max)")
        else:
            ax.plot(ns_o, means, color=color, marker=ORDER_MARKERS.get(order, "o"), ms=5,
                    lw=1.2, label=f"{order} ring (measured)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("n (nodes on the ring)")
    ax.set_ylabel("Token messages until a leader is known")
    ax.set_title("Chang-Roberts: measured Token messages (FIFO links)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, frameon=False)
    return fig


def plot_phase_counts(trace: Sequence[dict], ax: Axes | None = None) -> Figure:
    """Messages sent in a run, one bar per phase (election, setup, request, 1.1 … 3)."""
    by_phase = message_counts(trace)["by_phase"]
    phases = [p for p in PHASE_ORDER if by_phase.get(p)]
    phases += sorted(p for p in by_phase if p not in PHASE_ORDER and p)
    fig, ax = new_axes(ax, (8, 4.5))
    values = [by_phase[p] for p in phases]
    bars = ax.bar(range(len(phases)), values, color=[phase_color(p) for p in phases],
                  edgecolor="#333333", linewidth=0.6)
    for bar, value in zip(bars, values, strict=True):
        ax.annotate(str(value), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 3), textcoords="offset points", ha="center", fontsize=9)
    ax.set_xticks(range(len(phases)))
    ax.set_xticklabels([PHASE_NAMES.get(p, p).replace(" ", "\n", 1) if p in PHASE_COLORS else p
                        for p in phases], fontsize=8.5)
    ax.set_ylabel("messages sent")
    ax.set_title(f"Messages per phase ({sum(values)} in all)")
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_ylim(0, max(values, default=1) * 1.15 + 1)
    return fig
