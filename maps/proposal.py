"""A proposal folder as the maps show it: the files read by :mod:`geodata.proposal` (the one
reader of proposal folders) plus the display pieces (school colours, the proposal's fingerprint,
the data-source line).

Required: ``assignments.csv``, ``zones.geojson``, ``units.geojson``, ``schools.geojson``. Everything
else (``ledger.csv``, ``metrics.json``, ``run.json``, ``barriers/roads/routes.geojson``) is optional
and the maps leave out what is missing. With a second zone change the maps draw the final map
(``assignments``); ``zone_maps`` keeps every map's rows.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, fields
from pathlib import PureWindowsPath

from geodata.proposal import LEDGER, ProposalFiles, read_proposal
from maps.palette import color_for, school_colors

log = logging.getLogger(__name__)

LEVEL_ZH = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}
SAMPLE_NOTICE = "示例数据，仅供演示，非官方数据"


@dataclass
class Proposal(ProposalFiles):
    """The content of one proposal folder as :class:`geodata.proposal.ProposalFiles` defines it
    (``assignments``: the zones as finally drawn; ``zone_maps``: every map's rows; the layers in
    WGS84), plus the school colours of its maps."""

    colors: dict = field(default_factory=dict)

    def color(self, school_id) -> str:
        """The school's colour on this proposal's maps (see :func:`maps.palette.school_colors`)."""
        return self.colors.get(str(school_id)) or color_for(school_id)

    @property
    def is_sample(self) -> bool:
        """True when metrics.json or run.json mark the proposal as built from the sample."""
        return bool(self.metrics.get("is_sample")) or str(self.run.get("source", "")) == "sample"

    @property
    def name(self) -> str:
        """The proposal's name: recorded in run.json (the folder name it was written under)."""
        return str(self.run.get("name") or self.path.name)

    @property
    def levels(self) -> list[str]:
        """Zoning levels present in the proposal, primary first."""
        present = set(self.zones["level"]) | set(self.assignments["level"])
        return [lv for lv in ("primary", "junior") if lv in present]

    @property
    def fingerprint(self) -> str:
        """A short code of the proposal's content (which unit goes to which school, per level).

        Shown on the pages instead of the folder name or the date, so that the same proposal gives
        the same page whatever its folder is called and whenever the page is built.
        """
        every = self.zone_maps
        cols = [c for c in ("unit_id", "level", "school_id") if c in every.columns]
        rows = sorted("\t".join("" if v is None else str(v) for v in r)
                      for r in every[cols].itertuples(index=False, name=None))
        return hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()[:8]

    def source_line(self) -> str:
        """The data-source line shown on every map (Chinese): no path, folder name or date."""
        src = self.run.get("source") or "未注明"
        if src == "sample":
            src = "内置平罗县示例数据"
        else:  # the folder's name only: no path of the planner's machine on a published page
            src = PureWindowsPath(str(src)).name or str(src)
        parts = [f"数据来源：{src}"]
        if self.metrics.get("status"):
            parts.append(f"求解状态：{self.metrics.get('status_zh') or self.metrics['status']}")
        parts.append(f"方案编号：{self.fingerprint}")
        return "；".join(parts)


def load_proposal(proposal_dir) -> Proposal:
    """Read a proposal folder for drawing (through :func:`geodata.proposal.read_proposal`).

    Parameters
    ----------
    proposal_dir : str or Path
        The folder written by ``zoning plan`` (or by hand in the same format).

    Returns
    -------
    Proposal

    Raises
    ------
    FileNotFoundError
        When the folder does not exist.
    DataError
        With every missing file or column and every bad row, in Chinese.
    """
    f = read_proposal(proposal_dir)
    if f.ledger is None:
        log.warning("%s 中没有 %s：学校弹窗中不显示逐年台账", f.path, LEDGER)
    ids = (set(f.schools["school_id"].dropna()) | set(f.zones["school_id"].dropna())
           | set(f.assignments["school_id"].dropna()))
    return Proposal(**{k.name: getattr(f, k.name) for k in fields(f)}, colors=school_colors(ids))
