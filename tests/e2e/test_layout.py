"""Looks, checked in a real browser: dark theme, a narrow phone-sized screen without overlap, and a
header whose items neither overlap nor leave the window at any width, in either language."""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.e2e.conftest import WHOLE_HISTORY, console_errors, screenshot, settled

pytestmark = pytest.mark.e2e

PAGES = ("/", "/explore", "/pivot")
# every item a person sees in the header, each as the box it draws (the theme switch's is its root)
HEADER_BOXES = """
const items = [...document.querySelectorAll(
    '#nav-menu-button, #app-title, #app-subtitle, #nav-links a, #lang-switch, #logout-link')];
items.push(document.getElementById('theme-switch').closest('.mantine-Switch-root'));
items.push(document.getElementById('user-name').parentElement);  // the badge: name over scope
// the element's box joined with its content's as drawn: text squeezed out of a shrunk box counts
return items.map(el => {
    const b = el.getBoundingClientRect(), range = document.createRange();
    range.selectNodeContents(el);
    const c = range.getBoundingClientRect(), hasContent = c.width > 0 && c.height > 0;
    return {id: el.id || (el.contains(document.getElementById('user-name')) ? 'user-badge' : 'theme-switch'), text: el.innerText.trim(), width: b.width,
            left: hasContent ? Math.min(b.left, c.left) : b.left, right: hasContent ? Math.max(b.right, c.right) : b.right,
            top: hasContent ? Math.min(b.top, c.top) : b.top, bottom: hasContent ? Math.max(b.bottom, c.bottom) : b.bottom,
            clipped: el.scrollWidth > el.clientWidth + 1};
}).filter(b => b.width > 0 && b.bottom - b.top > 0);
"""


def _overflow(duo) -> int:
    """Pixels the page is wider than the window: anything above 0 means a sideways scroll."""
    return duo.driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("path", PAGES)
def test_narrow_screen_has_no_sideways_overflow(dashboard, path):
    dashboard.driver.set_window_size(390, 844)
    dashboard.driver.get(dashboard.server_url + path)
    dashboard.wait_for_element("#page-wrapper h2", timeout=30)
    dashboard.wait_for_element("#nav-menu-button", timeout=10)
    assert not dashboard.find_element("#nav-links").is_displayed()
    assert _overflow(dashboard) <= 0
    # the header is fixed, so it could hide what does not fit: sign-out must be on the phone's screen
    assert dashboard.driver.execute_script(
        "return document.getElementById('logout-link').getBoundingClientRect().right") <= 390
    name = path.strip("/") or "overview"
    screenshot(dashboard, f"{name}_narrow_zh", width=390)


def test_dark_theme_applies_and_is_remembered(dashboard):
    dashboard.driver.get(dashboard.server_url + "/pivot?lang=en")
    dashboard.wait_for_element("#pivot-grid .ag-row", timeout=30)
    dashboard.driver.execute_script("document.getElementById('theme-switch').click()")
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark",
        timeout=10, msg="the page did not switch to the dark scheme")
    screenshot(dashboard, "pivot_dark_en")
    dashboard.driver.get(dashboard.server_url + "/")
    dashboard.wait_for_element("#overview-trend .main-svg", timeout=30)
    assert dashboard.driver.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark"
    screenshot(dashboard, "overview_dark_zh")
    assert console_errors(dashboard) == []


