"""Every AG Grid speaks the page's language: AG Grid's own filter menu and empty-grid text, as a user meets them."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.e2e.conftest import console_errors, screenshot, settled

pytestmark = pytest.mark.e2e


def _filter_member(duo, text: str) -> list[str]:
    """Open the 成员/Member column's filter from its header, as a person would, and type `text`;
    the filter's chosen condition, as the menu names it, is returned."""
    duo.find_element('#explore-grid .ag-header-cell[col-id="member"] .ag-header-cell-filter-button').click()
    box = duo.wait_for_element(".ag-filter input.ag-input-field-input[type='text']", timeout=10)
    conditions = duo.find_element(".ag-filter .ag-picker-field-display").text
    box.send_keys(text)
    return [conditions]


@pytest.mark.parametrize("lang, condition, empty", [("zh", "包含", "无匹配行"),
                                                     ("en", "Contains", "No Matching Rows")])
def test_grid_filter_menu_and_empty_grid_in_the_page_language(dashboard, lang, condition, empty):
    dashboard.driver.get(dashboard.server_url + "/explore" + ("?lang=en" if lang == "en" else ""))
    dashboard.wait_for_element("#explore-grid .ag-center-cols-container .ag-row", timeout=30)
    settled(dashboard)
    assert _filter_member(dashboard, "no such member") == [condition]
    # AG Grid's own text for a filter that leaves nothing (the vendored AG_GRID_LOCALE_CN's noMatchingRows)
    dashboard.wait_for_contains_text("#explore-grid .ag-overlay", empty, timeout=10)
    dashboard._wait_for(lambda driver: not driver.find_elements(
        By.CSS_SELECTOR, "#explore-grid .ag-center-cols-container .ag-row:not(.ag-opacity-zero)"), timeout=10,
        msg="rows still shown under a filter that matches nothing")
    screenshot(dashboard, f"grid_filter_{lang}")
    assert console_errors(dashboard) == []
