"""UI text of the Single customer view page, merged into layouts.i18n.MESSAGES."""

MESSAGES: dict[str, dict[str, str]] = {
    "nav.customer": {"zh": "客户单一视图", "en": "Single customer view"},
}
