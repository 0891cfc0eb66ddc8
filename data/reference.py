"""Reference data of the demo warehouse: geography, occupations, products, channels, code labels.

Real Chinese regions, provinces (GB/T 2260 prefixes) and major cities; invented branches,
occupations and products in the shape a life insurer uses them. Weights are rough urban
populations (millions) and only steer how many demo customers live where.
"""
from __future__ import annotations

import datetime as dt

# (code, name_zh, name_en), in display order
REGIONS = [
    ("north", "华北", "North China"),
    ("northeast", "东北", "Northeast China"),
    ("east", "华东", "East China"),
    ("central", "华中", "Central China"),
    ("south", "华南", "South China"),
    ("southwest", "西南", "Southwest China"),
    ("northwest", "西北", "Northwest China"),
]

# (province_code, name_zh, name_en, region_code)
PROVINCES = [
    ("11", "北京", "Beijing", "north"), ("12", "天津", "Tianjin", "north"), ("13", "河北", "Hebei", "north"),
    ("14", "山西", "Shanxi", "north"), ("15", "内蒙古", "Inner Mongolia", "north"),
    ("21", "辽宁", "Liaoning", "northeast"), ("22", "吉林", "Jilin", "northeast"),
    ("23", "黑龙江", "Heilongjiang", "northeast"),
    ("31", "上海", "Shanghai", "east"), ("32", "江苏", "Jiangsu", "east"), ("33", "浙江", "Zhejiang", "east"),
    ("34", "安徽", "Anhui", "east"), ("35", "福建", "Fujian", "east"), ("36", "江西", "Jiangxi", "east"),
    ("37", "山东", "Shandong", "east"),
    ("41", "河南", "Henan", "central"), ("42", "湖北", "Hubei", "central"), ("43", "湖南", "Hunan", "central"),
    ("44", "广东", "Guangdong", "south"), ("45", "广西", "Guangxi", "south"), ("46", "海南", "Hainan", "south"),
    ("50", "重庆", "Chongqing", "southwest"), ("51", "四川", "Sichuan", "southwest"),
    ("52", "贵州", "Guizhou", "southwest"), ("53", "云南", "Yunnan", "southwest"), ("54", "西藏", "Tibet", "southwest"),
    ("61", "陕西", "Shaanxi", "northwest"), ("62", "甘肃", "Gansu", "northwest"), ("63", "青海", "Qinghai", "northwest"),
    ("64", "宁夏", "Ningxia", "northwest"), ("65", "新疆", "Xinjiang", "northwest"),
]