def _overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    return [(a["id"] + a["text"], b["id"] + b["text"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
            and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5]


@pytest.mark.parametrize("username", ["demo-exec", "demo-admin"])  # the administrator has the most links
def test_header_items_neither_overlap_nor_leave_the_window(dashboard_as, username):
    duo = dashboard_as(username)
    links = 7 if username == "demo-admin" else 6
    for lang in ("zh", "en"):
        for width in (1280, 1024, 768, 390):
            duo.driver.set_window_size(width, 900)
            duo.driver.get(duo.server_url + f"/agents?lang={lang}")
            # the header speaks the language once the sign-out link does (callbacks/auth.py)
            duo._wait_for(lambda d: d.execute_script("const a = document.getElementById('logout-link'); return a && a.textContent")
                          == ("退出" if lang == "zh" else "Sign out"), timeout=30, msg=f"header not in {lang}")
            shown = duo.driver.execute_script("return window.innerWidth")
            boxes = duo.driver.execute_script(HEADER_BOXES)
            where = f"{username} {lang} {width}px"
            assert {"lang-switch", "theme-switch", "logout-link", "app-title"} <= {b["id"] for b in boxes}, where
            # the page links: all inline on a wide screen (the administrator's one more), else in the menu
            inline = [b for b in boxes if '"nav-link"' in b["id"]]
            menu = [b for b in boxes if b["id"] == "nav-menu-button"]
            assert (len(inline), len(menu)) in ((links, 0), (0, 1)), where
            assert _overlapping(boxes) == [], (where, boxes)
            outside = [b["id"] + b["text"] for b in boxes if b["left"] < 0 or b["right"] > shown or b["clipped"]]
            assert outside == [], where
            screenshot(duo, f"header_{username}_{lang}_{width}", width)
    assert console_errors(duo) == []


# every number a person reads on a page: cards, captions, chart texts and ticks, grid cells
SHOWN_TEXTS = """
return [...document.querySelectorAll('#page-wrapper p, #page-wrapper .js-plotly-plot text, #page-wrapper .ag-cell')]
    .filter(el => el.getClientRects().length && el.children.length === 0).map(el => el.textContent.trim()).filter(Boolean);
"""
HYPHEN_MINUS = re.compile(r"(?<![\w.])-\d")   # "-5.0%", not a date's "2026-01" nor an id's "EDU-2"


@pytest.mark.parametrize("path", ["/", "/contribution", "/customer?id=C00001672", "/agents?lang=en"])
def test_negative_numbers_read_with_the_typographic_minus(dashboard, path):
    """Plotly's ticks and the grids write "−": cards, captions, chart labels and tooltips' texts too."""
    dashboard.driver.get(dashboard.server_url + path)
    dashboard.wait_for_element("#page-wrapper .js-plotly-plot .main-svg", timeout=60)
    settled(dashboard)
    texts = dashboard.driver.execute_script(SHOWN_TEXTS)
    assert len(texts) > 20
    assert [text for text in texts if HYPHEN_MINUS.search(text)] == []
    if path.startswith("/contribution"):   # the waterfall's claims and the loss-makers are negative
        negatives = [text for text in texts if re.search(r"−\d", text)]
        assert any("万元" in text for text in negatives) and len(negatives) > 10


SCOPE_SHOWN = """
const shown = [...document.querySelectorAll('#user-scope, #user-line')].filter(el => el.getClientRects().length);
return shown.map(el => { const r = el.getBoundingClientRect();
    return {text: el.innerText.replace(/\\s+/g, ' ').trim(), whole: el.scrollHeight <= el.clientHeight + 4 && el.scrollWidth <= el.clientWidth + 1,  // no line clamped away
            left: r.left, right: r.right, top: r.top, bottom: r.bottom}; });
"""


@pytest.mark.parametrize("username, words", [
    ("demo-region", {"zh": ["区域经理", "华东", "个人信息已脱敏"],
                     "en": ["Regional manager", "East China", "personal data masked"]}),
    ("demo-admin", {"zh": ["系统管理员", "无业务数据", "个人信息已脱敏"],
                    "en": ["Administrator", "no business data", "personal data masked"]}),
])
def test_what_the_user_may_see_reads_in_the_header_on_a_desktop_and_a_phone(dashboard_as, username, words):
    duo = dashboard_as(username)
    for lang in ("zh", "en"):
        for width in (1280, 390):
            duo.driver.set_window_size(width, 900)
            duo.driver.get(duo.server_url + ("/admin" if username == "demo-admin" else "/") + f"?lang={lang}")
            where = f"{username} {lang} {width}px"
            duo._wait_for(lambda d: [s for s in d.execute_script(SCOPE_SHOWN) if words[lang][-1] in s["text"]],
                          timeout=30, msg=f"{where}: no scope on screen")
            [scope] = duo.driver.execute_script(SCOPE_SHOWN)
            assert all(word in scope["text"] for word in words[lang]) and scope["whole"], (where, scope)
            assert 0 <= scope["left"] and scope["right"] <= duo.driver.execute_script("return window.innerWidth"), where
            others = [b for b in duo.driver.execute_script(HEADER_BOXES) if b["id"] != "user-badge"]
            assert _overlapping([{**scope, "id": "scope"}, *others]) == [], where
            screenshot(duo, f"header_scope_{username}_{lang}_{width}", width)


@pytest.mark.parametrize("path, graph, lang", [
    ("/", "overview-movers", "zh"),
    (f"/explore?{WHOLE_HISTORY}", "explore-chart-graph", "zh"),
    ("/contribution", "contribution-quadrant", "zh"),
    ("/agents?lang=en", "agents-histogram", "en"),
    ("/customer?id=C00001672", "customer-waterfall", "zh"),
])
def test_the_camera_downloads_a_chart_as_png_on_every_page(dashboard, path, graph, lang):
    """A person points at a chart, clicks the mode bar's camera, and finds the PNG in their downloads."""
    png = Path(dashboard.download_path) / f"policycube_{graph}.png"
    png.unlink(missing_ok=True)
    dashboard.driver.get(dashboard.server_url + path)
    dashboard._wait_for(lambda d: d.execute_script(
        "const p = document.querySelector(arguments[0]); return !!(p && p._fullData && p._fullData.length);",
        f"#{graph} .js-plotly-plot"), timeout=60, msg=f"{graph} drew nothing")
    settled(dashboard)
    figure = dashboard.find_element(f"#{graph} .js-plotly-plot")
    ActionChains(dashboard.driver).move_to_element(figure).perform()
    title = "下载图表为PNG格式" if lang == "zh" else "Download plot as a PNG"
    camera = dashboard.find_element(f"#{graph} .modebar-btn[data-title='{title}']")
    dashboard._wait_for(lambda d: camera.is_displayed(), timeout=10, msg="the mode bar stayed hidden")
    ActionChains(dashboard.driver).move_to_element(camera).click().perform()
    dashboard._wait_for(lambda d: png.exists() and png.stat().st_size > 10_000, timeout=30, msg=f"no {png.name} downloaded")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])   # the IHDR: twice the chart's size on screen (scale 2)
    shown = dashboard.driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];", figure)
    assert (width, height) == (pytest.approx(2 * shown[0], abs=4), pytest.approx(2 * shown[1], abs=4))


