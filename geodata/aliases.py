"""Header and value aliases: the Chinese (and other) names offices use for the SPEC §2 columns.

A header is matched after :func:`normalise_header` (trimmed, lower case, full-width brackets and
spaces removed), so ``"学校 代码"``, ``"School_ID"`` and ``"学校代码（必填）"`` do not all match — only
exact names after normalisation do; the explicit mapping file (``--mapping``) covers anything else.

Input names and the file stems that are recognised for each (``schools.gpkg``, ``学校.xlsx`` …)
are listed in :data:`FILE_STEMS`.
"""
from __future__ import annotations

import difflib
import re

#: The inputs of a data folder (SPEC §2), in reading order.
INPUTS = ("schools", "units", "households", "plan", "roster", "barriers", "crossings", "roads")

#: File stems recognised for each input (case-insensitive); the first match in a folder is used.
FILE_STEMS = {
    "schools": ("schools", "school", "学校", "学校名单", "学校信息"),
    "units": ("units", "unit", "片区单元", "小区", "居住单元", "小区村", "单元"),
    "households": ("households", "household", "children", "住户", "适龄儿童", "儿童"),
    "plan": ("plan", "enrollment_plan", "招生计划"),
    "roster": ("roster", "学籍", "学籍名册", "在校生"),
    "barriers": ("barriers", "barrier", "障碍", "障碍线"),
    "crossings": ("crossings", "crossing", "通道", "过街通道", "路口"),
    "roads": ("roads", "road", "道路", "路网"),
}

#: Keywords that name an input inside a longer file name (学校基本情况.xlsx, 小区人数.xlsx,
#: 2023秋季学籍导出.xlsx), checked in this order after the exact stems of :data:`FILE_STEMS`.
FILE_KEYWORDS = (
    ("roster", ("学籍", "roster")),
    ("plan", ("招生计划", "计划")),
    ("households", ("住户", "适龄儿童", "儿童", "household")),
    ("crossings", ("通道", "过街", "crossing")),
    ("barriers", ("障碍", "铁路", "barrier")),
    ("roads", ("道路", "路网", "road")),
    ("units", ("小区", "片区单元", "居住单元", "村组", "unit")),
    ("schools", ("学校", "school")),
)

#: Columns (SPEC names, after aliases) that make a table an input whatever its file name.
HEADER_SIGNATURES = (
    ("roster", {"student_id", "school_id", "grade"}),
    ("plan", {"school_id", "year", "grade"}),
    ("schools", {"school_id", "name", "level"}),
    ("households", {"household_id"}),
    ("units", {"unit_id", "name"}),
)

#: Shapefile side files (parts of a ``.shp``) and files a data folder may hold besides inputs.
SIDE_FILES = (".dbf", ".shx", ".prj", ".cpg", ".qpj", ".sbn", ".sbx", ".qix", ".fix", ".xml", ".qmd")


def keyword_input(stem: str) -> str | None:
    """The input a file name names by keyword (None when none)."""
    low = stem.lower()
    for name, words in FILE_KEYWORDS:
        if any(w in low for w in words):
            return name
    return None


_GRADE_WORDS = {**{f"{z}年级": g for g, z in enumerate("一二三四五六七八九", 1)},
                **{f"{g}年级": g for g in range(1, 10)},
                **{f"初{z}": g for z, g in (("一", 7), ("二", 8), ("三", 9))},
                **{f"初中{z}年级": g for z, g in (("一", 7), ("二", 8), ("三", 9))},
                **{f"g{g}": g for g in range(1, 10)}, **{f"grade{g}": g for g in range(1, 10)}}


def grade_number(value: object) -> tuple[int | None, bool]:
    """A grade as offices write it (1, 一年级, 1年级, 初一, 七年级) -> (grade, was converted).

    Returns (None, False) for a blank or unknown value (the caller reports it).
    """
    if value is None:
        return None, False
    text = str(value).strip().replace(" ", "")
    if text == "" or text.lower() == "nan":
        return None, False
    try:
        f = float(text)
        return (int(f), False) if f.is_integer() else (None, False)
    except ValueError:
        pass
    g = _GRADE_WORDS.get(text.lower())
    return (g, True) if g is not None else (None, False)


