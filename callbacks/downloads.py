"""Downloads: /export/<view>.csv|.xlsx?spec=<query spec JSON>&lang=zh&kind=table|records[&cell=<JSON>].

`table` is what the view shows (labels in the language, totals); `records` streams every record
behind it, or behind one cell ({level: member}) of it. The spec is validated like any other (names from the cube definitions, values bound),
so a hand-made URL can ask nothing the pages could not. The CSV streams; the workbook is written to a
temporary file row by row, then sent. Both go through the same access checks and audit.

Pages set the CSV link's href; the Excel link beside it gets the same URL with `.xlsx`, in the
browser (`_mirror`), so no page callback builds two links or costs a request more.

`&check=1` asks only whether the export would be refused ({"refused": null}, or the sentence of the
refusal it would get, before any query runs but the records count of a workbook): a click on a link asks first
(layouts/assets/export_links.js) and says a refusal on the page, where a download's error response
would show nothing (a failed download in the browser's bar) or the bare text in place of the page.
"""
from __future__ import annotations

import datetime as dt
import json
from itertools import chain, islice
from urllib.parse import quote, urlencode

from dash import MATCH, Input, Output, clientside_callback
from flask import Blueprint, Response, jsonify, request, send_file, stream_with_context

from callbacks.auth import audited_export
from callbacks.engine import engine
from cubes.catalog import cube_by_name
from cubes.export import EXCEL_ROWS, TooManyRows, csv_chunks, displayed, filters_line, pivot_displayed, xlsx_file
from cubes.labels import record_labeller
from cubes.model import SpecError
from cubes.spec import QuerySpec
from layouts.export_links import PATTERN_LINKS, STRING_LINKS, excel_id
from layouts.i18n import normalise_language, t

blueprint = Blueprint("downloads", __name__)
VIEWS = ("overview", "explore", "pivot", "contribution", "agents", "customer")
KINDS = ("table", "records")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Views computed beyond one query (e.g. the contribution page's loss-making list): (view, kind) ->
# build(spec, request args, lang) -> the displayed frame. Pages register theirs on import.
PAGE_EXPORTS: dict = {}


def register_export(view: str, kind: str, build) -> None:
    PAGE_EXPORTS[(view, kind)] = build


def export_href(view: str, spec: dict, lang: str, kind: str = "table", cell: dict | None = None) -> str:
    query = {"spec": json.dumps(spec, ensure_ascii=False), "lang": lang, "kind": kind}
    if cell:
        query["cell"] = json.dumps(cell, ensure_ascii=False)
    return f"/export/{view}.csv?" + urlencode(query)


def _refuse(message: str, status: int = 400) -> Response:
    if request.args.get("check"):  # the page asking before a download: an answer, not a failed request
        return jsonify({"refused": message})
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@blueprint.get("/export/<view>.<any(csv, xlsx):fmt>")
def export(view: str, fmt: str):
    kind = request.args.get("kind", "table")
    lang = normalise_language(request.args.get("lang"))
    if view not in VIEWS or (kind not in KINDS and (view, kind) not in PAGE_EXPORTS):
        return _refuse(t("export.unknown", lang, views=", ".join(VIEWS), kinds=", ".join(KINDS)), 404)
    try:
        spec = QuerySpec.from_json(request.args.get("spec", ""))
        cell = json.loads(request.args.get("cell") or "{}")
        if not isinstance(cell, dict):
            raise SpecError("cell must be an object of level: member")
    except (SpecError, ValueError, TypeError) as error:
        # the sentence for a person, the detail for whoever wrote the URL by hand
        return _refuse(f"{t('export.invalid', lang)}\n{error}")
    cubes = engine()
    if fmt == "xlsx" and kind == "records" and (view, kind) not in PAGE_EXPORTS:
        try:
            total = cubes.drill_through(spec, cell, limit=1).attrs["total_rows"]
        except SpecError as error:  # a spec valid alone that the cube cannot answer (e.g. a level twice)
            return _refuse(f"{t('export.invalid', lang)}\n{error}")
        if total > EXCEL_ROWS - 2:
            return _refuse(t("export.too_many_rows", lang, rows=f"{total:,}", limit=f"{EXCEL_ROWS - 2:,}"), 413)
    if request.args.get("check"):
        return jsonify({"refused": None})
    try:  # the first frame before the first byte: a cell or spec the cube cannot answer is a 400, not a cut file
        frames = iter(_frames(cubes, view, kind, spec, cell, lang))
        first = list(islice(frames, 1))
    except SpecError as error:
        return _refuse(f"{t('export.invalid', lang)}\n{error}")
    line = filters_line(spec, lang, lambda ref, key: cubes.member_label(spec.cube, ref, key, lang))
    frames = audited_export(chain(first, frames), view, kind, spec, cell, fmt)
    name = f"{view}_{kind}_{dt.date.today().isoformat()}.{fmt}"
    if fmt == "csv":
        return Response(stream_with_context(csv_chunks(frames, line)), content_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
    try:
        workbook = xlsx_file(frames, line, f"{view}_{kind}")
    except TooManyRows:
        return _refuse(t("export.too_many_rows", lang, rows=f"> {EXCEL_ROWS - 2:,}", limit=f"{EXCEL_ROWS - 2:,}"), 413)
    return send_file(workbook, mimetype=XLSX, as_attachment=True, download_name=name)


def _frames(cubes, view: str, kind: str, spec: QuerySpec, cell: dict, lang: str):
    """The displayed frames of the export: one for a table, batches of labelled records."""
    if (view, kind) in PAGE_EXPORTS:
        return [PAGE_EXPORTS[(view, kind)](spec, request.args, lang)]
    if kind == "records":
        label = record_labeller(cube_by_name(spec.cube), lang, lambda ref: cubes.members(spec.cube, ref))
        return (label(batch) for batch in cubes.iter_records(spec, cell=cell))
    if spec.columns:
        return [pivot_displayed(cubes.pivot(spec), spec, lang)]
    return [displayed(cubes.query(spec), lang)]


# --- the Excel link of each CSV link, and both links' `download` attribute, set in the browser ----------
# `download` only on a real export URL: on the placeholder '#' it would save the page itself.
_MIRROR = """
function (href) {
    const real = typeof href === "string" && href.startsWith("/export/");
    if (!real) { return [null, "#", null]; }
    return ["", href.replace(/^(\\/export\\/[^/?]+)\\.csv\\?/, "$1.xlsx?"), ""];
}
"""


def _mirror(link_id) -> None:
    clientside_callback(_MIRROR, Output(link_id, "download"), Output(excel_id(link_id), "href"),
                        Output(excel_id(link_id), "download"), Input(link_id, "href"))


for _link in STRING_LINKS:
    _mirror(_link)
for _role, _keys in PATTERN_LINKS.items():
    _mirror({"role": _role, **{key: MATCH for key in _keys}})
