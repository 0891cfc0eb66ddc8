"""CSV downloads: /export/<view>.csv?spec=<query spec JSON>&lang=zh&kind=table|records[&cell=<JSON>].

`table` is what the view shows (labels in the language, totals); `records` streams every record
behind it, or behind one cell ({level: member}) of it. The spec is validated like any other (names from the cube definitions, values bound),
so a hand-made URL can ask nothing the pages could not.
"""
from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, request, stream_with_context

from callbacks.auth import audited_export
from callbacks.engine import engine
from cubes.export import csv_chunks, displayed, filters_line, pivot_displayed, record_headers
from cubes.model import SpecError
from cubes.spec import QuerySpec
from layouts.i18n import normalise_language

blueprint = Blueprint("downloads", __name__)
VIEWS = ("overview", "explore", "pivot", "contribution", "agents", "customer")
KINDS = ("table", "records")
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
    return Response(message + "\n", status=status, mimetype="text/plain; charset=utf-8")


@blueprint.get("/export/<view>.csv")
def export_csv(view: str):
    kind = request.args.get("kind", "table")
    if view not in VIEWS or (kind not in KINDS and (view, kind) not in PAGE_EXPORTS):
        return _refuse(f"unknown export {view}/{kind}; valid views: {', '.join(VIEWS)}; kinds: {', '.join(KINDS)}", 404)
    lang = normalise_language(request.args.get("lang"))
    try:
        spec = QuerySpec.from_json(request.args.get("spec", ""))
        cell = json.loads(request.args.get("cell") or "{}")
        if not isinstance(cell, dict):
            raise SpecError("cell must be an object of level: member")
    except (SpecError, ValueError, TypeError) as error:
        return _refuse(f"invalid export request: {error}")
    cubes = engine()
    line = filters_line(spec, lang, lambda ref, key: cubes.member_label(spec.cube, ref, key, lang))
    if (view, kind) in PAGE_EXPORTS:
        frames = [PAGE_EXPORTS[(view, kind)](spec, request.args, lang)]
    elif kind == "records":
        frames = (batch.rename(columns=record_headers(spec.cube, batch.columns, lang))
                  for batch in cubes.iter_records(spec, cell=cell))
    elif spec.columns:
        frames = [pivot_displayed(cubes.pivot(spec), spec, lang)]
    else:
        frames = [displayed(cubes.query(spec), lang)]
    frames = audited_export(frames, view, kind, spec, cell)
    name = f"{view}_{kind}_{dt.date.today().isoformat()}.csv"
    return Response(stream_with_context(csv_chunks(frames, line)), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
