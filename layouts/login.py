"""The sign-in and sign-out pages: plain HTML forms served by Flask, so they work before any Dash code
may load; and the header's sign-out button."""
from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from dash import html

from layouts.i18n import t

STYLE = """
body { margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
       background: #f1f3f9; font-family: 'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei',
       system-ui, sans-serif; color: #212529; }
main { background: #fff; padding: 2rem 2.2rem; border-radius: 12px; width: 320px;
       box-shadow: 0 4px 24px rgba(40, 50, 120, .12); }
h1 { font-size: 1.25rem; margin: 0 0 1.4rem; }
label { display: block; font-size: .875rem; margin: .9rem 0 .3rem; font-weight: 500; }
input[type=text], input[type=password] { width: 100%; box-sizing: border-box; padding: .5rem .6rem;
       border: 1px solid #ced4da; border-radius: 8px; font-size: 1rem; }
button { margin-top: 1.4rem; width: 100%; padding: .6rem; border: 0; border-radius: 8px; background: #4c6ef5;
       color: #fff; font-size: 1rem; cursor: pointer; }
.message { padding: .6rem .8rem; border-radius: 8px; font-size: .875rem; margin-bottom: .6rem; }
.error { background: #fff5f5; color: #c92a2a; }
.info { background: #e7f5ff; color: #1864ab; }
.language { display: block; margin-top: 1.2rem; text-align: right; font-size: .8rem; color: #4c6ef5; }
"""


# a link in looks (the header's other controls are links and switches), a form button in function
SIGN_OUT_STYLE = {"fontSize": "14px", "whiteSpace": "nowrap", "background": "none", "border": 0, "padding": 0,
                  "margin": 0, "color": "var(--mantine-color-anchor)", "cursor": "pointer", "fontFamily": "inherit"}


def _notice(message: str | None, lang: str, error: bool) -> str:
    return (f'<p class="message {"error" if error else "info"}" id="login-message" role="alert">'
            f'{escape(t(message, lang))}</p>') if message else ""


def _page(lang: str, title_key: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t(title_key, lang))}</title><style>{STYLE}</style></head>
<body><main>
<h1>{escape(t(title_key, lang))}</h1>
{body}
</main></body></html>
"""


def sign_out_page(lang: str, csrf: str, message: str | None = None) -> str:
    """What GET /logout shows: a button that signs out by POST, since a link (or another site's
    page) must not sign anyone out."""
    return _page(lang, "auth.sign_out_title", f"""{_notice(message, lang, True)}
<p>{escape(t("auth.sign_out_question", lang))}</p>
{_sign_out_form(lang, csrf)}""")


def _sign_out_form(lang: str, csrf: str) -> str:
    return (f'<form method="post" action="/logout" id="logout-form"><input type="hidden" name="lang" value="{lang}">'
            f'<button type="submit" name="csrf" value="{escape(csrf)}" id="logout-submit">'
            f'{escape(t("auth.logout", lang))}</button></form>')


def sign_out_control(csrf: str) -> html.Form:
    """The header's sign-out: a link-looking button posting the session's CSRF token to /logout
    (callbacks/auth.py words it, and points it at /logout?lang=, in the page's language)."""
    return html.Form(
        html.Button(id="logout-link", type="submit", name="csrf", value=csrf, style=SIGN_OUT_STYLE),
        id="logout-form", action="/logout", method="post", style={"margin": 0},
    )


def login_page(lang: str, next_path: str = "/", message: str | None = None, error: bool = True,
               username: str = "") -> str:
    """The form in `lang`; `message` is a catalogue key (a failed attempt, a sign-out)."""
    other = "en" if lang == "zh" else "zh"
    return _page(lang, "auth.title", f"""{_notice(message, lang, error)}
<form method="post" action="/login" id="login-form">
<input type="hidden" name="next" value="{escape(next_path)}"><input type="hidden" name="lang" value="{lang}">
<label for="login-username">{escape(t("auth.username", lang))}</label>
<input type="text" id="login-username" name="username" value="{escape(username)}" autocomplete="username" required autofocus>
<label for="login-password">{escape(t("auth.password", lang))}</label>
<input type="password" id="login-password" name="password" autocomplete="current-password" required>
<button type="submit" id="login-submit">{escape(t("auth.submit", lang))}</button>
</form>
<a class="language" id="login-language" href="/login?{escape(urlencode({'lang': other, 'next': next_path}))}">{escape(t("auth.other_language", lang))}</a>""")
