"""The bundled, made-up Pingluo sample data folder (SPEC §6).

The files in ``data/`` are written by :mod:`geodata.sample.generate` (seeded, byte-identical on
regeneration). They are illustrative only: shaped like 平罗县 but invented, not official data.
"""
from __future__ import annotations

from pathlib import Path

#: Shown on every map and report built from the sample.
SAMPLE_NOTICE = "示例数据：本数据为按平罗县概况虚构的示意数据，不是官方数据。"
SAMPLE_NOTICE_EN = "Sample data: made up to resemble Pingluo County; not official data."


def sample_dir() -> Path:
    """The folder of the bundled sample data (SPEC §2 layout).

    Returns
    -------
    pathlib.Path
        ``geodata/sample/data`` inside the installed package.
    """
    return Path(__file__).resolve().parent / "data"