# (city_code, name_zh, name_en, province_code, tier, weight)
CITIES = [
    ("110100", "北京", "Beijing", "11", 1, 21.0), ("120100", "天津", "Tianjin", "12", 2, 13.0),
    ("130100", "石家庄", "Shijiazhuang", "13", 2, 6.0), ("130200", "唐山", "Tangshan", "13", 3, 4.0),
    ("130600", "保定", "Baoding", "13", 3, 4.0),
    ("140100", "太原", "Taiyuan", "14", 2, 4.5), ("140200", "大同", "Datong", "14", 4, 2.0),
    ("150100", "呼和浩特", "Hohhot", "15", 3, 2.5), ("150200", "包头", "Baotou", "15", 3, 2.0),
    ("210100", "沈阳", "Shenyang", "21", 2, 7.5), ("210200", "大连", "Dalian", "21", 2, 5.5),
    ("220100", "长春", "Changchun", "22", 2, 5.5), ("220200", "吉林", "Jilin City", "22", 4, 2.0),
    ("230100", "哈尔滨", "Harbin", "23", 2, 7.0), ("230600", "大庆", "Daqing", "23", 4, 2.0),
    ("310100", "上海", "Shanghai", "31", 1, 24.0),
    ("320100", "南京", "Nanjing", "32", 2, 9.0), ("320500", "苏州", "Suzhou", "32", 2, 11.0),
    ("320200", "无锡", "Wuxi", "32", 2, 6.5), ("320300", "徐州", "Xuzhou", "32", 3, 5.0),
    ("330100", "杭州", "Hangzhou", "33", 2, 11.5), ("330200", "宁波", "Ningbo", "33", 2, 8.5),
    ("330300", "温州", "Wenzhou", "33", 3, 6.0),
    ("340100", "合肥", "Hefei", "34", 2, 8.5), ("340200", "芜湖", "Wuhu", "34", 3, 3.0),
    ("350100", "福州", "Fuzhou", "35", 2, 7.5), ("350200", "厦门", "Xiamen", "35", 2, 5.0),
    ("350500", "泉州", "Quanzhou", "35", 3, 6.5),
    ("360100", "南昌", "Nanchang", "36", 2, 6.0), ("360700", "赣州", "Ganzhou", "36", 4, 3.5),
    ("370100", "济南", "Jinan", "37", 2, 9.0), ("370200", "青岛", "Qingdao", "37", 2, 9.5),
    ("370600", "烟台", "Yantai", "37", 3, 5.0),
    ("410100", "郑州", "Zhengzhou", "41", 2, 12.0), ("410300", "洛阳", "Luoyang", "41", 3, 5.0),
    ("420100", "武汉", "Wuhan", "42", 2, 12.5), ("420500", "宜昌", "Yichang", "42", 3, 3.5),
    ("430100", "长沙", "Changsha", "43", 2, 10.0), ("430200", "株洲", "Zhuzhou", "43", 3, 3.0),
    ("440100", "广州", "Guangzhou", "44", 1, 18.5), ("440300", "深圳", "Shenzhen", "44", 1, 17.5),
    ("441900", "东莞", "Dongguan", "44", 2, 10.0), ("440600", "佛山", "Foshan", "44", 2, 9.5),
    ("450100", "南宁", "Nanning", "45", 2, 8.5), ("450200", "柳州", "Liuzhou", "45", 3, 3.5),
    ("460100", "海口", "Haikou", "46", 3, 2.9), ("460200", "三亚", "Sanya", "46", 3, 1.0),
    ("500100", "重庆", "Chongqing", "50", 2, 16.0),
    ("510100", "成都", "Chengdu", "51", 2, 20.0), ("510700", "绵阳", "Mianyang", "51", 3, 4.5),
    ("520100", "贵阳", "Guiyang", "52", 3, 6.0), ("520300", "遵义", "Zunyi", "52", 4, 3.0),
    ("530100", "昆明", "Kunming", "53", 2, 8.5), ("530300", "曲靖", "Qujing", "53", 4, 3.0),
    ("540100", "拉萨", "Lhasa", "54", 4, 0.9),
    ("610100", "西安", "Xi'an", "61", 2, 12.5), ("610400", "咸阳", "Xianyang", "61", 3, 3.0),
    ("620100", "兰州", "Lanzhou", "62", 3, 4.4), ("620500", "天水", "Tianshui", "62", 4, 1.5),
    ("630100", "西宁", "Xining", "63", 4, 2.5), ("640100", "银川", "Yinchuan", "64", 3, 2.9),
    ("650100", "乌鲁木齐", "Urumqi", "65", 3, 4.0), ("650200", "克拉玛依", "Karamay", "65", 4, 0.5),
]

# Branches (网点) per city by tier, and the district names they are called after.
BRANCHES_PER_TIER = {1: 8, 2: 5, 3: 3, 4: 2}
BRANCH_DISTRICTS = [
    ("中心", "Central"), ("城东", "East"), ("城西", "West"), ("城南", "South"),
    ("城北", "North"), ("高新", "Hi-Tech Zone"), ("开发区", "Development Zone"), ("新区", "New District"),
]

