"""Policy numbers of SPEC §5, in one place.

Sources: 教督〔2017〕6号 (县域义务教育优质均衡发展督导评估办法) for the class and school size
limits and the resource indicators; 国发〔2016〕40号 for the 大班额/超大班额 categories.
A scenario or a school's own ``size_limit`` / ``class_limit`` column overrides them.
"""

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
