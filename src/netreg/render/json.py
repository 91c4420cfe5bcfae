"""The JSON document of ``validate --format json`` (SPEC §5), streamed one issue at a time.
JSON is the machine channel: values are kept whole."""

from __future__ import annotations

import json

from ..model.report import Report


def render_json(report: Report) -> str:
    return "".join(iter_json(report))


def iter_json(report: Report):
    """The JSON document in pieces, exactly as ``json.dumps(report.to_dict(), indent=2,
    ensure_ascii=False)`` would print it, one issue at a time: at province scale the whole
    document at once (and json's pure-Python indenting encoder) doubled validate's memory."""
    head = report.to_dict(issues=False)
    yield _dumps(head, 0)[:-2]  # without the closing "\n}"
    yield ',\n  "issues": ['
    for n, issue in enumerate(report.issues):
        yield ("," if n else "") + "\n    " + _dumps(issue.to_dict(), 2)
    yield "\n  ]\n}" if report.issues else "]\n}"


def _dumps(obj: object, level: int) -> str:
    """json.dumps(obj, indent=2, ensure_ascii=False) for an object nested ``level`` deep;
    scalars go through json's C encoder."""
    if isinstance(obj, dict) and obj:
        pad = "\n" + "  " * (level + 1)
        items = (f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dumps(v, level + 1)}" for k, v in obj.items())
        return "{" + ",".join(items) + "\n" + "  " * level + "}"
    if isinstance(obj, (list, tuple)) and obj:
        pad = "\n" + "  " * (level + 1)
        return "[" + ",".join(pad + _dumps(v, level + 1) for v in obj) + "\n" + "  " * level + "]"
    return json.dumps(obj, ensure_ascii=False)


def write_json(report: Report, stream=None) -> None:
    """The document on stdout as UTF-8 bytes whatever the console's code page (GBK on a
    Chinese Windows): a group name with an emoji must not end the run, and ``> out.json``
    must be readable as JSON."""
    import sys

    stream = stream or sys.stdout
    stream.flush()
    out = getattr(stream, "buffer", None)
    for chunk in iter_json(report):
        if out is None:
            stream.write(chunk)
        else:
            out.write(chunk.encode("utf-8"))
    if out is None:
        stream.write("\n")
    else:
        out.write(b"\n")
        out.flush()
