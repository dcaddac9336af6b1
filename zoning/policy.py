"""Policy numbers of SPEC §5, in one place.

Sources: 教督〔2017〕6号 (县域义务教育优质均衡发展督导评估办法) for the class and school size
limits and the resource indicators; 国发〔2016〕40号 for the 大班额/超大班额 categories.
A scenario or a school's own ``size_limit`` / ``class_limit`` column overrides them.
"""

import numpy as np

LEVELS = ("primary", "junior")
SCHOOL_LEVELS = ("primary", "junior", "nine_year")

#: Grades taught by each kind of school.
SCHOOL_GRADES = {
    "primary": tuple(range(1, 7)),
    "junior": tuple(range(7, 10)),
    "nine_year": tuple(range(1, 10)),
}
#: Grades of each zoning level, and the entering grade of that level.
LEVEL_GRADES = {"primary": tuple(range(1, 7)), "junior": tuple(range(7, 10))}
ENTRY_GRADE = {"primary": 1, "junior": 7}

#: Which zoning levels a school serves.
SERVES = {"primary": ("primary",), "junior": ("junior",), "nine_year": ("primary", "junior")}

#: Students per class (班额).
CLASS_LIMIT = {"primary": 45, "junior": 50}
#: Students per school (校额), compulsory part.
SIZE_LIMIT = {"primary": 2000, "junior": 2000, "nine_year": 2500}

#: 大班额 56–65, 超大班额 66 and more.
LARGE_CLASS_MIN = 56
HUGE_CLASS_MIN = 66

#: Share of new entrants that must live in the zone (就近入学率).
NEARBY_RATE_MIN = {"primary": 1.0, "junior": 0.95}

#: Service radius of the design guidance, metres of walk, and rural trip minutes.
SERVICE_RADIUS_M = {"primary": 500, "junior": 1000}
RURAL_TRIP_MINUTES = 30

#: 优质均衡 resource indicators: (column(s), threshold primary, threshold junior, unit).
INDICATORS = {
    "teachers_above_degree": (4.2, 5.3, "人/百名学生"),
    "backbone_teachers": (1.0, 1.0, "人/百名学生"),
    "pe_art_teachers": (0.9, 0.9, "人/百名学生"),
    "teaching_area_m2": (4.5, 5.8, "平方米/生"),
    "sports_area_m2": (7.5, 10.2, "平方米/生"),
    "equipment_value_yuan": (2000.0, 2500.0, "元/生"),
    "multimedia_classrooms": (2.3, 2.4, "间/百名学生"),
}
INDICATOR_NAMES = {
    "teachers_above_degree": "高于规定学历教师数",
    "backbone_teachers": "县级及以上骨干教师数",
    "pe_art_teachers": "体育、艺术专任教师数",
    "teaching_area_m2": "生均教学及辅助用房面积",
    "sports_area_m2": "生均体育运动场馆面积",
    "equipment_value_yuan": "生均教学仪器设备值",
    "multimedia_classrooms": "网络多媒体教室数",
}
#: Per-100-students indicators (the rest are per student).
PER_100 = {"teachers_above_degree", "backbone_teachers", "pe_art_teachers", "multimedia_classrooms"}
INDICATOR_MIN_MET = 6
INDICATOR_REST_SHARE = 0.85
DIFFERENCE_COEFFICIENT_MAX = {"primary": 0.50, "junior": 0.45}
#: One music room and one art room per this many classes (or part of it).
CLASSES_PER_ARTS_ROOM = 12

LEVEL_NAMES_ZH = {"primary": "小学", "junior": "初中", "nine_year": "九年一贯制"}


def class_limit_for_grade(grade: int) -> int:
    """Class limit of a grade (45 in grades 1–6, 50 in grades 7–9)."""
    return CLASS_LIMIT["primary"] if grade <= 6 else CLASS_LIMIT["junior"]


def class_category(size: int) -> str:
    """'normal', 'large' (大班额, 56–65) or 'huge' (超大班额, 66+)."""
    if size >= HUGE_CLASS_MIN:
        return "huge"
    if size >= LARGE_CLASS_MIN:
        return "large"
    return "normal"


# ------------------------------------------------------------------------------ rule functions
# Each rule once: the ledger (zoning.projection), the checker (zoning.checks), the optimizer's report
# (zoning.explain, zoning.metrics) and the autumn check (zoning.autumn) call these.

#: Roster entry kinds (学籍 ``entry``) and every spelling offices use for them.
ENTRIES = ("new", "transfer_in", "continuing")
ENTRY_ALIASES = {
    "new": "new", "新生": "new", "新入学": "new", "招生": "new",
    "transfer_in": "transfer_in", "transfer": "transfer_in", "转入": "transfer_in",
    "转学": "transfer_in", "插班": "transfer_in",
    "continuing": "continuing", "在读": "continuing", "升级": "continuing", "在籍": "continuing",
}
ENTRY_NAMES_ZH = {"new": "新生", "transfer_in": "转入", "continuing": "在读"}