# (industry_code, name_zh, name_en)
INDUSTRIES = [
    ("GOV", "机关事业单位", "Government and public institutions"),
    ("FIN", "金融", "Finance"),
    ("ICT", "信息技术", "Information technology"),
    ("COM", "商业服务", "Commerce and services"),
    ("MFG", "制造业", "Manufacturing"),
    ("CON", "建筑业", "Construction"),
    ("TRN", "交通运输", "Transport and logistics"),
    ("AGR", "农林牧渔", "Agriculture and fishery"),
    ("MIN", "采矿业", "Mining"),
    ("SEC", "公安消防", "Police, security and fire service"),
    ("OTH", "其他", "Other"),
]

# (occupation_code, name_zh, name_en, industry_code, risk_class 1..6, weight among working adults)
OCCUPATIONS = [
    ("GOV01", "公务员", "Civil servant", "GOV", 1, 5.0),
    ("GOV02", "教师", "Teacher", "GOV", 1, 6.0),
    ("GOV03", "医生", "Doctor", "GOV", 1, 3.0),
    ("GOV04", "护士", "Nurse", "GOV", 2, 3.0),
    ("FIN01", "银行职员", "Bank clerk", "FIN", 1, 4.0),
    ("FIN02", "证券保险从业人员", "Securities or insurance staff", "FIN", 1, 2.5),
    ("ICT01", "软件工程师", "Software engineer", "ICT", 1, 5.0),
    ("ICT02", "网络运维人员", "Network technician", "ICT", 2, 2.0),
    ("COM01", "企业管理人员", "Business manager", "COM", 1, 6.0),
    ("COM02", "销售人员", "Salesperson", "COM", 2, 8.0),
    ("COM03", "餐饮服务员", "Restaurant staff", "COM", 2, 5.0),
    ("COM04", "厨师", "Chef", "COM", 3, 3.0),
    ("COM05", "个体经营者", "Self-employed trader", "COM", 2, 7.0),
    ("MFG01", "车间工人", "Factory worker", "MFG", 3, 8.0),
    ("MFG02", "机械操作工", "Machine operator", "MFG", 4, 4.0),
    ("MFG03", "电焊工", "Welder", "MFG", 5, 1.5),
    ("CON01", "建筑工程师", "Construction engineer", "CON", 2, 2.0),
    ("CON02", "建筑工人", "Construction worker", "CON", 5, 4.0),
    ("CON03", "高空作业人员", "Work-at-height worker", "CON", 6, 0.8),
    ("TRN01", "出租车司机", "Taxi driver", "TRN", 3, 2.5),
    ("TRN02", "货车司机", "Truck driver", "TRN", 4, 2.5),
    ("TRN03", "快递员", "Courier", "TRN", 4, 3.0),
    ("AGR01", "农民", "Farmer", "AGR", 2, 6.0),
    ("AGR02", "渔民", "Fisherman", "AGR", 5, 0.8),
    ("MIN01", "矿工", "Miner", "MIN", 6, 0.8),
    ("MIN02", "爆破工", "Blaster", "MIN", 6, 0.2),
    ("SEC01", "保安", "Security guard", "SEC", 3, 2.0),
    ("SEC02", "警察", "Police officer", "SEC", 4, 1.0),
    ("SEC03", "消防员", "Firefighter", "SEC", 6, 0.4),
    ("OTH01", "家庭主妇/主夫", "Homemaker", "OTH", 1, 4.0),
    ("OTH02", "学生", "Student", "OTH", 1, 0.0),
    ("OTH03", "退休人员", "Retired", "OTH", 1, 0.0),
]
STUDENT_OCCUPATION = "OTH02"
RETIRED_OCCUPATION = "OTH03"

PRODUCT_LINES = [
    ("life", "寿险", "Life"),
    ("health", "健康险", "Health"),
    ("accident", "意外险", "Accident"),
    ("annuity", "年金", "Annuity"),
    ("endowment", "两全", "Endowment"),
]

