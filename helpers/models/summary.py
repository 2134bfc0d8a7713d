"""A model's summary as plain ASCII text that keeps every column on a printed page.

Keras 3's ``model.summary()`` draws its table with rich, which sizes its console to 80 columns when no terminal is
attached, whatever ``line_length`` says: the ``Param #`` or ``Connected to`` column silently vanishes. Its
box-drawing characters also have no glyphs in nbconvert's default LaTeX fonts (JupyterLab's PDF export). This table
has Keras' columns and totals, is drawn with ``+ - | =`` and wraps long cells instead of cutting them, within
``width`` characters (80: a line of an A4 or Letter page in nbconvert's default 11 pt template).
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = ["summary_text"]


def tensor_sources(node) -> list[str]:
    """Names of the layers whose outputs feed a call, from ``get_config()``'s ``inbound_nodes`` (public)."""
    found = []
    if isinstance(node, dict):
        history = node.get("config", {}).get("keras_history") if node.get("class_name") == "__keras_tensor__" else None
        if history:
            name, node_index, tensor_index = history
            found.append(name if (node_index, tensor_index) == (0, 0) else f"{name}[{node_index}][{tensor_index}]")
        else:
            for value in node.values():
                found.extend(tensor_sources(value))
    elif isinstance(node, list | tuple):
        for value in node:
            found.extend(tensor_sources(value))
    return found


def _rows(model) -> tuple[list[tuple[str, str, str, list[str]]], bool]:
    """One row per layer (name, type, output shape, param count, inputs), and whether it is a plain chain."""
    config = {layer["name"]: layer for layer in model.get_config().get("layers", [])}
    rows, consumers = [], {}
    for layer in model.layers:
        inputs = tensor_sources(config.get(layer.name, {}).get("inbound_nodes", []))
        for source in inputs:
            consumers[source] = consumers.get(source, 0) + 1
        try:
            shape = str(tuple(layer.output.shape))
        except (AttributeError, ValueError):  # a layer called more than once has no single output
            shape = "?"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape, f"{layer.count_params():,}", inputs))
    chain = all(len(r[3]) <= 1 for r in rows) and all(n <= 1 for n in consumers.values())
    return rows, chain


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters, breaking at spaces and after underscores (inside a word only when a
    piece is still too long); continuation lines are indented by two spaces."""
    pieces = [p for word in text.split(" ") for p in re.findall(r"[^_]*_|[^_]+", word)] if text else []
    lines, current = [], ""
    for piece in pieces:
        joiner = "" if not current or current.endswith("_") else " "
        if current.strip() and len(current) + len(joiner) + len(piece) > width:
            lines.append(current)
            current, joiner = "  ", ""
        current += joiner + piece
        while len(current) > width:
            lines.append(current[:width])
            current = "  " + current[width:]
    return lines + [current] if current or not lines else lines


def _layer_cell(text: str, width: int) -> list[str]:
    """``name (Type)`` on one line when it fits, else the name and the type on lines of their own (as Keras does)."""
    if len(text) <= width:
        return [text]
    name, _, kind = text.rpartition(" (")
    return _wrap(name, width) + _wrap(f"({kind}", width)


def summary_text(model, width: int = 80) -> str:
    """The model's summary as ASCII text of at most ``width`` characters a line: Layer (type), Output Shape,
    Param # and, for models that are not a plain chain of layers, Connected to; then the parameter totals."""
    rows, chain = _rows(model)
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    inner = width - (3 * len(headers) + 1)  # "| " + " | " between cells + " |"
    # Shapes and counts keep their natural width; names share the rest (and wrap, as Keras' do).
    shape_w = max(len(headers[1]), *(len(r[1]) for r in rows))
    params_w = max(len(headers[2]), *(len(r[2]) for r in rows))
    names = inner - shape_w - params_w
    widths = [names, shape_w, params_w] if chain else [names - names // 2, shape_w, params_w, names // 2]

    def border(fill: str) -> str:
        return "+" + "+".join(fill * (w + 2) for w in widths) + "+"

    def line(cells: list[list[str]], right: set[int]) -> list[str]:
        height = max(len(c) for c in cells)
        out = []
        for i in range(height):
            parts = [(c[i] if i < len(c) else "") for c in cells]
            parts = [p.rjust(w) if j in right else p.ljust(w) for j, (p, w) in enumerate(zip(parts, widths))]
            out.append("| " + " | ".join(parts) + " |")
        return out

    text = [f'Model: "{model.name}"', border("-"), *line([[h] for h in headers], {2}), border("=")]
    for layer, shape, params, inputs in rows:
        cells = [_layer_cell(layer, widths[0]), _wrap(shape, widths[1]), [params]]
        if not chain:
            cells.append([piece for name in inputs for piece in _wrap(name, widths[3])] or ["-"])
        text += line(cells, {2})
    text.append(border("-"))

    def size(weights) -> tuple[int, int]:
        return (sum(math.prod(w.shape) for w in weights), sum(math.prod(w.shape) * _itemsize(w.dtype) for w in weights))

    total, trainable, frozen = size(model.weights), size(model.trainable_weights), size(model.non_trainable_weights)
    for label, (count, nbytes) in (("Total", total), ("Trainable", trainable), ("Non-trainable", frozen)):
        text.append(f"{label} params: {count:,} ({_human_bytes(nbytes)})")
    return "\n".join(text) + "\n"


def _itemsize(dtype) -> int:
    try:
        return np.dtype(str(dtype)).itemsize
    except TypeError:
        return 4


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n:.2f} GB"
