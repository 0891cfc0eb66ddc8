"""Dimensions shared by several cubes. Each cube's source exposes the same column names
(region_code, branch_id, sex, attained_age ...), so one definition serves them all."""
from __future__ import annotations

from cubes.model import Hierarchy, Labels, Level, code_labels, static_labels, table_labels
from cubes.rules import Band, Rules, band_sql


def one(name, expr, zh, en, labels=None, dtype="str") -> Hierarchy:
    """A dimension of a single level, named like the level."""
    return Hierarchy(name, (Level(name, expr, zh, en, labels or Labels(), dtype),), zh, en)


def geography() -> Hierarchy:
    return Hierarchy("geography", (
        Level("region", "region_code", "大区", "Region", table_labels("dim_region", "region_code", "sort_order")),
        Level("province", "province_code", "省份", "Province", table_labels("dim_province", "province_code")),
        Level("city", "city_code", "城市", "City", table_labels("dim_city", "city_code")),
        Level("branch", "branch_id", "网点", "Branch", table_labels("dim_branch", "branch_id")),
    ), "地区", "Geography")


def occupation() -> Hierarchy:
    return Hierarchy("occupation", (
        Level("industry", "industry_code", "行业", "Industry", table_labels("dim_industry", "industry_code")),
        Level("occupation", "occupation_code", "职业", "Occupation", table_labels("dim_occupation", "occupation_code")),
    ), "职业", "Occupation")


def risk_class() -> Hierarchy:
    return one("risk_class", "risk_class", "职业风险等级", "Occupational risk class", dtype="int")


def banded(name: str, column: str, bands: tuple[Band, ...], zh: str, en: str) -> Hierarchy:
    return one(name, band_sql(column, bands), zh, en, static_labels((b.code, b.name_zh, b.name_en) for b in bands))


def attained_age_band(rules: Rules) -> Hierarchy:
    return banded("age_band", "attained_age", rules.age_bands, "年龄段", "Age band")


def issue_age_band(rules: Rules) -> Hierarchy:
    return banded("issue_age_band", "age_at_issue", rules.age_bands, "投保年龄段", "Age band at issue")


def tenure_band(rules: Rules) -> Hierarchy:
    return banded("tenure_band", "tenure_years", rules.tenure_bands, "客户司龄", "Tenure band")


def sex() -> Hierarchy:
    return one("sex", "sex", "性别", "Sex", code_labels("sex"))


def vip_tier() -> Hierarchy:
    return one("vip_tier", "vip_tier", "VIP等级", "VIP tier", code_labels("vip_tier"))


def acquisition_source() -> Hierarchy:
    return one("acquisition_source", "acquisition_source", "获客来源", "Acquisition source", code_labels("acquisition_source"))


def channel() -> Hierarchy:
    return one("channel", "channel_code", "渠道", "Channel", table_labels("dim_channel", "channel_code", "sort_order"))


def product() -> Hierarchy:
    return Hierarchy("product", (
        Level("line", "line_code", "产品线", "Product line", table_labels("dim_product_line", "line_code", "sort_order")),
        Level("product", "product_code", "产品", "Product", table_labels("dim_product", "product_code")),
    ), "产品", "Product")


def time(date_label_zh="日期", date_label_en="Date") -> Hierarchy:
    """Calendar time of the cube's event date; `{date}` lets comparisons shift it."""
    return Hierarchy("time", (
        Level("year", "year({date})", "年", "Year", dtype="int", time=True),
        Level("quarter", "(strftime({date}, '%Y') || '-Q' || quarter({date}))", "季度", "Quarter", time=True),
        Level("month", "strftime({date}, '%Y-%m')", "月", "Month", time=True),
    ), f"时间（{date_label_zh}）", f"Time ({date_label_en})")


def work_month() -> Hierarchy:
    """工作月 from dim_calendar (configurable cut-off day); the source joins it as work_month."""
    return Hierarchy("work_month", (
        Level("work_month", "work_month", "工作月", "Work month", time=True),
    ), "工作月", "Work month")


def customer_dimensions(rules: Rules) -> tuple[Hierarchy, ...]:
    """Who the customer is: the slicing dimensions of every customer-grain analysis."""
    return (geography(), occupation(), risk_class(), attained_age_band(rules), sex(), tenure_band(rules),
            vip_tier(), acquisition_source())