# Product families: what a customer buys. A family is sold as successive generations, each
# with its own guaranteed rate (预定利率), following the regulator's rate cuts of 2023-08,
# 2024-09 and 2025-09; the generation on sale at the issue date is the one issued.
# (family, line, term_type, coverage_years or None, name_zh, name_en, [(launch, guaranteed_rate)])
PRODUCT_FAMILIES = [
    ("term_life", "life", "long", 20, "安心定期寿险", "Secure Term Life", [("2019-01-01", 0.025)]),
    ("whole_life", "life", "long", None, "福满终身寿险", "Fortune Whole Life",
     [("2019-01-01", 0.035), ("2023-08-01", 0.030), ("2024-09-01", 0.025), ("2025-09-01", 0.020)]),
    ("critical_illness", "health", "long", None, "康健重大疾病保险", "Kangjian Critical Illness",
     [("2019-01-01", 0.035), ("2024-09-01", 0.025), ("2025-09-01", 0.020)]),
    ("medical", "health", "short", 1, "百万医疗保险", "Million Medical", [("2019-01-01", 0.0)]),
    ("personal_accident", "accident", "short", 1, "综合意外伤害保险", "Personal Accident", [("2019-01-01", 0.0)]),
    ("group_accident", "accident", "short", 1, "团体意外伤害保险", "Group Accident", [("2019-01-01", 0.0)]),
    ("group_medical", "health", "short", 1, "团体补充医疗保险", "Group Supplementary Medical",
     [("2019-01-01", 0.0)]),
    ("pension_annuity", "annuity", "long", None, "鑫享养老年金保险", "Xinxiang Pension Annuity",
     [("2019-01-01", 0.035), ("2023-08-01", 0.030), ("2024-09-01", 0.025), ("2025-09-01", 0.020)]),
    ("education_annuity", "annuity", "long", 15, "金榜教育年金保险", "Jinbang Education Annuity",
     [("2019-01-01", 0.035), ("2024-09-01", 0.025)]),
    ("endowment_5y", "endowment", "long", 5, "稳盈五年两全保险", "Wenying 5-Year Endowment",
     [("2019-01-01", 0.035), ("2023-08-01", 0.030), ("2024-09-01", 0.025), ("2025-09-01", 0.020)]),
    ("endowment_10y", "endowment", "long", 10, "长盈十年两全保险", "Changying 10-Year Endowment",
     [("2019-01-01", 0.035), ("2024-09-01", 0.025)]),
]

CHANNELS = [
    ("agency", "个人代理", "Agency"),
    ("bancassurance", "银保", "Bancassurance"),
    ("telesales", "电销", "Telesales"),
    ("online", "网销", "Online"),
    ("broker", "经代", "Broker"),
    ("group", "团险", "Group"),
]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_CHARS = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建文辉玲宇浩晨欣怡佳俊子涵雨轩博雪梅兰琳婷鹏飞斌志红国庆海燕宁凯峰晓丹瑞嘉思源诗晗一鸣")
COMPANY_WORDS = list("华盛鑫泰恒达宏远新锐博通中联东方瑞丰长城天成汇金启明永安")
COMPANY_KINDS = [("科技有限公司", "Technology Co., Ltd."), ("制造有限公司", "Manufacturing Co., Ltd."),
                 ("建设集团有限公司", "Construction Group Co., Ltd."), ("物流有限公司", "Logistics Co., Ltd."),
                 ("商贸有限公司", "Trading Co., Ltd.")]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158",
                   "159", "176", "177", "180", "181", "185", "186", "187", "188", "189", "199"]

