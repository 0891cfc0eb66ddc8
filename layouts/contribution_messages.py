"""UI text of the Contribution & cost to serve page, merged into layouts.i18n.MESSAGES."""

MESSAGES: dict[str, dict[str, str]] = {
    "nav.contribution": {"zh": "贡献度与服务成本", "en": "Contribution & cost to serve"},
}
