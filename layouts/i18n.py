"""The message catalogue: every piece of UI text in Chinese and English.

Chinese is the default language. A missing key is a bug that should be visible, so `t` shows the
key itself rather than raising and breaking a page.
"""
from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"zh": "保险分析立方", "en": "PolicyCube"},
    "app.subtitle": {"zh": "寿险分析型CRM", "en": "Life insurance analytical CRM"},
    "nav.overview": {"zh": "经营总览", "en": "Overview"},
    "theme.toggle": {"zh": "切换深色/浅色主题", "en": "Toggle dark/light theme"},
    "lang.label": {"zh": "语言", "en": "Language"},
    "notice.bad_param": {
        "zh": "网址参数 {name}={value} 无效，已使用默认值。",
        "en": "URL parameter {name}={value} is not valid; the default is shown instead.",
    },
    "state.loading": {"zh": "加载中…", "en": "Loading…"},
    "state.empty": {"zh": "当前筛选条件下没有数据。", "en": "No data for the current selection."},
    "state.error": {"zh": "查询失败：{detail}", "en": "The query failed: {detail}"},
    "overview.title": {"zh": "经营总览", "en": "Business overview"},
    "overview.as_of": {"zh": "{year}年 与 {prev}年同期对比", "en": "{year} against the same period of {prev}"},
    "overview.yoy": {"zh": "同比", "en": "YoY"},
    "overview.trend": {"zh": "月度保费趋势：首年与续期（对比去年）", "en": "Monthly premium: first-year and renewal, against last year"},
    "overview.channel_mix": {"zh": "渠道结构（保费收入）", "en": "Channel mix (written premium)"},
    "overview.by_region": {"zh": "各地区及省份保费收入", "en": "Written premium by region and province"},
    "overview.movers": {"zh": "省份同比变动：增长最快与下降最多", "en": "Provinces: top and bottom movers year over year"},
    "overview.this_year": {"zh": "今年", "en": "This year"},
    "overview.last_year": {"zh": "去年", "en": "Last year"},
    "overview.change": {"zh": "同比变动", "en": "Change YoY"},
    "overview.pp": {"zh": "个百分点", "en": " pp"},
    "overview.growth": {"zh": "增长最快", "en": "Fastest growing"},
    "overview.decline": {"zh": "下降最多", "en": "Largest decline"},
    "kpi.written_premium": {"zh": "保费收入", "en": "Written premium"},
    "kpi.fyp": {"zh": "首年保费", "en": "First-year premium"},
    "kpi.renewal_premium": {"zh": "续期保费", "en": "Renewal premium"},
    "kpi.single_premium": {"zh": "趸交保费", "en": "Single premium"},
    "kpi.ape": {"zh": "年化新单保费", "en": "APE"},
    "kpi.persistency_13": {"zh": "13个月继续率", "en": "13-month persistency"},
    "kpi.loss_ratio": {"zh": "赔付率", "en": "Loss ratio"},
    "kpi.contribution": {"zh": "客户贡献", "en": "Contribution"},
    "kpi.customers": {"zh": "客户数", "en": "Customers"},
    "kpi.in_force_policies": {"zh": "有效保单数", "en": "In-force policies"},
    "kpi.vip_customers": {"zh": "VIP客户数", "en": "VIP customers"},
}


def normalise_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str, **values) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