def entry_kind(value) -> str | None:
    """The roster entry kind (``new``, ``transfer_in``, ``continuing``) of a spelling; None when
    unknown or blank. ``插班`` is a transfer."""
    if value is None:
        return None
    key = str(value).strip()
    return ENTRY_ALIASES.get(key, ENTRY_ALIASES.get(key.lower()))


def _given(value) -> bool:
    return value is not None and value == value  # NaN is "not given"


def class_limit(grade: int, override=None) -> float:
    """Class limit of ``grade`` at a school: its own ``class_limit`` when given, else 45 in grades
    1–6 and 50 in grades 7–9 (a nine-year school has both)."""
    return float(override) if _given(override) else float(class_limit_for_grade(grade))


def class_limits(override=None) -> list[float]:
    """Class limits of grades 1–9 at a school (``override``: its ``class_limit``, NaN/None if none)."""
    return [class_limit(g, override) for g in range(1, 10)]


def class_sizes(pupils: float, classes: float) -> tuple[int, int, int]:
    """Largest class, classes of 56–65 (大班额) and of 66+ (超大班额) when ``pupils`` (rounded) fill
    ``classes`` classes as evenly as possible."""
    n, c = int(round(pupils)), int(classes)
    if c <= 0 or n <= 0:
        return 0, 0, 0
    q, r = divmod(n, c)
    sizes = ((q + 1, r), (q, c - r))
    largest = q + 1 if r else q
    large = sum(cnt for size, cnt in sizes if class_category(size) == "large")
    huge = sum(cnt for size, cnt in sizes if class_category(size) == "huge")
    return largest, large, huge


def over_class_limit(pupils: float, classes: float, limit: float) -> bool:
    """A grade's largest class is over its class limit."""
    return class_sizes(pupils, classes)[0] > limit


def entry_year(grade: int, year: int) -> int:
    """The intake year of the cohort that is in ``grade`` in ``year`` (grade 1 or 7 at entry)."""
    return year - (grade - ENTRY_GRADE["primary" if grade <= 6 else "junior"])


def is_new_cohort(grade: int, year: int, first_intake: int) -> bool:
    """The cohort in ``grade`` in ``year`` is placed by the new zones: it entered (grade 1 or 7) at
    or after ``first_intake``, the first intake the new zones apply to (``Scenario.intake_year``).

    The one reference of the rule: the model (:mod:`zoning.model`) builds class rows and classroom
    and size rows for exactly these cohorts, and the checker (:mod:`zoning.checks`) judges exactly
    these classes, so the two cannot disagree. Older cohorts (enrolled in the base data, or entered
    under the current zones before the first intake) keep their school and classes.
    """
    return entry_year(grade, year) >= first_intake


def in_base_data(grade: int, year: int, base_year: int) -> bool:
    """The cohort in ``grade`` in ``year`` was already enrolled in ``base_year`` (the base data hold
    it; the projection moves it up a grade a year). Younger cohorts are projected intakes, placed by
    the zones in force for their intake year (the current zones before the first new map)."""
    return entry_year(grade, year) <= base_year


def size_limit(kind: str, override=None) -> float:
    """School size limit (校额): the school's own ``size_limit`` when given, else 2000 (primary,
    junior) or 2500 (nine-year)."""
    return float(override) if _given(override) else float(SIZE_LIMIT[kind])


def size_cap(size_limit, capacity, ceiling=None):
    """The enrollment a school may reach: its size limit, its seat capacity and any extra ceiling
    (``keep_indicators``), whichever is least. Scalars or arrays; a NaN ceiling is no ceiling."""
    cap = np.minimum(size_limit, capacity)
    return cap if ceiling is None else np.fmin(cap, ceiling)


def size_allowed(cap: float, year: int, base_year: int, target_year: int, base_students: float) -> float:
    """The enrollment allowed in ``year``: ``cap`` from the target year on (and in the base year,
    which is the starting point, not a plan); in the years between, a school already over its cap
    may stay at its base-year enrollment but not grow (分年度化解)."""
    if year >= target_year or year <= base_year:
        return cap
    return max(cap, base_students)


def over_size(students: float, allowed: float) -> bool:
    """Enrollment (whole pupils) over what is allowed."""
    return students > allowed + 0.5


def over_classrooms(classes: float, classrooms: float) -> bool:
    """More classes than classrooms."""
    return classes > classrooms + 1e-9


def closed_to_transfers(over_size_limit: bool, over_class_limit: bool, over_rooms: bool) -> bool:
    """A school over any limit admits no transfers (the county plan)."""
    return bool(over_size_limit or over_class_limit or over_rooms)
