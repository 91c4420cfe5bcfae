"""The standalone HTML report of a merge (jinja2, inline CSS and SVG, phones masked)."""

from __future__ import annotations

from collections import Counter

from ..model.forms import FORMS_BY_ID
from ..model.issues import SEVERITY_LABEL, Severity, title
from ..model.report import figures
from ..util.resources import jinja_env
from .mask import masked


def _bars(items: list[tuple[str, int]]) -> list[dict]:
    """Bar geometry for an inline SVG chart (no scripts, no external resources)."""
    top = max((n for _, n in items), default=0) or 1
    return [{"label": label, "count": n, "width": round(300 * n / top, 1)} for label, n in items]


# Issues listed in the report: a school's few hundred all; a province's hundreds of thousands
# would make a page no browser opens (and undo the merge's flat memory). The summary's 问题清单
# holds every one; past these the page says how many and where they are.
PER_UNIT = 200
LISTED = 5000


def render_html(result, school: str) -> str:
    """The standalone HTML report of a merge (jinja2, inline CSS and SVG, phones masked)."""

    report = result.report
    statuses = result.statuses
    status_counts = Counter(s.label for s in statuses)
    by_unit: dict[str, list[dict]] = {}
    counts: Counter = Counter()
    listed = 0
    for i in result.issues:
        if i.code == "unit-missing":  # shown as 未报送 in the unit table
            continue
        unit = i.unit or "（未知单位）"
        counts[unit] += 1
        mine = by_unit.setdefault(unit, [])
        if len(mine) >= PER_UNIT or listed >= LISTED:
            continue
        listed += 1
        value, message = masked(i)
        mine.append(
            {"severity": str(i.severity), "label": SEVERITY_LABEL[i.severity], "title": title(i.code),
             "where": " ".join(x for x in (i.sheet or "", i.cell or "", f"“{i.field}”" if i.field else "") if x),
             "value": value, "message": message, "file": i.file or ""})
    return jinja_env().get_template("report.html.j2").render(
        school=school, as_of=report.as_of.isoformat(), statuses=statuses,
        basename=lambda p: p.replace("\\", "/").rsplit("/", 1)[-1],
        reported=sum(s.reported for s in statuses), total_units=len(statuses),
        status_bars=_bars(sorted(status_counts.items(), key=lambda kv: -kv[1])),
        platform_bars=_bars(figures(report.records).platforms),
        forms=[(f.id, f.name) for f in FORMS_BY_ID.values()],
        issues_by_unit=by_unit, issue_counts=counts, rows_in=result.rows_in, rows_out=result.rows_out,
        errors=result.count(Severity.ERROR), warnings=result.count(Severity.WARNING),
        top=[(title(c), n) for c, n in Counter(i.code for i in result.issues).most_common(8)],
        campaign=result.campaign,
        timeline=[{**bar, "units": "、".join(names), "late": late}
                  for bar, (_, names, late) in zip(_bars([(d.isoformat(), len(n)) for d, n, _ in result.arrivals]),
                                                   result.arrivals)],
    )