# Bilingual labels of every ENUM of schema.sql: kind -> [(code, name_zh, name_en)] in sort order.
CODE_LABELS: dict[str, list[tuple[str, str, str]]] = {
    "region": REGIONS,
    "sex": [("M", "男", "Male"), ("F", "女", "Female")],
    "channel": CHANNELS,
    "product_line": PRODUCT_LINES,
    "term_type": [("long", "长期险", "Long term"), ("short", "短期险", "Short term")],
    "payment_frequency": [("single", "趸交", "Single"), ("annual", "年交", "Annual"),
                          ("semiannual", "半年交", "Semi-annual"), ("quarterly", "季交", "Quarterly"),
                          ("monthly", "月交", "Monthly")],
    "policy_status": [("in_force", "有效", "In force"), ("lapsed", "失效", "Lapsed"),
                      ("surrendered", "退保", "Surrendered"), ("matured", "满期", "Matured"),
                      ("death_claim", "身故理赔", "Death claim")],
    "income_band": [("lt50k", "5万以下", "Under 50k"), ("50k_100k", "5-10万", "50k-100k"),
                    ("100k_200k", "10-20万", "100k-200k"), ("200k_500k", "20-50万", "200k-500k"),
                    ("gt500k", "50万以上", "Over 500k")],
    "acquisition_source": [("cold_visit", "陌生拜访", "Cold visit"), ("referral", "转介绍", "Referral"),
                           ("bank_counter", "银行网点", "Bank counter"), ("call_centre", "电话中心", "Call centre"),
                           ("online", "线上", "Online"), ("group", "团体", "Group")],
    "vip_tier": [("regular", "普通客户", "Regular"), ("vip", "普通VIP", "VIP"), ("gold_vip", "黄金VIP", "Gold VIP")],
    "customer_type": [("individual", "个人客户", "Individual"), ("corporate", "团体客户", "Corporate")],
    "group_role": [("parent", "母公司", "Parent"), ("subsidiary", "子公司", "Subsidiary")],
    "agent_grade": [("trainee", "见习营销员", "Trainee"), ("agent", "营销员", "Agent"),
                    ("senior", "资深营销员", "Senior agent"), ("supervisor", "主任", "Supervisor"),
                    ("manager", "经理", "Manager")],
    "claim_decision": [("paid", "赔付", "Paid"), ("declined", "拒赔", "Declined"), ("pending", "处理中", "Pending")],
    "uw_decision": [("accepted", "标准承保", "Accepted"), ("rated", "加费承保", "Rated"), ("declined", "拒保", "Declined")],
    "event_type": [("servicing_change", "保全", "Servicing change"), ("inquiry", "咨询", "Inquiry"),
                   ("complaint", "投诉", "Complaint"), ("claim_handling", "理赔处理", "Claim handling"),
                   ("renewal_reminder", "续期提醒", "Renewal reminder"), ("vip_activity", "VIP活动", "VIP activity")],
    "service_channel": [("call_centre", "电话中心", "Call centre"), ("branch_counter", "柜面", "Branch counter"),
                        ("online", "线上", "Online"), ("agent", "营销员", "Agent")],
    "lead_source": [("cold_visit", "陌生拜访", "Cold visit"), ("referral", "转介绍", "Referral")],
    "visit_outcome": [("no_sale", "未成交", "No sale"), ("sale", "成交", "Sale")],
}


def codes(kind: str) -> list[str]:
    """The codes of an ENUM kind in sort order (the generator samples by index into this list)."""
    return [c for c, _, _ in CODE_LABELS[kind]]


def products() -> list[dict]:
    """One row per product generation, in family order then launch order."""
    rows = []
    for family, line, term, years, zh, en, generations in PRODUCT_FAMILIES:
        for gen, (launch, rate) in enumerate(generations):
            suffix = f"({launch[:4]}版)" if len(generations) > 1 else ""
            rows.append({
                "family": family,
                "product_code": f"{family.upper()}-{gen + 1}",
                "name_zh": zh + suffix,
                "name_en": en + (f" ({launch[:4]} edition)" if suffix else ""),
                "line_code": line,
                "term_type": term,
                "guaranteed_rate": rate,
                "coverage_years": years,
                "launch_date": dt.date.fromisoformat(launch),
            })
    return rows
