"""A Diff (``netreg diff``) for people and programs: the terminal (rich), the JSON document
(UTF-8 bytes, values whole) and the standalone HTML page (jinja2, no external resources).
Phone numbers are masked on screen and in the page (138****5678), never in the JSON."""

from __future__ import annotations

import json
from datetime import date

from ..compare import ADDED, CHANGE_LABEL, CHANGED, FACT_LABEL, REMOVED, SAME, Diff, Entry
from ..model import forms as F
from ..util.text import clean_text, is_placeholder
from .mask import mask_digits

EMPTY = "（空）"
MARK = {ADDED: ("+", "green"), REMOVED: ("-", "red"), CHANGED: ("~", "yellow")}


def shown(form: F.Form, key: str, value: object, *, mask: bool = True) -> str:
    """A value as people read it: dates 2025-03-01, booleans 是/否, phones masked."""
    if value is None or is_placeholder(value):
        return EMPTY
    text = clean_text(value)
    return mask_digits(text) if mask and form.column(key).kind is F.Kind.PHONE else text


def content(entry: Entry, *, mask: bool = True) -> str:
    """The entry's filled cells, 列名：值；… (for an added or removed entry)."""
    values = entry.record.values
    return "；".join(f"{c.label}：{shown(entry.form, c.key, values.get(c.key), mask=mask)}"
                    for c in entry.form.data_columns if not is_placeholder(values.get(c.key)))


def changes_text(entry: Entry, *, mask: bool = True) -> str:
    return "；".join(f"{ch.field} {shown(entry.form, ch.key, ch.old, mask=mask)} → "
                    f"{shown(entry.form, ch.key, ch.new, mask=mask)}" for ch in entry.fields)


def facts_text(entry: Entry) -> str:
    return "；".join(f.text for f in entry.facts)


def fact_counts(diff: Diff) -> list[tuple[str, int]]:
    """(what, how many) for each kind of fact the diff holds, in FACT_LABEL order."""
    counts = [(label, len(diff.with_fact(kind))) for kind, label in FACT_LABEL.items()]
    return [(label, n) for label, n in counts if n]


def _tallies(diff: Diff) -> list[tuple[str, object]]:
    return [(unit, diff.tally(unit)) for unit in diff.units]


# ---------------------------------------------------------------------------- terminal

def render_diff_text(diff: Diff, console, saved=()) -> None:
    """The report on the terminal; ``saved``: files written, named at the end."""
    from .table import QuickTable as Table
    from rich.text import Text

    total = diff.total
    console.print(Text(f"netreg 对比：{diff.old_label} → {diff.new_label}", style="bold"), soft_wrap=True)
    console.print(f"合计：新增 {total.added} 条，删除 {total.removed} 条，变化 {total.changed} 条"
                  f"（{len(diff.units)} 个单位）")
    facts = fact_counts(diff)
    if facts:
        console.print("要点：" + "，".join(f"{label} {n} 项" for label, n in facts))
    table = Table(header_style="bold", expand=False)
    for name, justify in (("单位", "left"), ("新增", "right"), ("删除", "right"), ("变化", "right")):
        table.add_column(name, justify=justify, overflow="fold")
    for unit, t in _tallies(diff):
        table.add_row(unit, str(t.added), str(t.removed), str(t.changed))
    table.add_row(Text("合计", style="bold"), str(total.added), str(total.removed), str(total.changed))
    console.print(table)
    for unit in diff.units:
        mine = [e for e in diff.entries if e.unit == unit] + [e for e in diff.still_stale
                                                              if e.unit == unit and e.change != CHANGED]
        if not mine:
            continue
        console.print()
        console.print(Text(f"■ {unit}", style="bold"))
        for e in mine:
            sign, style = MARK.get(e.change, ("!", "yellow"))
            what = FACT_LABEL["still-stale"] if e.change == SAME else CHANGE_LABEL[e.change]
            line = Text(f"  {sign} {e.form.sheet} {what} ", style=style)
            line.append(e.label, style="bold")
            detail = changes_text(e) if e.change == CHANGED else ""
            extra = facts_text(e)
            if detail:
                line.append(f"：{detail}")
            if extra:
                line.append(f"（{extra}）")
            console.print(line, soft_wrap=True)
    if not diff.entries and not diff.still_stale:
        console.print(Text("两次登记的内容相同，没有新增、删除或变化。", style="bold green"))
    for path in saved:
        console.print(f"已保存：{path}")


