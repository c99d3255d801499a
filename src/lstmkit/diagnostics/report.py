"""A self-contained HTML page of a :class:`TextRecording`: heat maps over the tokens, values on hover.

Everything is inline (data as JSON in a ``<script>`` element, CSS and a little JavaScript), so the file
opens offline from disk, with no server and no network. Hovering a cell shows the token, the unit and
every recorded quantity there; hovering a token or a unit label highlights its column or row.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from lstmkit.diagnostics.recorder import GATE_DESCRIPTIONS, TextRecording, most_active_units
from lstmkit.io import atomic_write

__all__ = ["html_report", "write_html_report"]

_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.05em; margin: 1.2em 0 0.3em; }
.grid { border-collapse: collapse; font-size: 12px; }
.grid td { width: 26px; height: 14px; padding: 0; border: 1px solid #fff; }
.grid th { font-weight: normal; padding: 0 4px; cursor: default; }
.grid th.token { font-size: 14px; padding: 2px 3px; }
.grid th.unit { text-align: right; color: #555; }
.grid td.hl, .grid th.hl { outline: 2px solid #f60; }
#tooltip { position: fixed; display: none; background: #fffbe8; border: 1px solid #999; padding: 6px 8px;
           font-size: 12px; pointer-events: none; white-space: pre; box-shadow: 2px 2px 4px #0003; }
.meta { color: #555; }
.legend { display: flex; gap: 2em; align-items: center; font-size: 12px; color: #555; margin: 0.6em 0; }
.legend span.bar { display: inline-block; width: 140px; height: 12px; vertical-align: middle; margin: 0 6px;
                   border: 1px solid #ccc; }
"""

# What the colours of the heat maps mean (the same scales as colour() in _SCRIPT).
_LEGEND = """<div class="legend">
<div>gates (input, forget, output, reset, update):
 0<span class="bar" style="background: linear-gradient(to right, rgb(255,255,255), rgb(0,120,255))"></span>1</div>
<div>states (cell, hidden, candidate):
 &minus;max<span class="bar" style="background: linear-gradient(to right, rgb(0,0,255), rgb(255,255,255),
 rgb(255,0,0))"></span>+max, max = the largest |value| of that map</div>
</div>"""

