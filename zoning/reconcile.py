"""Every pupil accounted for: pupils read -> pupils modelled, per level and per school (issue 17).

For the base year, each school's pupils as read (its ``enrolled_g*``, or its current zone's pupils
when the schools table gives none) must equal the pupils the ledger starts from; each level's pupils
living in the units must equal those the model counts; households read = counted + outside units +
unusable. A gap beyond rounding (half a pupil per school and level: the ledger's whole pupils keep
each school's total, :func:`zoning.projection.whole_pupils`) is an error that says
where the pupils went — never a pass. Plain tables in, plain tables out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import policy
from .errors import DataError, Problem

#: Rules of the schools' base enrollment (for the note in summaries and run.json).
RULES_ZH = {
    "schools": "各校基年在校生取自学校表（enrolled_g1…g9）",
    "zones": "学校表没有各年级在校生：各校基年在校生 = 现行片区内各单元的学生（学段总数平均分到各年级）",
}
_HALF = 0.5


def _level_sum(frame: pd.DataFrame, prefix: str, level: str) -> np.ndarray:
    cols = [f"{prefix}{g}" for g in policy.LEVEL_GRADES[level]]
    return np.column_stack([pd.to_numeric(frame[c], errors="coerce").fillna(0).to_numpy(float)
                            if c in frame.columns else np.zeros(len(frame)) for c in cols]).sum(axis=1) \
        if len(frame) else np.zeros(0)


@dataclass
class Reconciliation:
    """The accounts: ``levels`` (level, units_read, units_modelled, in_zoned_units, schools_read,
    schools_modelled), ``schools`` (school_id, name, level, read, modelled, gap), ``households``
    (read, counted, outside, unusable) and the ``gaps`` found (Chinese sentences)."""

    rule: str
    levels: pd.DataFrame
    schools: pd.DataFrame
    households: dict | None = None
    gaps: list = field(default_factory=list)

    @property
    def balanced(self) -> bool:
        return not self.gaps

    def lines(self) -> list[str]:
        """Chinese summary lines (one per level, households, the rule)."""
        out = [RULES_ZH.get(self.rule, self.rule)]
        for r in self.levels.itertuples():
            zh = policy.LEVEL_NAMES_ZH[r.level]
            text = f"{zh}：单元读入 {r.units_read:,.0f} 人"
            if not pd.isna(r.units_modelled):
                text += f" → 模型计入 {r.units_modelled:,.0f} 人"
            text += f"；学校基年读入 {r.schools_read:,.0f} 人"
            if not pd.isna(r.schools_modelled):
                text += f" → 台账基年 {r.schools_modelled:,.0f} 人"
            out.append(text)
        if self.households:
            h = self.households
            out.append(f"住户儿童：读入 {h['read']:,} = 计入单元 {h['counted']:,} + 单元外 {h['outside']:,}"
                       f" + 无法归类 {h['unusable']:,}")
        out += [f"不符：{g}" for g in self.gaps]
        return out

    def as_dict(self) -> dict:
        """For ``run.json`` (numbers rounded to 0.01)."""
        def clean(v):
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 2)
        return {
            "rule": self.rule,
            "levels": [{"level": r.level, **{k: clean(getattr(r, k)) for k in
                                             ("units_read", "units_modelled", "in_zoned_units",
                                              "schools_read", "schools_modelled")}}
                       for r in self.levels.itertuples()],
            "schools": [{"school_id": r.school_id, "level": r.level, "read": clean(r.read),
                         "modelled": clean(r.modelled)} for r in self.schools.itertuples()],
            "households": self.households,
            "balanced": self.balanced,
        }

    def check(self) -> "Reconciliation":
        """Raise :class:`DataError` naming every gap (never a pass); returns self when balanced."""
        if self.gaps:
            raise DataError([Problem("人数核对", None, None, None, g,
                                     "核对学校表的在校生、片区单元的现行片区和学生人数；若数据无误，请把此信息报告给维护者")
                             for g in self.gaps])
        return self


def reconcile(schools: pd.DataFrame, units: pd.DataFrame, *, rule: str = "schools",
              ledger: pd.DataFrame | None = None, base_year: int | None = None,
              residents: np.ndarray | None = None, households: dict | None = None,
              levels=policy.LEVELS) -> Reconciliation:
    """Pupils read -> pupils modelled for the base year.

    Parameters
    ----------
    schools : DataFrame
        ``school_id, name, level, enrolled_g1..g9`` as the model starts from (after the base
        enrollment rule).
    units : DataFrame
        ``unit_id, name, students_g1..g9, primary_school, junior_school`` as read.
    rule : {"schools", "zones"}
        Where the schools' base enrollment came from.
    ledger : DataFrame, optional
        ``school_id, year, students_g1..g9``; its ``base_year`` rows are the pupils modelled.
    base_year : int, optional
        Required with ``ledger``.
    residents : array (U, 9), optional
        The pupils by unit and grade the model counts (``ZoningProblem.residents``).
    households : dict, optional
        ``read, counted, outside, unusable`` of the household aggregation.
    levels : iterable of str
        Levels to account for.
    """
    gaps: list[str] = []
    level_rows, school_rows = [], []
    base = None
    if ledger is not None and len(ledger):
        years = pd.to_numeric(ledger["year"], errors="coerce")
        base = ledger[years == int(base_year)].copy()
        base["school_id"] = base["school_id"].astype(str)
        base = base.set_index("school_id")
    sid = schools["school_id"].astype(str).tolist()
    for level in levels:
        unit_read = _level_sum(units, "students_g", level)
        col = "primary_school" if level == "primary" else "junior_school"
        zoned = units[col].notna().to_numpy() if col in units.columns else np.zeros(len(units), bool)
        modelled_units = np.nan
        if residents is not None:
            modelled_units = float(np.asarray(residents)[:, [g - 1 for g in policy.LEVEL_GRADES[level]]].sum())
            if abs(modelled_units - unit_read.sum()) > _HALF:
                gaps.append(f"{policy.LEVEL_NAMES_ZH[level]}：单元读入 {unit_read.sum():,.1f} 人，模型计入 "
                            f"{modelled_units:,.1f} 人")
        read_s = _level_sum(schools, "enrolled_g", level)
        serves = np.array([level in policy.SERVES.get(lv, ()) for lv in schools["level"]], dtype=bool)
        modelled_s = np.full(len(schools), np.nan)
        if base is not None:
            for k, s in enumerate(sid):
                if s in base.index:
                    modelled_s[k] = float(_level_sum(base.loc[[s]], "students_g", level).sum())
                elif serves[k]:
                    modelled_s[k] = 0.0
        for k, s in enumerate(sid):
            if not serves[k] and read_s[k] == 0:
                continue
            gap = modelled_s[k] - read_s[k] if not np.isnan(modelled_s[k]) else np.nan
            school_rows.append({"school_id": s, "name": schools["name"].iat[k], "level": level,
                                "read": read_s[k], "modelled": modelled_s[k], "gap": gap})
            if not np.isnan(gap) and abs(gap) > _HALF:
                gaps.append(f"{schools['name'].iat[k]}（{s}）{policy.LEVEL_NAMES_ZH[level]}基年在校生读入 "
                            f"{read_s[k]:,.1f} 人，台账为 {modelled_s[k]:,.1f} 人")
        in_zoned = float(unit_read[zoned].sum())
        if rule == "zones" and unit_read.sum() - in_zoned > _HALF:
            lost = [f"{u}（{n}）" for u, n, z, c in zip(units["unit_id"], units.get("name", units["unit_id"]),
                                                      zoned, unit_read) if not z and c > 0]
            gaps.append(f"{policy.LEVEL_NAMES_ZH[level]}：{unit_read.sum() - in_zoned:,.1f} 名学生所在单元没有现行"
                        f"{policy.LEVEL_NAMES_ZH[level]}片区，不在任何学校的基年在校生中："
                        + "、".join(lost[:10]) + ("等" if len(lost) > 10 else ""))
        if rule == "zones" and abs(read_s[serves].sum() - in_zoned) > _HALF:
            gaps.append(f"{policy.LEVEL_NAMES_ZH[level]}：现行片区内学生 {in_zoned:,.1f} 人，各校基年在校生合计 "
                        f"{read_s[serves].sum():,.1f} 人（片区指向了不招收该学段的学校？）")
        level_rows.append({"level": level, "units_read": float(unit_read.sum()), "units_modelled": modelled_units,
                           "in_zoned_units": in_zoned, "schools_read": float(read_s[serves].sum()),
                           "schools_modelled": float(np.nansum(modelled_s[serves])) if base is not None else np.nan})
    if households is not None:
        h = {k: int(households[k]) for k in ("read", "counted", "outside", "unusable")}
        if h["read"] != h["counted"] + h["outside"] + h["unusable"]:
            gaps.append(f"住户儿童读入 {h['read']} 名，计入 {h['counted']} + 单元外 {h['outside']} + 无法归类 "
                        f"{h['unusable']} 不等")
        households = h
    return Reconciliation(rule, pd.DataFrame(level_rows), pd.DataFrame(school_rows), households, gaps)