# ---------------------------------------------------------------------------- JSON

def _plain(value: object) -> object:
    """A value for JSON: dates as 2025-03-01, everything else as it is."""
    return value.isoformat() if isinstance(value, date) else value


def _key(e: Entry) -> str:
    """The identity as the unit typed it this year (微信公众号/GH_ABC123): full-width forms and
    spaces folded as when matching, the letters' case kept."""
    import re
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", e.label))


def diff_document(diff: Diff) -> dict:
    def entry(e: Entry) -> dict:
        return {"form": e.form.id, "unit": e.unit, "identity": e.identity, "label": e.label, "change": e.change,
                "fields": [{"field": ch.field, "old": _plain(ch.old), "new": _plain(ch.new)} for ch in e.fields],
                "facts": [{"kind": f.kind, "text": f.text} for f in e.facts],
                "row": {c.label: _plain(e.record.values.get(c.key)) for c in e.form.data_columns}}

    def row(e: Entry) -> dict:
        return {c.label: _plain(e.record.values.get(c.key)) for c in e.form.data_columns}

    total = diff.total
    return {
        # SPEC §9's contract first: added/removed entries with their row, one item per changed field;
        # "key" is the identity as the unit typed it (matching ignores case, width and spaces)
        "added": [{"unit": e.unit, "form": e.form.id, "key": _key(e), "row": row(e)}
                  for e in diff.entries if e.change == "added"],
        "removed": [{"unit": e.unit, "form": e.form.id, "key": _key(e), "row": row(e)}
                    for e in diff.entries if e.change == "removed"],
        "changed": [{"unit": e.unit, "form": e.form.id, "key": _key(e), "field": ch.field,
                     "old": _plain(ch.old), "new": _plain(ch.new)}
                    for e in diff.entries if e.change == "changed" for ch in e.fields],
        "old": diff.old_label, "new": diff.new_label,
        "totals": {"added": total.added, "removed": total.removed, "changed": total.changed},
        "units": [{"unit": u, "added": t.added, "removed": t.removed, "changed": t.changed} for u, t in _tallies(diff)],
        "entries": [entry(e) for e in diff.entries],
        "still_stale": [entry(e) for e in diff.still_stale],
    }


def write_diff_json(diff: Diff, stream=None) -> None:
    """The document on stdout as UTF-8 bytes whatever the console's code page (render/json.py)."""
    import sys

    stream = stream or sys.stdout
    text = json.dumps(diff_document(diff), ensure_ascii=False, indent=2, default=str) + "\n"
    stream.flush()
    out = getattr(stream, "buffer", None)
    if out is None:
        stream.write(text)
    else:
        out.write(text.encode("utf-8"))
        out.flush()


# ---------------------------------------------------------------------------- HTML

def render_diff_html(diff: Diff) -> str:
    from ..util.resources import jinja_env

    stale = {id(e) for e in diff.still_stale}

    def row(e: Entry) -> dict:
        return {"unit": e.unit, "form": f"{e.form.sheet} {e.form.name}", "change": e.change,
                "change_label": CHANGE_LABEL[e.change], "label": e.label,
                "detail": changes_text(e) if e.change == CHANGED else content(e),
                "facts": facts_text(e), "stale": id(e) in stale}

    return jinja_env().get_template("diff.html.j2").render(
        old=diff.old_label, new=diff.new_label, total=diff.total, facts=fact_counts(diff),
        units=_tallies(diff), entries=[row(e) for e in diff.entries],
        still_stale=[row(e) for e in diff.still_stale],
    )