_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById("recording").textContent);
  const tooltip = document.getElementById("tooltip");
  const root = document.getElementById("heatmaps");
  const gates = new Set(["input", "forget", "output", "reset", "update"]);
  function colour(name, v, limit) {
    if (gates.has(name)) {  // gates lie in [0, 1]: white to dark blue
      const s = Math.round(255 * (1 - v));
      return "rgb(" + s + "," + Math.round(120 + 135 * (1 - v)) + ",255)";
    }
    const x = Math.max(-1, Math.min(1, v / limit));  // states: blue (negative) to red (positive)
    const a = Math.round(255 * (1 - Math.abs(x)));
    return x >= 0 ? "rgb(255," + a + "," + a + ")" : "rgb(" + a + "," + a + ",255)";
  }
  function describe(layer, t, u) {
    const q = data.layers[layer];
    let text = "token " + (t + 1) + ": " + data.tokens[t] + "\\nunit " + u + " (" + layer + ")";
    for (const name of data.order) {
      if (q[name]) text += "\\n" + name + " = " + q[name][t][u].toFixed(4);
    }
    return text;
  }
  function show(event, text) {
    tooltip.textContent = text;
    tooltip.style.display = "block";
    tooltip.style.left = (event.clientX + 14) + "px";
    tooltip.style.top = (event.clientY + 14) + "px";
  }
  function hide() { tooltip.style.display = "none"; }
  function highlight(table, selector, on) {
    for (const el of table.querySelectorAll(selector)) el.classList.toggle("hl", on);
  }
  for (const layer of Object.keys(data.layers)) {
    const q = data.layers[layer];
    const units = data.units[layer];
    for (const name of data.order) {
      if (!q[name]) continue;
      const heading = document.createElement("h2");
      heading.textContent = layer + ": " + data.descriptions[name];
      root.appendChild(heading);
      let limit = 1e-12;
      for (const row of q[name]) for (const u of units) limit = Math.max(limit, Math.abs(row[u]));
      const table = document.createElement("table");
      table.className = "grid";
      table.dataset.layer = layer;
      table.dataset.quantity = name;
      const head = table.insertRow();
      head.appendChild(document.createElement("th"));
      data.tokens.forEach(function (token, t) {
        const th = document.createElement("th");
        th.className = "token";
        th.textContent = token;
        th.addEventListener("mouseenter", function (e) {
          highlight(table, "[data-t='" + t + "']", true);
          show(e, "token " + (t + 1) + ": " + token + " (id " + data.token_ids[t] + ")");
        });
        th.addEventListener("mouseleave", function () { highlight(table, "[data-t='" + t + "']", false); hide(); });
        head.appendChild(th);
      });
      for (const u of units) {
        const row = table.insertRow();
        const label = document.createElement("th");
        label.className = "unit";
        label.textContent = "unit " + u;
        label.addEventListener("mouseenter", function (e) {
          highlight(table, "[data-u='" + u + "']", true);
          const values = q[name].map(function (r) { return r[u].toFixed(2); }).join(" ");
          show(e, name + ", unit " + u + " over the tokens:\\n" + values);
        });
        label.addEventListener("mouseleave", function () { highlight(table, "[data-u='" + u + "']", false); hide(); });
        row.appendChild(label);
        q[name].forEach(function (values, t) {
          const cell = row.insertCell();
          cell.dataset.t = t;
          cell.dataset.u = u;
          cell.style.background = colour(name, values[u], limit);
          cell.addEventListener("mouseenter", function (e) { show(e, describe(layer, t, u)); });
          cell.addEventListener("mousemove", function (e) { show(e, describe(layer, t, u)); });
          cell.addEventListener("mouseleave", hide);
        });
      }
      root.appendChild(table);
    }
  }
})();
"""


def _whose(recording) -> str:
    """Whose gates an ensemble's page shows: its first network's."""
    return f" of the first of the {recording.members} networks" if recording.members > 1 else ""


def html_report(recording: TextRecording, units: int = 16, layers: Sequence[str] | None = None) -> str:
    """The page as a string: the ``units`` most active units of each layer and direction, every quantity."""
    names = list(layers) if layers is not None else list(recording.layers)
    unknown = [n for n in names if n not in recording.layers]
    if unknown:
        raise ValueError(f"layers {unknown} were not recorded; recorded: {sorted(recording.layers)}")
    payload = {
        "tokens": recording.tokens,
        "token_ids": recording.token_ids,
        "order": [q for q in GATE_DESCRIPTIONS if any(q in recording.layers[n] for n in names)],
        "descriptions": GATE_DESCRIPTIONS,
        "units": {n: most_active_units(recording.layers[n], units) for n in names},
        "layers": {
            n: {q: [[round(float(v), 5) for v in row] for row in a] for q, a in recording.layers[n].items()}
            for n in names
        },
    }
    # "</" inside a <script> element would end it early; JSON allows "<\/" for the same string.
    data = json.dumps(payload, ensure_ascii=False).replace("</", "<\\/")
    probabilities = ", ".join(f"{html.escape(k)} {v:.3f}" for k, v in recording.probabilities.items())
    return f"""<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>lstmkit inspect: {html.escape(recording.text[:60])}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{html.escape(recording.text)}</h1>
<p class="meta">Prediction of {html.escape(recording.predicted_by)}: <b>{html.escape(recording.label)}</b>
({probabilities}). The gates are the {html.escape(recording.cell)} layer's{_whose(recording)}.
Rows: the {units} units whose state varies most over the text; columns: tokens.
Hover a square for every value at that token and unit, a token or a unit label to highlight it.</p>
{_LEGEND}
<div id="heatmaps"></div>
<div id="tooltip"></div>
<script type="application/json" id="recording">{data}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_html_report(recording: TextRecording, path: str | Path, units: int = 16) -> Path:
    """Write :func:`html_report` to ``path`` (UTF-8, atomically)."""
    text = html_report(recording, units)
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def inspect_run(run_dir: str | Path, text: str, out_dir: str | Path | None = None, units: int = 16) -> dict:
    """Record ``text`` through the trained run in ``run_dir``; write ``inspect.html`` and ``gates*.png``.

    ``out_dir`` defaults to ``RUN/inspect``. Returns the recording and the paths written.
    """
    from lstmkit.diagnostics.recorder import plot_gate_heatmaps, record_text
    from lstmkit.errors import RunDirectoryError
    from lstmkit.runs import run_task
    from lstmkit.tasks import sentiment

    task = run_task(run_dir)
    if task != sentiment.NAME:
        raise RunDirectoryError(f"{run_dir} holds a {task!r} run; inspect reads sentiment runs")
    recording = record_text(sentiment.load(run_dir), text)
    out_dir = Path(out_dir) if out_dir is not None else Path(run_dir) / "inspect"
    figures = [
        plot_gate_heatmaps(
            recording,
            out_dir / f"gates_{layer}.png",
            layer=layer,
            units=most_active_units(recording.layers[layer], units),
        )
        for layer in recording.layers
    ]
    page = write_html_report(recording, out_dir / "inspect.html", units)
    return {"recording": recording, "html": page, "figures": figures}
