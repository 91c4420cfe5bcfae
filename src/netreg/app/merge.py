"""``netreg merge`` and the page's 生成汇总: the summary workbook and the HTML report of a
checked run, with a campaign's own columns (逾期, 纸质版, 报送次数, 最后报送时间) when it is one."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import NetregError
from ..model.issues import Issue
from ..model.report import Report, UnitStatus, missing_unit_issues, unit_statuses
from ..model.store import count_severity
from ..util.oserror import os_reason

if TYPE_CHECKING:  # the campaign's modules (pydantic settings, sqlite) only for a campaign's merge
    from ..campaign.counting import CampaignView


@dataclass
class MergeResult:
    report: Report
    statuses: list[UnitStatus]
    issues: tuple[Issue, ...]  # the report's, then unit-missing for each unit that returned nothing
    rows_in: int
    rows_out: int
    output: Path | None  # None: it could not be written (see ``failed``)
    html: Path | None = None
    failed: list[tuple[Path, str]] = field(default_factory=list)  # (file, why, in Chinese)
    campaign: dict[str, list] | None = None  # unit -> 逾期, 纸质版, 报送次数, 最后报送时间 (a campaign's merge)
    arrivals: list[tuple[date, list[str], bool]] = field(default_factory=list)  # day, units that sent, after the deadline
    note: str = ""  # sheets too long for Excel and where they continue, in Chinese ('' when none)

    def count(self, severity) -> int:
        return count_severity(self.issues, severity)


class OutputExists(NetregError):
    """The summary would overwrite an input, or a file the user did not allow to replace."""


def _resolved(path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop (RuntimeError in Python 3.11): keep its own name
        return Path(os.path.abspath(path))


def campaign_columns(view: CampaignView, statuses: list[UnitStatus]) -> dict[str, list]:
    """总览's campaign columns of each unit: 逾期, 纸质版 (the day it arrived), 报送次数, 最后报送时间."""
    from ..campaign.counting import is_late

    out = {}
    for st in statuses:
        own = view.counting.of_unit(st.unit)
        last = max((s.received for s in own), default=None)
        paper = view.paper.get(st.unit)
        out[st.unit] = ["逾期" if is_late(st.unit, view, view.report.as_of) else "",
                        paper.isoformat() if paper else "未交", len(own),
                        last.strftime("%Y-%m-%d %H:%M") if last else ""]
    return out


def arrivals(view: CampaignView) -> list[tuple[date, list[str], bool]]:
    """Each day something arrived: the units that sent (in order, once a day) and whether it was after the deadline."""
    days: dict[date, list[str]] = {}
    for s in sorted(view.counting.submissions, key=lambda s: s.received):
        if not s.duplicate and s.excluded is None:
            names = days.setdefault(s.received.date(), [])
            if (s.unit or "（单位未定）") not in names:
                names.append(s.unit or "（单位未定）")
    return [(d, names, view.deadline is not None and d > view.deadline) for d, names in days.items()]


def merge(report: Report, output: Path, *, school: str, html: Path | None = None,
          force: bool = False, inputs: list[Path] = (), on_phase=None, campaign: CampaignView | None = None) -> MergeResult:
    """Write the summary (and the HTML report) for an already validated run; ``on_phase`` is
    told what is being done (Chinese), for a progress line during a long write."""
    phase = on_phase or (lambda _text: None)
    from ..excel.summary import build_summary, continued_note, save_summary
    from ..util.atomic import atomic_path
    from ..util.memory import gc_paused

    resolved_inputs = {_resolved(p) for p in inputs} | {_resolved(f.path) for f in report.files}
    for target in [output] + ([html] if html else []):
        if _resolved(target) in resolved_inputs:
            raise OutputExists(f"{target} 是输入文件之一，不能覆盖")
        if Path(target).exists() and not force:
            raise OutputExists(f"{target} 已存在；如需覆盖请加 --force")
    statuses = unit_statuses(report)
    missing = missing_unit_issues(statuses)
    for st in statuses:  # each unit-missing warning is its unit's, in 总览 as in 问题清单 and the HTML
        st.warnings += sum(1 for i in missing if i.unit == st.unit)
    issues = report.issues + tuple(missing)
    rows_in = sum(f.rows for f in report.files)
    with gc_paused():
        phase(f"正在整理 {len(report.records)} 行数据和 {len(issues)} 个问题…")
        extra = campaign_columns(campaign, statuses) if campaign is not None else None
        note = continued_note(report.records, issues)  # in 总览 and in the result (the terminal says it)
        wb, bodies = build_summary(report, statuses, school, issues, extra, note)
        phase(f"正在写入汇总表 {Path(output).name}…")
        failed = []
        try:  # a summary left open in Excel/WPS must not cost the HTML report
            with atomic_path(output) as tmp:
                rows_out = save_summary(wb, bodies, tmp)
        except OSError as exc:
            failed.append((Path(output), os_reason(exc)))
            rows_out = 0
    result = MergeResult(report, statuses, issues, rows_in, rows_out, None if failed else Path(output),
                         failed=failed, campaign=extra, arrivals=arrivals(campaign) if campaign is not None else [],
                         note=note)
    if html:
        from ..render.html import render_html

        phase(f"正在生成网页报告 {Path(html).name}…")
        try:
            with atomic_path(html) as tmp:
                tmp.write_text(render_html(result, school), encoding="utf-8")
            result.html = Path(html)
        except OSError as exc:
            failed.append((Path(html), os_reason(exc)))
    return result


def merge_campaign(ledger, config, units: list[str], output: Path, html: Path | None, *,
                   as_of: date | None = None, progress=None) -> MergeResult:
    """``netreg merge`` in a campaign: the counted submissions checked and summarised into
    ``output`` (replaced) and ``html``; ``progress`` (``app.Progress``) follows the files read and
    the phases. NetregError when nothing counts yet."""
    from . import Progress
    from .campaign import campaign_report

    progress = progress or Progress()
    with ledger:
        progress.total = sum(len(s.files) for s in ledger.submissions())
        progress.step = "正在读取和校验计入的报送…"

        def read_one(_path) -> None:
            progress.done += 1
            progress.step = f"正在读取和校验…（已读取 {progress.done} 个文件）"

        view = campaign_report(ledger, config, units=units, as_of=as_of or date.today(), on_file=read_one)
    if not view.shown:
        raise NetregError("台账中还没有计入的报送，无法生成汇总")
    Path(output).parent.mkdir(parents=True, exist_ok=True)

    def phase(text: str) -> None:
        progress.step = text

    return merge(view.report, output, school=config.school, html=html, force=True, campaign=view, on_phase=phase)
