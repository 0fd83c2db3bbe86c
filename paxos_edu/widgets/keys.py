"""Presenter keys: step, go back, play and fork the dashboard from the keyboard or a clicker.

A presenter's clicker sends PageDown and PageUp; a teacher at a laptop uses the
arrows and Space. ``PresenterKeys`` is a small anywidget: its front end listens to
``keydown`` on the page, in the capture phase (before JupyterLab's own shortcuts,
so that R resets the run instead of turning the selected cell into a raw one),
and sends the action's name to the kernel; the dashboard performs it as if its
button had been clicked.

``scope="dashboard"`` (JupyterLab): only while the dashboard has the focus or was
the last thing clicked, so typing in a cell or using the notebook's keys is
untouched. ``scope="page"`` (the Voilà classroom view): anywhere on the page.
Keys are never taken from a text field or with Ctrl, Alt or Meta held; holding
→ or ← repeats, the other keys act once per press. ``?`` shows and hides the list of keys, in the page only.
"""

from __future__ import annotations

from collections.abc import Callable

import anywidget
import traitlets

KEYS = {
    "step": ("ArrowRight", " ", "PageDown"),
    "back": ("ArrowLeft", "PageUp"),
    "play": ("p", "P"),
    "fork": ("f", "F"),
    "reset": ("r", "R"),
}
"""Which ``KeyboardEvent.key`` values trigger each action (``?`` toggles the help)."""
HELP = (("→ Space PageDown", "Step (forward in the past)"), ("← PageUp", "Back"),
        ("P", "Play / Pause"), ("F", "Fork from here"), ("R", "Reset"), ("?", "these keys"))
SCOPES = ("dashboard", "page")

_ESM = """
const editable = (t) => t && t.closest && (t.isContentEditable
  || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.closest(".cm-editor"));

function render({ model, el }) {
  const keys = model.get("bindings");
  const action = {};
  for (const [name, list] of Object.entries(keys)) for (const k of list) action[k] = name;
  const root = () => el.closest(".paxos-dashboard") || el.parentElement || el;
  let armed = false;   // the dashboard was the last thing clicked

  el.classList.add("paxos-keys");
  const hint = document.createElement("div");
  hint.className = "paxos-keys-hint";
  hint.textContent = model.get("hint");
  const help = document.createElement("table");
  help.className = "paxos-keys-help";
  help.hidden = true;
  for (const [k, what] of model.get("help")) {
    const row = help.insertRow();
    row.insertCell().textContent = k;
    row.insertCell().textContent = what;
  }
  el.append(hint, help);

  const inside = (node) => node instanceof Node && root().contains(node);
  const onPointer = (e) => { armed = inside(e.target); };
  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || editable(e.target)) return;
    const name = e.key === "?" ? "help" : action[e.key];
    if (!name || (e.repeat && name !== "step" && name !== "back")) return;  // hold → to run on
    if (model.get("scope") === "dashboard" && !armed && !inside(document.activeElement)) return;
    e.preventDefault();
    e.stopPropagation();  // JupyterLab's shortcut handler must not see it as well
    if (name === "help") { help.hidden = !help.hidden; return; }
    model.set("pressed", model.get("pressed") + 1);
    model.save_changes();
    model.send({ action: name });
  };
  document.addEventListener("pointerdown", onPointer, true);
  document.addEventListener("keydown", onKey, true);
  return () => {
    document.removeEventListener("pointerdown", onPointer, true);
    document.removeEventListener("keydown", onKey, true);
  };
}
export default { render };
"""

_CSS = """
.paxos-keys-hint { font-size: 12px; opacity: 0.75; }
.paxos-keys-help { font-size: 14px; border-collapse: collapse; margin: 4px 0; }
.paxos-keys-help td { padding: 1px 10px 1px 0; }
.paxos-keys-help td:first-child { font-family: monospace; font-weight: bold; }
"""


class PresenterKeys(anywidget.AnyWidget):
    """The keys of ``KEYS``; each press calls ``on_key(action)`` in the kernel (see module doc)."""

    _esm = traitlets.Unicode(_ESM).tag(sync=True)
    _css = traitlets.Unicode(_CSS).tag(sync=True)
    bindings = traitlets.Dict({k: list(v) for k, v in KEYS.items()}).tag(sync=True)
    help = traitlets.List([list(row) for row in HELP]).tag(sync=True)
    hint = traitlets.Unicode("keys: → step · ← back · P play · F fork · R reset · ? help").tag(
        sync=True)
    scope = traitlets.Enum(SCOPES, default_value="dashboard").tag(sync=True)
    pressed = traitlets.Int(0).tag(sync=True)
    """How many keys the front end has sent (the browser tests wait on it)."""

    def __init__(self, on_key: Callable[[str], None], scope: str = "dashboard", **kwargs):
        if scope not in SCOPES:
            raise ValueError(f"scope={scope!r}: must be one of {', '.join(map(repr, SCOPES))}")
        super().__init__(scope=scope, **kwargs)
        self._on_key = on_key
        self.on_msg(self._message)

    def _message(self, _widget, content, _buffers) -> None:
        action = content.get("action") if isinstance(content, dict) else None
        if action in KEYS:  # anything else did not come from this widget's front end
            self._on_key(action)
