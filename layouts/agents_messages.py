"""UI text of the Agent effectiveness page, merged into layouts.i18n.MESSAGES."""

MESSAGES: dict[str, dict[str, str]] = {
    "nav.agents": {"zh": "营销员效能", "en": "Agent effectiveness"},
}
