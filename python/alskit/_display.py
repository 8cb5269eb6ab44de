"""How alskit's result types show themselves in a REPL: a title line, then the first rows."""

from __future__ import annotations

from typing import Any

#: Rows shown by a ``repr`` before it says how many more there are.
REPR_ROWS = 10


def table_repr(title: str, head: Any, total: int) -> str:
    """``title``, then ``head`` (a pandas DataFrame of the first rows) as aligned text, then
    how many rows were left out of ``total``."""
    if total == 0:
        return title
    lines = [title, head.to_string(index=False, float_format=lambda v: f"{v:.4f}")]
    if total > len(head):
        lines.append(f"... {total - len(head)} more rows")
    return "\n".join(lines)
