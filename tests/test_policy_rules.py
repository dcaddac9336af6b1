"""The kernel's rule functions (zoning/policy.py), each rule once, checked by hand."""
import math

import pytest

from zoning import policy


@pytest.mark.parametrize("grade,override,want", [(1, None, 45), (6, None, 45), (7, None, 50), (9, None, 50),
                                                  (3, 40, 40), (8, 40, 40), (8, math.nan, 50)])
def test_class_limit_by_grade_and_override(grade, override, want):
    assert policy.class_limit(grade, override) == want


def test_class_sizes_and_categories():
    assert policy.class_sizes(91, 2) == (46, 0, 0)
    assert policy.class_sizes(120, 2) == (60, 2, 0)
    assert policy.class_sizes(133, 2) == (67, 0, 2)  # 67 and 66: both 超大班额
    assert policy.class_sizes(187, 3) == (63, 3, 0) and policy.class_sizes(131, 2) == (66, 1, 1)
    assert policy.class_sizes(0, 3) == (0, 0, 0)
    assert [policy.class_category(n) for n in (55, 56, 65, 66)] == ["normal", "large", "large", "huge"]
    assert policy.over_class_limit(91, 2, 45) and not policy.over_class_limit(90, 2, 45)


def test_new_cohort_has_one_reference_year():
    assert policy.entry_year(3, 2024) == 2022 and policy.entry_year(8, 2024) == 2023
    # the reference is the first intake the new zones apply to (base year 2022: by default 2023)
    assert not policy.is_new_cohort(3, 2024, 2023)  # entered 2022: enrolled in the base data
    assert policy.is_new_cohort(8, 2024, 2023)  # entered grade 7 in 2023
    assert not policy.is_new_cohort(8, 2024, 2024)  # first intake 2024: the 2023 cohort is not the plan's
    assert policy.in_base_data(3, 2024, 2022) and not policy.in_base_data(8, 2024, 2022)


def test_size_allowed_and_caps():
    assert policy.size_limit("nine_year") == 2500 and policy.size_limit("junior", 1800) == 1800
    assert policy.size_cap(2000, 2200, 1900) == 1900 and policy.size_cap(2000, math.inf, math.nan) == 2000
    # before the target year a school over its cap may keep its base-year size, not grow
    assert policy.size_allowed(2000, 2023, 2022, 2025, 2300) == 2300
    assert policy.size_allowed(2000, 2025, 2022, 2025, 2300) == 2000
    assert policy.size_allowed(2000, 2022, 2022, 2025, 2300) == 2000  # the base year is a fact
    assert policy.over_size(2001, 2000) and not policy.over_size(2000, 2000)
    assert policy.closed_to_transfers(False, True, False) and not policy.closed_to_transfers(False, False, False)


def test_one_entry_vocabulary():
    assert policy.entry_kind("插班") == "transfer_in"
    assert [policy.entry_kind(v) for v in ("新生", " Transfer_In ", "在读", "高中", None)] == \
        ["new", "transfer_in", "continuing", None, None]
