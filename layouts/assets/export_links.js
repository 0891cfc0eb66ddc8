// A click on an export link (layouts/export_links.py) asks the server first whether it would refuse the
// export (`&check=1`, callbacks/downloads.py): a refused download would show nothing on the page (a
// failed download in the browser's bar) or, without the `download` attribute, the bare text in place of
// the page. A refusal is said beside the links, in the page's language; an accepted export downloads
// through the same link, clicked again.
(function () {
    const NOTICE = "export-refusal";

    function say(link, text) {
        const group = link.parentElement;
        let notice = group.nextElementSibling;
        if (!notice || !notice.classList.contains(NOTICE)) {
            notice = document.createElement("div");
            notice.className = NOTICE;
            notice.setAttribute("role", "alert");
            group.after(notice);
        }
        notice.textContent = text;
    }

    function clear(link) {
        const notice = link.parentElement && link.parentElement.nextElementSibling;
        if (notice && notice.classList.contains(NOTICE)) { notice.remove(); }
    }

    document.addEventListener("click", function (event) {
        const link = event.target.closest && event.target.closest("a.export-link");
        if (!link) { return; }
        const href = link.getAttribute("href") || "";
        if (!href.startsWith("/export/")) { event.preventDefault(); return; }  // no export yet: nothing to save
        if (link.dataset.checked === "yes") { delete link.dataset.checked; return; }  // asked: the download
        event.preventDefault();
        clear(link);
        fetch(href + "&check=1", {credentials: "same-origin", cache: "no-store"}).then(function (response) {
            if (response.status === 401) { return link.dataset.signedOut; }
            if (!response.ok) { return link.dataset.failed; }
            return response.json().then(function (answer) {
                if (answer.refused) { return answer.refused.split("\n")[0]; }  // the sentence, not the detail
                link.dataset.checked = "yes";
                link.click();
                return null;
            });
        }).catch(() => link.dataset.failed).then(function (text) {
            if (text) { say(link, text); }
        });
    }, true);
})();
