"""Stable school colours: a school keeps its colour across proposals and maps.

The colour is a hash of the school id (not Python's salted ``hash``) into a fixed palette of
distinguishable colours (Tableau 20 without the greys), so two runs, two proposals and two
machines give the same school the same colour.
"""
from __future__ import annotations

import hashlib

#: Distinguishable colours: Tableau 20 without its greys, then six dark, saturated colours from
#: Kelly's list of maximum contrast (yellow, brown, olive, rust, navy, wine).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2",
    "#dbdb8d", "#9edae5", "#f3c300", "#654522", "#2b3d26", "#882d17", "#00429d", "#93003a",
)


def color_for(school_id) -> str:
    """The colour of a school.

    Parameters
    ----------
    school_id : str or int
        The school's id (学校代码); ``123`` and ``"123"`` give the same colour.

    Returns
    -------
    str
        ``"#rrggbb"``, one of :data:`PALETTE`.
    """
    return PALETTE[_slot(school_id)]


def _slot(school_id) -> int:
    digest = hashlib.sha256(str(school_id).strip().encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % len(PALETTE)


def school_colors(school_ids) -> dict[str, str]:
    """Colours for a set of schools, without two schools sharing one while the palette lasts.

    Each school gets :func:`color_for` unless a school with a smaller id already took that colour;
    it then takes the next free colour of the palette. The result depends only on the set of ids,
    so the maps of every proposal built from the same schools file colour each school alike.

    Parameters
    ----------
    school_ids : iterable
        All schools of the data (not only those with a zone), e.g. schools.geojson's ids.

    Returns
    -------
    dict
        school id (str) -> ``"#rrggbb"``.
    """
    ids = sorted({str(s).strip() for s in school_ids})
    taken: set[int] = set()
    out = {}
    for sid in ids:
        slot = _slot(sid)
        if len(taken) < len(PALETTE):
            while slot in taken:
                slot = (slot + 1) % len(PALETTE)
        taken.add(slot)
        out[sid] = PALETTE[slot]
    return out