def _axis_titles(duo, graph: str) -> list[str]:
    return [e.text for e in duo.driver.find_elements("css selector", f"#{graph} .xtitle, #{graph} .ytitle")]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rate_axes_name_their_unit_and_the_average_stays_off_the_bubbles(dashboard, lang):
    suffix = "" if lang == "zh" else "?lang=en"
    dashboard.driver.get(dashboard.server_url + "/contribution" + suffix)
    dashboard.wait_for_element("#contribution-whale .xtitle", timeout=60)
    titles = _axis_titles(dashboard, "contribution-whale")
    assert len(titles) == 2 and all("%" in title for title in titles), titles
    for width in (1280, 390):
        dashboard.driver.set_window_size(width, 900)
        dashboard.driver.get(dashboard.server_url + "/agents" + suffix)
        dashboard.wait_for_element("#agents-compare .scatterlayer .point", timeout=60)
        settled(dashboard)
        [x_title, _y] = _axis_titles(dashboard, "agents-compare")
        assert x_title == ("活动率（有成交，%）" if lang == "zh" else "Activity rate (with a sale, %)")
        # the company average's name is readable: no bubble, nor the mode bar, drawn over it
        covered = dashboard.driver.execute_script("""
            const a = document.querySelector('#agents-compare .annotation-text').getBoundingClientRect();
            const over = [...document.querySelectorAll('#agents-compare .scatterlayer .point, #agents-compare .modebar')];
            return over.map(p => p.getBoundingClientRect())
                .filter(b => b.left < a.right && a.left < b.right && b.top < a.bottom && a.top < b.bottom).length;""")
        assert covered == 0, width


def _luminance(rgb: str) -> float:
    """Relative luminance (WCAG 2) of a CSS colour 'rgb(r, g, b)' or 'rgba(...)'."""
    parts = [float(v) / 255 for v in re.findall(r"[\d.]+", rgb)[:3]]
    r, g, b = ((c / 12.92) if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_links_in_grids_read_on_the_dark_theme(dashboard):
    dashboard.driver.get(dashboard.server_url + "/contribution")
    dashboard.wait_for_element("#contribution-losses .ag-row a", timeout=60)
    dashboard.driver.execute_script("document.getElementById('theme-switch').click()")
    dashboard._wait_for(lambda d: d.execute_script(
        "return document.documentElement.getAttribute('data-mantine-color-scheme')") == "dark", timeout=10,
        msg="the page did not switch to the dark scheme")
    link, ground = dashboard.driver.execute_script("""
        const a = document.querySelector('#contribution-losses .ag-row a');
        let el = a, bg = 'rgba(0, 0, 0, 0)';
        while (el && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) { bg = getComputedStyle(el).backgroundColor; el = el.parentElement; }
        return [getComputedStyle(a).color, bg];""")
    lighter, darker = sorted((_luminance(link), _luminance(ground)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (link, ground)   # WCAG AA for text
