// The shell's URL bookkeeping runs in the browser: an in-page navigation (a drill, a pivot swap) changes
// only the page's own parameters, and then nothing in the header or the filter bar needs the server.

// Dash Pages writes the registry's one-language title into the tab after every route, later than any
// callback of ours can run; the title the shell wants is kept here and put back whenever <title> changes.
let wantedTitle = null;
const keepTitle = () => { if (wantedTitle !== null && document.title !== wantedTitle) { document.title = wantedTitle; } };
let titleWatch = null;

window.dash_clientside = Object.assign({}, window.dash_clientside, {
    shell: {
        // URL <-> language switch in one callback (two would form a dependency cycle), and the URL's
        // language and global filters as `shell-query`, which changes only when they do.
        sync: function (search, switched, keys, current) {
            const noUpdate = window.dash_clientside.no_update;
            const triggered = window.dash_clientside.callback_context.triggered.map(t => t.prop_id);
            // a malformed escape (%E0%A4%A) is kept as typed, as the server's parser does, not thrown
            const decode = text => { try { return decodeURIComponent(text); } catch (error) { return text; } };
            const name = part => decode(part.split("=")[0]);
            let parts = (search || "").replace(/^\?/, "").split("&").filter(Boolean);
            let lang = parts.filter(p => name(p) === "lang").map(p => decode(p.slice(5))).pop();
            lang = keys.languages.includes(lang) ? lang : keys.languages[0];
            let newSearch = noUpdate;
            if (triggered.includes("lang-switch.value") && keys.languages.includes(switched) && switched !== lang) {
                lang = switched;
                parts = parts.filter(p => name(p) !== "lang");
                if (lang !== keys.languages[0]) { parts.push("lang=" + lang); }
                newSearch = parts.length ? "?" + parts.join("&") : "";
            }
            const shared = parts.filter(p => keys.shared.includes(name(p)));
            if (lang !== keys.languages[0]) { shared.push("lang=" + lang); }
            const shellQuery = shared.length ? "?" + shared.join("&") : "";
            return [newSearch, lang === switched ? noUpdate : lang, shellQuery === current ? noUpdate : shellQuery];
        },
        // <html lang> (screen readers, fonts, translation prompts) and the tab's title, "经营总览 · 保险分析立方"
        // or "Overview · PolicyCube": the page's, or the unknown-address page's for a path no page has
        title: function (pathname, lang, keys) {
            lang = keys.languages.includes(lang) ? lang : keys.languages[0];
            const path = (pathname || "/").replace(/(.)\/+$/, "$1");
            const titles = keys.titles[path] || keys.notFoundTitle;
            wantedTitle = titles[lang];
            document.documentElement.lang = keys.htmlLang[lang];
            if (titleWatch === null) {
                titleWatch = new MutationObserver(keepTitle);
                titleWatch.observe(document.head, {subtree: true, childList: true, characterData: true});
            }
            keepTitle();
            return wantedTitle;
        },
        // the unknown-address page has nothing to filter: no filter bar above it
        filterBar: function (pathname, keys) {
            const path = (pathname || "/").replace(/(.)\/+$/, "$1");
            return keys.titles[path] ? {} : {display: "none"};
        }
    }
});
