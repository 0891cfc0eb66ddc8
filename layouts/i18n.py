"""The message catalogue: every piece of UI text in Chinese and English.

Chinese is the default language. A missing key is a bug that should be visible, so `t` shows the
key itself rather than raising and breaking a page.
"""
from __future__ import annotations

from layouts import admin_messages, agents_messages, contribution_messages, customer_messages

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

MESSAGES: dict[str, dict[str, str]] = {
    "app.title": {"zh": "保险分析立方", "en": "PolicyCube"},
    "app.subtitle": {"zh": "寿险分析型CRM", "en": "Life insurance analytical CRM"},
    # shell: the page for an unknown address (layouts/not_found.py); its name titles the browser tab too
    "notfound.title": {"zh": "页面不存在", "en": "Page not found"},
    "notfound.text": {"zh": "这个地址没有对应的页面：可能是地址输入有误，或链接已失效。",
                      "en": "No page lives at this address: it may be mistyped, or the link is out of date."},
    "notfound.home": {"zh": "← 返回经营总览", "en": "← Back to the overview"},
    "nav.overview": {"zh": "经营总览", "en": "Overview"},
    "theme.toggle": {"zh": "切换深色/浅色主题", "en": "Toggle dark/light theme"},
    "lang.label": {"zh": "语言", "en": "Language"},
    "notice.bad_param": {
        "zh": "网址参数 {name}={value} 无效，已使用默认值。",
        "en": "URL parameter {name}={value} is not valid; the default is shown instead.",
    },
    "filter.open": {"zh": "筛选", "en": "Filters"},
    "filter.title": {"zh": "全局筛选（作用于所有页面）", "en": "Global filters (apply to every page)"},
    "filter.apply": {"zh": "应用筛选", "en": "Apply filters"},
    "filter.clear": {"zh": "清除全部筛选", "en": "Clear all filters"},
    "filter.none": {"zh": "未设其他筛选", "en": "No other filters"},
    "filter.dates": {"zh": "日期范围", "en": "Date range"},
    "filter.from": {"zh": "起始日期", "en": "From"},
    "filter.to": {"zh": "截止日期", "en": "To"},
    "filter.region": {"zh": "大区", "en": "Region"},
    "filter.province": {"zh": "省份", "en": "Province"},
    "filter.channel": {"zh": "渠道", "en": "Channel"},
    "filter.line": {"zh": "产品线", "en": "Product line"},
    "filter.industry": {"zh": "行业（职业类别）", "en": "Industry (occupation class)"},
    "filter.age": {"zh": "年龄段", "en": "Age band"},
    "filter.sex": {"zh": "性别", "en": "Sex"},
    "filter.tenure": {"zh": "客户司龄", "en": "Tenure band"},
    "filter.vip": {"zh": "VIP等级", "en": "VIP tier"},
    "filter.outside_access": {
        "zh": "{name} {values} 不在您的数据权限范围内：这些筛选下没有可显示的数据。",
        "en": "{name} {values} is outside your data access: nothing can be shown for it.",
    },
    "filter.not_applicable": {"zh": "以下筛选不适用于{what}：{names}", "en": "Not applicable to {what}: {names}"},
    # dates and periods (layouts/filter_state.py's period rules, the picker's presets, the period chip)
    "period.chip": {"zh": "期间：{start} — {end}{preset}", "en": "Period: {start} — {end}{preset}"},
    "period.chip_preset": {"zh": "（{name}）", "en": " ({name})"},
    "period.chip_all": {"zh": "期间：全部历史（截至 {as_of}）", "en": "Period: whole history (to {as_of})"},
    "period.preset.this_month": {"zh": "本月", "en": "This month"},
    "period.preset.last_month": {"zh": "上月", "en": "Last month"},
    "period.preset.this_quarter": {"zh": "本季度", "en": "This quarter"},
    "period.preset.ytd": {"zh": "今年以来", "en": "Year to date"},
    "period.preset.last_year": {"zh": "去年", "en": "Last year"},
    "period.preset.last_12_months": {"zh": "近12个月", "en": "Last 12 months"},
    "period.reversed": {"zh": "日期范围 {start} 至 {end} 的起始日期晚于截止日期，已忽略。",
                        "en": "The date range {start} to {end} starts after it ends; it is ignored."},
    "period.outside": {"zh": "日期范围 {start} 至 {end} 不在数据期间（{first} 至 {last}）内，已忽略。",
                       "en": "The date range {start} to {end} is outside the data ({first} to {last}); it is ignored."},
    "period.clipped_start": {"zh": "起始日期 {start} 早于最早的数据（{first}），已从 {first} 起算。",
                             "en": "The start date {start} is before the first data ({first}); the period starts on {first}."},
    "period.clipped_end": {"zh": "截止日期 {end} 晚于数据截止日（{last}），已截至 {last}。",
                           "en": "The end date {end} is after the data's as-of date ({last}); the period ends on {last}."},
    "period.default": {"zh": "显示默认期间：{start} 至 {end}（今年以来）。",
                       "en": "Showing the default period: {start} to {end} (year to date)."},
    "nav.explore": {"zh": "多维分析", "en": "Explore"},
    "explore.title": {"zh": "多维分析：切片与下钻", "en": "Explore: slice and drill down"},
    "explore.measure": {"zh": "指标", "en": "Measure"},
    "explore.dimension": {"zh": "维度", "en": "Dimension"},
    "explore.top": {"zh": "前N名", "en": "Top N"},
    "explore.all": {"zh": "全部", "en": "All"},
    "explore.slice": {"zh": "切片维度", "en": "Slice by"},
    "explore.slice_none": {"zh": "不切片", "en": "No slice"},
    "explore.slice_members": {"zh": "切片成员（对比时选两个）", "en": "Members (two to compare)"},
    "explore.compare": {"zh": "两个细分并排对比", "en": "Compare two segments"},
    "explore.compare_needs_two": {"zh": "并排对比需要恰好选择两个切片成员。", "en": "Comparing needs exactly two slice members."},
    "explore.difference": {"zh": "差异（B−A）", "en": "Difference (B−A)"},
    # Explore's compare mode (grids): each segment's total and B against A
    "explore.difference_pct": {"zh": "差异率（B/A−1）", "en": "Difference % (B/A−1)"},
    "explore.difference_points": {"zh": "差异（个百分点）", "en": "Difference (pp)"},
    "explore.compare_change": {"zh": "B 较 A：{value}", "en": "B against A: {value}"},
    "explore.no_difference": {"zh": "无可比数据", "en": "nothing to compare"},
    "explore.total": {"zh": "合计", "en": "Total"},
    "explore.chart.bar": {"zh": "柱状图", "en": "Bar"},
    "explore.chart.line": {"zh": "折线图", "en": "Line"},
    "explore.chart.pie": {"zh": "饼图", "en": "Pie"},
    "explore.pie_needs_additive": {"zh": "比率类指标不能用饼图表示占比，已改用柱状图。", "en": "A ratio has no share of a whole: shown as bars instead of a pie."},
    "explore.hint": {"zh": "点击柱形或扇区向下钻取；点击上方路径返回上层。", "en": "Click a bar or slice to drill down; click the path above to go back up."},
    "explore.all_members": {"zh": "全部", "en": "All"},
    "export.table": {"zh": "⤓ 导出表格CSV", "en": "⤓ Export table (CSV)"},
    "export.records": {"zh": "⤓ 导出明细CSV", "en": "⤓ Export records (CSV)"},
    # downloads and exports (Excel links, refusals of the /export/ route)
    "export.table_xlsx": {"zh": "⤓ 导出表格Excel", "en": "⤓ Export table (Excel)"},
    "export.records_xlsx": {"zh": "⤓ 导出明细Excel", "en": "⤓ Export records (Excel)"},
    "export.invalid": {"zh": "导出请求无效：请从页面上的导出链接下载。", "en": "This export request is not valid: download from the export links on the page."},
    "export.unknown": {"zh": "没有这种导出。可用视图：{views}；类型：{kinds}。", "en": "No such export. Views: {views}; kinds: {kinds}."},
    "export.failed": {"zh": "导出失败：请稍后重试。", "en": "The export failed: please try again later."},
    "export.signed_out": {"zh": "登录已失效：请重新登录后再导出。", "en": "You are signed out: sign in again to export."},
    "export.too_many_rows": {"zh": "明细共 {rows} 条，超过 Excel 单个工作表的上限（{limit} 行）：请缩小筛选范围，或导出 CSV。", "en": "{rows} records are more than one Excel worksheet holds ({limit} rows): narrow the filters, or export CSV."},
    "explore.member": {"zh": "成员", "en": "Member"},
    "explore.share": {"zh": "占比", "en": "Share"},
    "explore.unknown_member": {"zh": "下钻路径中的 {value} 不存在，已返回上层。", "en": "{value} in the drill path does not exist; showing the level above."},
    "nav.pivot": {"zh": "透视表", "en": "Pivot"},
    "pivot.title": {"zh": "透视表：行列旋转与小计", "en": "Pivot: rows, columns and subtotals"},
    "pivot.rows": {"zh": "行维度（可多层）", "en": "Row levels"},
    "pivot.columns": {"zh": "列维度（可多层）", "en": "Column levels"},
    "pivot.measures": {"zh": "指标", "en": "Measures"},
    "pivot.swap": {"zh": "⇄ 行列互换", "en": "⇄ Swap rows and columns"},
    "pivot.expand": {"zh": "展开到：", "en": "Expand to:"},
    "pivot.heat": {"zh": "热力图着色", "en": "Heat map"},
    "pivot.cell_hint": {"zh": "点击任一数值单元格，查看其背后的明细记录。", "en": "Click any number to see the records behind it."},
    "pivot.records": {"zh": "明细记录：{cell}（共 {total} 条，显示前 {shown} 条）", "en": "Records behind {cell} ({total} in all, first {shown} shown)"},
    "pivot.no_measures": {"zh": "请至少选择一个指标。", "en": "Choose at least one measure."},
    "state.loading": {"zh": "加载中…", "en": "Loading…"},
    "state.empty": {"zh": "当前筛选条件下没有数据。", "en": "No data for the current selection."},
    # the engine's own text goes to the log only: a person reads what happened and what to do
    "state.error": {"zh": "查询未能完成，问题已记录。请调整筛选条件或稍后再试。",
                    "en": "The query could not be completed and the problem has been logged. Change the selection or try again later."},
    "overview.title": {"zh": "经营总览", "en": "Business overview"},
    "overview.period": {"zh": "{start} 至 {end}，与上年同期对比", "en": "{start} to {end}, against the same period a year earlier"},
    "overview.yoy": {"zh": "同比", "en": "YoY"},
    "overview.trend": {"zh": "月度保费趋势：首年与续期（对比去年）", "en": "Monthly premium: first-year and renewal, against last year"},
    "overview.channel_mix": {"zh": "渠道结构（保费收入）", "en": "Channel mix (written premium)"},
    "overview.by_region": {"zh": "各地区及省份保费收入", "en": "Written premium by region and province"},
    "overview.movers": {"zh": "省份保费同比变动", "en": "Provinces: written premium against a year earlier"},
    "overview.this_period": {"zh": "本期", "en": "This period"},
    "overview.last_period": {"zh": "上年同期", "en": "A year earlier"},
    "overview.change": {"zh": "同比变动", "en": "Change YoY"},
    "overview.growth": {"zh": "增长最快", "en": "Fastest growing"},
    "overview.decline": {"zh": "下降最多", "en": "Largest decline"},
    # charts: units, tooltips and cross-filter (issue 14)
    "overview.slowest": {"zh": "增长最慢", "en": "Slowest growing"},
    "overview.no_movers": {"zh": "没有其他省份", "en": "No other provinces"},
    "overview.click_hint": {
        "zh": "点击渠道、地区、省份即按其筛选本页；浏览器“后退”可返回。",
        "en": "Click a channel, region or province to filter the page to it; the browser's Back button returns.",
    },
    "kpi.written_premium": {"zh": "保费收入", "en": "Written premium"},
    "kpi.fyp": {"zh": "首年保费", "en": "First-year premium"},
    "kpi.renewal_premium": {"zh": "续期保费", "en": "Renewal premium"},
    "kpi.single_premium": {"zh": "趸交保费", "en": "Single premium"},
    "kpi.ape": {"zh": "年化新单保费", "en": "APE"},
    "kpi.persistency_13": {"zh": "13个月继续率", "en": "13-month persistency"},
    "kpi.loss_ratio": {"zh": "赔付率", "en": "Loss ratio"},
    "kpi.contribution": {"zh": "客户贡献", "en": "Contribution"},
    "kpi.customers": {"zh": "活跃客户数", "en": "Active customers"},
    "kpi.in_force_at_end": {"zh": "期末有效保单数", "en": "In-force policies at period end"},
    "kpi.vip_customers": {"zh": "活跃VIP（现等级）", "en": "Active VIPs (current tier)"},
}


