"""One solver log text from pieces (the main solve, each HiGHS block, each cut round).

Nothing here touches a file: the model returns the text (:attr:`zoning.model.Solution.log`) and the
plan pipeline writes it through :func:`geodata.proposal.write_solver_log`.
"""
from __future__ import annotations


def fold_logs(pieces: list[tuple[str, str]]) -> str:
    """The ``(header, text)`` pieces as one text, each under a ``===== header =====`` line."""
    return "".join(f"\n===== {header} =====\n{text}" for header, text in pieces)