#: File formats read, in order of preference when a folder has several files of one input.
EXTENSIONS = (".gpkg", ".geojson", ".json", ".shp", ".xlsx", ".csv")

#: Chinese input names for messages.
INPUT_NAMES_ZH = {
    "schools": "学校", "units": "片区单元（小区/村）", "households": "住户/适龄儿童", "plan": "招生计划",
    "roster": "学籍", "barriers": "障碍线", "crossings": "通道", "roads": "道路",
}

_GRADES_ZH = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
_AGES_ZH = ("零", "一", "二", "三", "四", "五")


def _grade_names(g: int) -> list[str]:
    zh = _GRADES_ZH[g - 1]
    return [f"{zh}年级", f"{g}年级", f"初{_GRADES_ZH[g - 7]}" if g >= 7 else f"{zh}年级"]


def _grade_aliases(prefix: str, suffixes: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g in range(1, 10):
        names = []
        for base in dict.fromkeys(_grade_names(g)):
            names += [base + s for s in suffixes]
        names += [f"g{g}", f"grade{g}"] if prefix == "students_g" else []
        out[f"{prefix}{g}"] = names
    return out


#: Aliases of columns that mean the same in every input.
COMMON = {
    "lon": ["经度", "lng", "long", "longitude", "x", "东经", "lon_wgs84"],
    "lat": ["纬度", "latitude", "y", "北纬", "lat_wgs84"],
    "name": ["名称", "name_zh"],
    "school_id": ["学校代码", "学校编号", "学校标识码", "学校id", "school_code"],
    "unit_id": ["单元代码", "单元编号", "小区代码", "小区编号", "片区单元代码", "村代码", "unit_code"],
    "township": ["乡镇/街道", "乡镇街道", "乡镇", "街道", "镇", "所属乡镇"],
    "year": ["年份", "年度", "招生年份", "学年"],
    "grade": ["年级"],
    "address": ["地址", "学校地址"],
}

#: Aliases per input (checked before :data:`COMMON`).
PER_INPUT = {
    "schools": {
        "name": ["学校名称", "学校", "校名"],
        "level": ["学段", "学校类型", "办学类型", "类型"],
        "classrooms": ["教室数", "普通教室数", "教室", "普通教室"],
        "capacity": ["学位数", "容量", "设计学位", "设计规模", "学位"],
        "open_year": ["开办年份", "建校年份", "开学年份", "启用年份"],
        "close_year": ["停办年份", "撤并年份", "关闭年份"],
        "size_limit": ["校额上限", "规模上限"],
        "class_limit": ["班额上限"],
        "teachers_above_degree": ["高于规定学历教师数"],
        "backbone_teachers": ["骨干教师数", "县级及以上骨干教师数"],
        "pe_art_teachers": ["体育艺术教师数", "体育、艺术专任教师数", "音体美教师数"],
        "teaching_area_m2": ["教学及辅助用房面积", "教学辅助用房面积"],
        "sports_area_m2": ["体育运动场馆面积", "运动场面积"],
        "equipment_value_yuan": ["教学仪器设备值", "仪器设备值"],
        "multimedia_classrooms": ["网络多媒体教室数", "多媒体教室数"],
        "music_rooms": ["音乐教室数", "音乐室"],
        "art_rooms": ["美术教室数", "美术室"],
        "public_funds_budget_yuan": ["公用经费预算", "公用经费"],
        "training_funds_yuan": ["教师培训经费", "培训经费"],
        "rotation_eligible_teachers": ["符合交流条件教师数", "符合交流轮岗条件教师数"],
        "rotated_teachers": ["交流轮岗教师数"],
        "rotated_backbone_teachers": ["交流轮岗骨干教师数"],
        **_grade_aliases("enrolled_g", ("在校生", "在校生数", "人数", "学生数")),
        **_grade_aliases("classes_g", ("班数", "班级数")),
    },
    "units": {
        "name": ["小区名称", "单元名称", "小区", "村", "村名", "小区/村", "小区（村）"],
        "primary_school": ["小学学区", "对口小学", "划片小学", "小学", "现小学", "所属小学"],
        "junior_school": ["初中学区", "对口初中", "划片初中", "初中", "现初中", "所属初中"],
        "aliases": ["别名", "小区别名", "又名", "曾用名"],
        "addresses": ["门牌", "门牌范围", "地址范围", "街道门牌"],
        "students_primary": ["小学生数", "小学人数"],
        "students_junior": ["初中生数", "初中人数"],
        **_grade_aliases("students_g", ("人数", "学生数", "学生", "")),
        **{f"age_{a}": [f"{a}岁", f"{a}岁儿童", f"{_AGES_ZH[a]}岁", f"{a}岁人数"] for a in range(6)},
    },
    "households": {
        "household_id": ["户编号", "住户编号", "儿童编号", "编号", "户号", "child_id"],
        "birth_date": ["出生日期", "生日"],
        "birth_year": ["出生年份", "出生年"],
        "grade": ["在读年级", "年级"],
        "school_id": ["就读学校代码", "在读学校", "学校代码"],
    },
    "plan": {
        "name": ["学校名称", "学校"],  # read for the reader's eyes (the plan is matched by school_id)
        "planned_classes": ["计划班数", "招生班数", "计划班级数"],
        "planned_students": ["计划人数", "招生人数", "计划招生人数"],
    },
    "roster": {
        "student_id": ["学生编号", "学籍号", "学号", "学生id"],
        "class_id": ["班级", "班级编号", "班号"],
        "entry": ["入学方式", "入学类型", "学籍变动"],
        "unit_id": ["居住单元", "家庭住址单元", "住址单元", "小区代码", "单元代码"],
        "entry_date": ["入学日期", "转入日期"],
    },
    "barriers": {"kind": ["类型", "种类", "类别"], "name": ["名称", "障碍名称"]},
    "crossings": {"kind": ["类型", "种类"], "name": ["名称", "通道名称"]},
    "roads": {"kind": ["道路等级", "等级", "类型"], "name": ["道路名称", "路名"]},
}

#: Values of ``level`` (学段).
LEVEL_VALUES = {
    "primary": "primary", "小学": "primary", "完全小学": "primary", "完小": "primary",
    "junior": "junior", "初中": "junior", "初级中学": "junior", "中学": "junior",
    "nine_year": "nine_year", "nine-year": "nine_year", "九年一贯制": "nine_year",
    "九年制": "nine_year", "九年一贯制学校": "nine_year", "九年制学校": "nine_year",
}
_BRACKETS = str.maketrans({"（": "(", "）": ")", "　": " ", "，": ",", "／": "/", "【": "[", "】": "]",
                           "：": ":", "＊": "*"})
#: Bracketed parts of a header that carry a unit or a fill-in mark, not a name: （平方米）, (元), [必填].
_UNIT_PART = re.compile(r"[(\[][^()\[\]]*[)\]]")
_MARKS = re.compile(r"必填|选填|可选|\*")


def _half_width(s: str) -> str:
    """Full-width ASCII forms (ＡＢＣ１２３) as half-width."""
    return "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else c for c in s)


def normalise_header(text: object) -> str:
    """A header as it is compared with aliases: trimmed, lower case, half-width, no inner spaces,
    without bracketed units or fill-in marks (``教学及辅助用房面积（平方米）`` -> ``教学及辅助用房面积``,
    ``学校代码*（必填）`` -> ``学校代码``). A header that is only a bracket keeps it."""
    s = _half_width(str(text).replace("\ufeff", "").translate(_BRACKETS)).strip().lower()
    s = re.sub(r"\s+", "", s)
    bare = _MARKS.sub("", _UNIT_PART.sub("", s))
    return bare if bare else s


def nearest_name(header: str, input_name: str) -> str | None:
    """The known header (alias or SPEC name) closest to ``header``, for an unused column's message."""
    table = alias_table(input_name)
    hit = difflib.get_close_matches(normalise_header(header), list(table), n=1, cutoff=0.6)
    return hit[0] if hit else None


def alias_table(input_name: str) -> dict[str, str]:
    """Map normalised header -> canonical column for one input (canonical names map to themselves)."""
    table: dict[str, str] = {}
    specific = PER_INPUT.get(input_name, {})
    for source in (specific, COMMON):
        for canonical, names in source.items():
            for name in [canonical, *names]:
                table.setdefault(normalise_header(name), canonical)
    return table


def rename_columns(columns: list[str], input_name: str, explicit: dict[str, str] | None = None
                   ) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Work out the renaming of ``columns`` to SPEC names.

    Parameters
    ----------
    columns : list of str
        Headers as read.
    input_name : str
        One of :data:`INPUTS`.
    explicit : dict, optional
        Mapping-file entries ``source header -> target`` for this file; they win over aliases.

    Returns
    -------
    renames : dict
        ``original header -> canonical name`` for every header that has one.
    duplicates : list of (header, other header, canonical)
        Headers left unrenamed because an earlier header already took the same canonical name.
    """
    table = alias_table(input_name)
    explicit_norm = {normalise_header(k): v for k, v in (explicit or {}).items()}
    renames: dict[str, str] = {}
    taken: dict[str, str] = {}
    duplicates = []
    # explicit targets first, so an alias cannot take a name the mapping file assigns
    ordered = sorted(columns, key=lambda c: normalise_header(c) not in explicit_norm)
    for col in ordered:
        if col == "geometry":
            continue
        key = normalise_header(col)
        target = explicit_norm.get(key) or table.get(key)
        if target is None:
            continue
        if target in taken:
            duplicates.append((col, taken[target], target))
            continue
        taken[target] = col
        renames[col] = target
    return renames, duplicates


#: Longest field name a dBASE (.dbf) file holds; GDAL cuts longer names when writing a Shapefile.
DBF_NAME_BYTES = 10
_NUMBERED_CUT = re.compile(r"^(.+?)(\d+)$")


def contract_names(input_name: str) -> list[str]:
    """The SPEC names of one input (the canonical columns of its alias table)."""
    return sorted(set(alias_table(input_name).values()))


def recognise_cut_names(columns: list[str], input_name: str, taken: set[str] | None = None
                        ) -> tuple[dict[str, str], list[str]]:
    """Recognise SPEC names cut to 10 characters by a Shapefile (GDAL's field-name laundering).

    GDAL cuts ``primary_school`` to ``primary_sc``; when two cuts collide it numbers the later
    ones (``students_g1`` -> ``students_g``, ``students_g2`` -> ``students_1``, ...), so which grade
    a numbered or shared cut holds depends on the order of the columns it was written from.

    Parameters
    ----------
    columns : list of str
        Headers no alias or mapping entry recognised.
    input_name : str
        One of :data:`INPUTS`.
    taken : set of str, optional
        SPEC names already given by other headers (a cut is not used for them).

    Returns
    -------
    renames : dict
        ``header -> SPEC name`` for headers that are the cut of exactly one SPEC name.
    ambiguous : list of str
        Headers that are the cut of several SPEC names, or a numbered cut (``students_1``).
    """
    taken = set(taken or ())
    long_names = [n for n in contract_names(input_name) if len(n) > DBF_NAME_BYTES]
    renames: dict[str, str] = {}
    ambiguous: list[str] = []
    for col in columns:
        key = normalise_header(col)
        if len(key) > DBF_NAME_BYTES or not key:
            continue
        full = [n for n in long_names if n[:DBF_NAME_BYTES] == key] if len(key) == DBF_NAME_BYTES else []
        if len(full) == 1:
            if full[0] not in taken:
                renames[col] = full[0]
                taken.add(full[0])
            continue
        if len(full) > 1:
            ambiguous.append(col)
            continue
        numbered = _NUMBERED_CUT.match(key)
        if len(key) == DBF_NAME_BYTES and numbered and any(n.startswith(numbered.group(1)) for n in long_names):
            ambiguous.append(col)
    return renames, ambiguous


def normalise_value(value: object, table: dict[str, str]) -> str | None:
    """Map a value through a value-alias table; None when unknown (or missing)."""
    if value is None:
        return None
    key = str(value).strip()
    return table.get(key, table.get(key.lower()))