# AG Grid's own texts (empty grid, pager, filter menu): AG Grid's Chinese (vendored in layouts/assets/
# ag-grid-locale-zh-cn.js, looked up by its chineseGridText) or its English. GRID_TEXT is the page's own
# wording of a few, read first. The pager reads "第1页，共8页": "第" 1 "，共" 8, each number written "N页"
# by the pager's number formatter (AG Grid's pager has no text after the total).
GRID_TEXT = {
    "zh": {"noRowsToShow": "当前筛选条件下没有数据", "page": "第", "of": "，共", "pageSizeSelectorLabel": "每页条数："},
    "en": {"noRowsToShow": "No rows for the current filters"},
}
GRID_LANGUAGE_OPTIONS = {
    "zh": {"getLocaleText": {"function": "chineseGridText(params)"},
           "paginationNumberFormatter": {"function": "d3.format(',')(params.value) + '页'"},
           # the row summary ("1 至 20 共 160") would take the pager's "页" too: Chinese shows the pages only
           "paginationPanels": ["pageSize", "pageSummary"]},
    "en": {},
}


# Each analytical page keeps its own texts beside its layout; one catalogue serves them all.
for _page_messages in (contribution_messages, agents_messages, customer_messages, admin_messages):
    MESSAGES.update(_page_messages.MESSAGES)


def grid_options(lang: str, **options) -> dict:
    """AG Grid options every grid shares: dotted field names as plain keys, texts in `lang`."""
    return {"suppressFieldDotNotation": True, "localeText": GRID_TEXT.get(lang, {}),
            **GRID_LANGUAGE_OPTIONS.get(lang, {}), **options}


def normalise_language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def join_list(items, lang: str) -> str:
    """A list in running text: 华东、华北 / East, North."""
    return ("、" if lang == "zh" else ", ").join(items)


def bad_param_notices(invalid, lang: str) -> list[str]:
    """One notice per ignored URL parameter, given as (name, value) pairs."""
    return [t("notice.bad_param", lang, name=name, value=value) for name, value in invalid]


def t(key: str, lang: str, **values) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
