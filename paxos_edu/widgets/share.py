"""Sharing a run from the dashboard: browser downloads and a run code, never a file on the server.

``ShareButtons`` is a small anywidget. Each of its buttons asks the kernel for one
thing; the kernel answers with the bytes (a JSON Lines trace, a self-contained HTML
player) or the text (a run code, ``runcode.py``), and the page saves them as a
download or copies them to the clipboard. On Binder or a shared JupyterHub the
student gets the file on their own machine, not somewhere on the server. The run
code is also shown in a text field, for browsers that refuse the clipboard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import anywidget
import traitlets


@dataclass(frozen=True)
class Download:
    """A file for the browser to save."""

    name: str
    mime: str
    data: bytes


@dataclass(frozen=True)
class Copy:
    """Text for the browser to put on the clipboard (and show)."""

    text: str
    what: str = "run code"


ITEMS = (
    ("jsonl", "trace (JSON Lines)", "download the run's trace, one event per line"),
    ("html", "player (HTML)", "download a player of the run that opens in any browser, "
     "without Python"),
    ("code", "copy run code", "copy a short code that replays this run: "
     "paxos_edu.runcode.replay(code)"),
)

_ESM = """
function render({ model, el }) {
  el.classList.add("paxos-share");
  const bar = document.createElement("div");
  bar.className = "paxos-share-bar";
  const note = document.createElement("span");
  note.className = "paxos-share-note";
  const code = document.createElement("input");
  code.className = "paxos-share-code";
  code.readOnly = true;
  code.hidden = true;
  code.setAttribute("aria-label", "run code");
  for (const [key, label, tip] of model.get("items")) {
    const b = document.createElement("button");
    b.className = "jupyter-button widget-button paxos-share-" + key;
    b.textContent = label;
    b.title = tip;
    b.addEventListener("click", () => {
      note.textContent = key === "html" ? "drawing the player…" : "";
      model.send({ want: key });
    });
    bar.append(b);
  }
  bar.append(note);
  el.append(bar, code);
  model.on("msg:custom", async (msg, buffers) => {
    if (msg.op === "download") {
      const blob = new Blob([buffers[0]], { type: msg.mime });
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = msg.name;
      el.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      note.textContent = "saved " + msg.name;
    } else if (msg.op === "copy") {
      code.value = msg.text;
      code.hidden = false;
      try {
        await navigator.clipboard.writeText(msg.text);
        note.textContent = msg.what + " copied";
      } catch (e) {
        code.select();
        note.textContent = "select the " + msg.what + " below and copy it";
      }
    } else if (msg.op === "error") {
      note.textContent = "⚠ " + msg.text;
    }
    model.set("served", model.get("served") + 1);
    model.save_changes();
  });
}
export default { render };
"""

_CSS = """
.paxos-share-bar { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; }
.paxos-share-bar button { width: auto; padding: 0 10px; }
.paxos-share-note { font-size: 12px; opacity: 0.8; margin-left: 6px; }
.paxos-share-code { width: 100%; font-family: monospace; font-size: 12px; margin-top: 4px; }
"""


class ShareButtons(anywidget.AnyWidget):
    """Buttons of ``ITEMS``; ``provide(key)`` returns a ``Download`` or a ``Copy`` for each."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    _css = traitlets.Unicode(_CSS).tag(sync=True)
    items = traitlets.List([list(i) for i in ITEMS]).tag(sync=True)
    served = traitlets.Int(0).tag(sync=True)
    """How many answers the page has handled (the browser tests wait on it)."""

    def __init__(self, provide: Callable[[str], Download | Copy], **kwargs):
        super().__init__(**kwargs)
        self._provide = provide
        self.on_msg(self._message)

    def _message(self, _widget, content, _buffers) -> None:
        want = content.get("want") if isinstance(content, dict) else None
        if want not in {key for key, _, _ in ITEMS}:
            return  # not from this widget's front end
        try:
            answer = self._provide(want)
        except Exception as exc:  # the page says what went wrong; the kernel goes on
            self.send({"op": "error", "text": f"{type(exc).__name__}: {exc}"})
            return
        if isinstance(answer, Download):
            self.send({"op": "download", "name": answer.name, "mime": answer.mime},
                      [answer.data])
        else:
            self.send({"op": "copy", "text": answer.text, "what": answer.what})
