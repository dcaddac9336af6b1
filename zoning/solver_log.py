"""One solver log file from pieces (the main solve, each HiGHS block, each cut round)."""
from __future__ import annotations

import os
from pathlib import Path


def fold_logs(log_path: str | Path, pieces: list[tuple[str, str]]) -> None:
    """Append ``(header, path)`` pieces to one log file, removing each piece."""
    with open(log_path, "a", encoding="utf-8") as out:
        for header, path in pieces:
            out.write(f"\n===== {header} =====\n")
            try:
                out.write(Path(path).read_text(encoding="utf-8", errors="replace"))
                os.remove(path)
            except FileNotFoundError:
                pass
