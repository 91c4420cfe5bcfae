"""Who needs a letter and what it says (``netreg remind``): pure, from the campaign's status.

A unit needs chasing when it is 未报送, 需补报, 需整改 or 无法读取, when it is 逾期, or when its
stamped paper copy has not been recorded once the deadline has passed. Its ``Letter`` holds the
whole text, in the school's official tone, already cut into what the .docx shows (title,
paragraphs, the table of errors, contact line, signature) so that the Word letter, the e-mail
body and 催报名单 all say the same thing. ``key`` fingerprints what the letter asks for: the
same letter for the same status is sent once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..campaign.contacts import Contact
from ..campaign.counting import issue_key
from ..config import Campaign
from ..model.forms import FORMS, FORMS_BY_ID
from ..model.issues import Issue, Severity
from ..model.report import UnitState
from ..render.mask import masked

RECTIFY, REMIND = "整改", "催报"
CAMPAIGN = "网站、新媒体平台、工作群组及“网络大V”登记备案表"
CAMPAIGN_CODES = frozenset({"submission-late", "correction-late", "paper-missing", "file-superseded"})
CHASED = frozenset({UnitState.MISSING, UnitState.INCOMPLETE, UnitState.FIX, UnitState.UNREADABLE})
MAX_ROWS = 25  # errors listed in the letter; the annotated workbook has them all
REPLY_WORKING_DAYS = 3  # once the deadline has passed: the reply is due this many working days on
PAPER = "纸质版经单位负责人签字并加盖公章后，一式两份送至{office}"
COLOURED = "各处问题已在随本通知发送的修改意见表中用颜色标出，并逐条写明修改意见"
PLAIN = "请按上表所列位置逐项修改"
LISTED = "各处问题已在随本通知发送的修改意见表中逐条列出位置并写明修改意见"


@dataclass(frozen=True)
class Problem:
    """One row of the letter's table: where (附件4 第5行 F列“是否全部实名”) and what."""

    where: str
    message: str


@dataclass(frozen=True)
class Letter:
    unit: str
    kind: str  # 整改 | 催报
    state: UnitState
    late: bool
    paper: date | None  # the day the paper copy was recorded
    paper_due: bool  # the deadline has passed and no paper copy is recorded
    header: str  # school + department
    title: str  # 关于……的通知 / 提醒
    body: tuple[str, ...]  # paragraphs before the table
    problems: tuple[Problem, ...]
    after: tuple[str, ...]  # paragraphs after the table (what to do, by when)
    contact_line: str
    signature: tuple[str, str]  # department, date
    needs: tuple[str, ...]  # 需要做什么, in a few words each
    contact: Contact | None
    recipients: tuple[str, ...]
    files: tuple[str, ...]  # the unit's counted files, as the campaign's report names them
    key: str
    subject: str
    errors: int = 0
    warnings: int = 0
    due: date | None = None  # the 完成日期 the letter asks for

    @property
    def asks_correction(self) -> bool:
        """The letter asks a unit that reported to correct, complete or resend its forms."""
        return self.state in (UnitState.FIX, UnitState.INCOMPLETE, UnitState.UNREADABLE)

    @property
    def name(self) -> str:
        """File name stem: 医学院-整改通知."""
        return f"{self.unit}-{self.kind}通知"

    def text(self) -> str:
        """The letter as plain text (the e-mail body)."""
        indent = "\u3000\u3000"
        lines = [self.header, self.title, "", f"{self.unit}：", *(indent + p for p in self.body)]
        lines += [f"{indent}{n}. {p.where}：{p.message}" for n, p in enumerate(self.problems, 1)]
        lines += [indent + p for p in self.after]
        lines += ["", indent + self.contact_line, "", *self.signature]
        return "\n".join(lines) + "\n"


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def reply_due(as_of: date, deadline: date | None) -> date | None:
    """The deadline while it has not passed, else three working days after ``as_of``."""
    if deadline is not None and as_of <= deadline:
        return deadline
    day, left = as_of, REPLY_WORKING_DAYS
    while left:
        day += timedelta(days=1)
        left -= day.weekday() < 5
    return day


def original_name(shown: str | None) -> str:
    """#12 医学院.xlsx (the campaign's name for a counted file) → 医学院.xlsx."""
    return re.sub(r"^#\d+ ", "", shown or "")


def where(issue: Issue, several_files: bool) -> str:
    """附件4 第5行 F列“是否全部实名”; in a Word table 表格2（附件2） 第5行 第9列（联系电话）, as
    Word counts its rows and columns (with the file's name when the unit sent several)."""
    parts = []
    if several_files and issue.file:
        parts.append(f"文件“{original_name(issue.file)}”")
    form = FORMS_BY_ID.get(issue.form) if issue.form else None
    if issue.sheet:
        parts.append(issue.sheet if form is None or issue.sheet == form.sheet else f"工作表“{issue.sheet}”（{form.sheet}）")
    elif form is not None:
        parts.append(form.sheet)
    name = "".join((issue.field or "").split())
    if issue.in_table:  # a Word table: 表格2（附件2） 第5行 第9列（联系电话）, as Word counts them (SPEC §3)
        if issue.sheet and form is not None and issue.sheet != form.sheet:
            parts[-1] = f"{issue.sheet}（{form.sheet}）"
        if issue.cell:
            parts.append(issue.cell + (f"（{name}）" if name else ""))
        else:
            parts.extend(x for x in (f"第{issue.row}行" if issue.row else "", f"“{name}”" if name else "") if x)
        return " ".join(parts) or "文件"
    if issue.row:
        parts.append(f"第{issue.row}行")
    column = f"{issue.column}列" if issue.column and issue.row else ""
    if name:
        column += f"“{name}”"
    if column:
        parts.append(column)
    return " ".join(parts) or "文件"


def without_annotated_copy(letter: Letter, *, listed: bool = False) -> Letter:
    """The letter when its return cannot be coloured (Word, .xls, .csv): the 修改意见 workbook
    that goes with it only lists the problems (``listed``), or nothing goes with it and the
    letter points to its own table."""
    from dataclasses import replace

    words = LISTED if listed else PLAIN
    return replace(letter, after=tuple(p.replace(COLOURED, words) for p in letter.after))


def forms_phrase(ids) -> str:
    return "、".join(f"{FORMS_BY_ID[f].sheet}《{FORMS_BY_ID[f].name}》" for f in sorted(ids))


def plan_letters(status, config: Campaign, contacts: list[Contact], *, by: date | None = None) -> list[Letter]:
    """One Letter per unit of ``status`` (campaign.status.Status) that needs chasing."""
    view, as_of = status.view, status.as_of
    deadline = view.deadline
    due = by or reply_due(as_of, deadline)
    by_unit = {c.unit: c for c in contacts}
    letters = []
    for row in status.rows:
        paper_due = deadline is not None and as_of > deadline and row.paper is None
        if row.status.state not in CHASED and not paper_due:
            continue  # nothing left to do (a late first report is no reason for a letter of its own)
        letters.append(_letter(row, view, config, by_unit.get(row.status.unit), as_of, deadline, due, paper_due))
    return letters


def _letter(row, view, config: Campaign, contact: Contact | None, as_of: date, deadline: date | None,
            due: date | None, paper_due: bool) -> Letter:
    unit, state = row.status.unit, row.status.state
    report = view.report
    from ..campaign.counting import correction_late, first_submission

    counted = [s for s in view.counting.counted() if s.unit == unit]
    files = tuple(name for name, sid in view.shown.items() if any(s.id == sid for s in counted))
    received = max((s.received for s in counted), default=None)
    first = first_submission(view.counting, unit)
    late_fix = correction_late(unit, view, as_of)
    own = [i for i in report.issues if i.unit == unit and i.code not in CAMPAIGN_CODES]
    errors = [i for i in own if i.severity is Severity.ERROR]
    warnings = [i for i in own if i.severity is Severity.WARNING and i.code != "form-not-found"]
    missing = sorted({i.form for i in own if i.code == "form-not-found" and i.form})
    if state is UnitState.FIX and not errors and not missing:  # a blank template sent back as it was
        missing = [f.id for f in FORMS]
    several = len({i.file for i in own if i.file}) > 1
    recipients = tuple(contact.emails) if contact else ()
    dl = cn_date(deadline) if deadline else config.deadline
    by = f"请于{cn_date(due)}前" if due else "请尽快"
    paper = PAPER.format(office=config.office)
    late_text = (f"贵单位的登记表首次报送于{cn_date(first.received.date())}收到，晚于报送截止日期（{dl}），已逾期。"
                 if row.late and first else "")
    if late_fix and unit in view.asked:
        late_text += f"按照{cn_date(view.asked[unit][0])}的整改通知，贵单位应于{cn_date(view.asked[unit][1])}前完成整改，现已逾期。"
    body: list[str] = []
    after: list[str] = []
    problems: tuple[Problem, ...] = ()
    needs: list[str] = []
    if state is UnitState.MISSING:
        kind = REMIND
        title = f"关于尽快报送{CAMPAIGN}的通知"
        body.append(f"按照学校通知要求，各单位应于{dl}前报送{CAMPAIGN}。"
                    + (f"报送截止日期已过，截至{cn_date(as_of)}，仍未收到贵单位报送的登记表。" if row.late
                       else f"截至{cn_date(as_of)}，尚未收到贵单位报送的登记表，请抓紧填报。"))
        after.append(f"{by}将五张登记表（附件1～5）填写完整，电子版发送至 {config.email}；{paper}。"
                     "如某张表确实没有需要登记的内容，请在表中填写“无”后报送，不要空表交回。")
        needs.append("报送全部五张登记表（附件1～5）")
    elif state is UnitState.UNREADABLE:
        kind = REMIND
        title = f"关于重新报送{CAMPAIGN}的通知"
        body.append("贵单位报送的文件无法读取，具体原因如下：")
        problems = tuple(Problem(f"文件“{original_name(i.file)}”", masked(i)[1]) for i in errors)
        after.append(f"{by}在 Excel 或 WPS 中打开原表，“另存为” Excel 工作簿（*.xlsx，不要设置密码），"
                     f"重新发送至 {config.email}" + (f"；{paper}。" if row.paper is None else "。"))
        needs.append("重新报送可以读取的电子版（.xlsx）")
    elif state in (UnitState.FIX, UnitState.INCOMPLETE):
        kind = RECTIFY if state is UnitState.FIX else REMIND
        when = f"（{cn_date(received.date())}收到）" if received else ""
        if errors:
            title = f"关于整改{CAMPAIGN}的通知"
            body.append(f"经审核，贵单位报送的登记表{when}中有以下 {len(errors)} 处错误，需要整改：")
            problems = tuple(Problem(where(i, several), masked(i)[1]) for i in errors[:MAX_ROWS])
            if len(errors) > MAX_ROWS:
                after.append(f"（以上列出前 {MAX_ROWS} 处，共 {len(errors)} 处错误，全部问题见修改意见表。）")
            if contact and contact.emails:
                after.append(COLOURED
                             + (f"；另有 {len(warnings)} 处需要核实的内容（警告），也请逐项核实。" if warnings else "。"))
            needs.append(f"整改错误 {len(errors)} 处")
        else:
            title = f"关于{'填写' if state is UnitState.FIX else '补报'}{CAMPAIGN}的通知"
        blank = state is UnitState.FIX and not errors
        if blank:  # the blank template sent back as it was
            after.append(f"经审核，贵单位报送的登记表{when}是未填写的空白表。请逐表填写；如某张表确实没有需要登记的内容，"
                         "请在表中填写“无”，不要空表交回。")
            needs.append("填写登记表（交回的是空白表）")
        elif missing:
            lead = "此外，" if errors else f"经审核，贵单位报送的登记表{when}"
            after.append(f"{lead}缺少{forms_phrase(missing)}，请补报；如确实没有需要登记的内容，"
                         "请在表中填写“无”后报送。")
            needs.append("补报" + "、".join(f"附件{f}" for f in missing))
        if late_text:
            after.append(late_text)
        do = ("按上述意见逐项修改" + ("并补报缺少的登记表" if missing else "") + "，将修改后的登记表电子版"
              if errors else "将填写完整的登记表电子版" if blank else "将补报的登记表电子版")
        after.append(f"{by}{do}发送至 {config.email}"
                     + (f"；{paper}。" if row.paper is None else "。"))
        if missing and not errors:
            body, after = after[:1], after[1:]
    else:  # reported and clean: late, or the paper copy missing
        kind = REMIND
        title = f"关于报送{CAMPAIGN}纸质版的提醒" if paper_due else f"关于按时报送{CAMPAIGN}的提醒"
        if late_text:
            body.append(late_text)
        if paper_due:
            body.append(f"截至{cn_date(as_of)}，尚未收到贵单位加盖公章的纸质版登记表。")
            after.append(f"{by}将纸质版登记表（与电子版内容一致）经单位负责人签字并加盖公章后，"
                         f"一式两份送至{config.office}。")
    if row.late:
        needs.append(f"逾期（{first.received.month}月{first.received.day}日首次报送）" if first else "逾期未报送")
    if late_fix:
        needs.append("整改逾期")
    if paper_due and state is not UnitState.MISSING:
        needs.append("交纸质版（一式两份，加盖公章）")
    closing = "特此提醒。" if title.endswith("提醒") else "特此通知。"
    after.append(closing)
    key = _key(unit, kind, state, errors, missing, row, paper_due, view)
    header = f"{config.school}{config.department}"
    return Letter(
        unit=unit, kind=kind, state=state, late=row.late, paper=row.paper, paper_due=paper_due, header=header,
        title=title, body=tuple(body), problems=problems, after=tuple(after),
        contact_line=f"联系部门：{config.department}，办公地点：{config.office}，电子邮箱：{config.email}。",
        signature=(config.department, cn_date(as_of)), needs=tuple(needs), contact=contact, recipients=recipients,
        files=files, key=key, subject=f"{unit}：{title}", errors=len(errors), warnings=len(warnings), due=due)


def _key(unit: str, kind: str, state: UnitState, errors: list[Issue], missing: list[int], row, paper_due: bool,
         view) -> str:
    """What the letter asks for, fingerprinted: errors by form, code, the row's identity and
    column (never the row number), the missing forms, unreadable files, 逾期, 纸质版."""
    identities = {(r.file, r.sheet, r.row): r.form.identity_text(r.values) for r in view.report.records
                  if r.unit == unit}
    wanted = sorted({json.dumps(issue_key(i, identities), ensure_ascii=False, default=str) for i in errors})
    if state is UnitState.UNREADABLE:
        wanted = sorted({f"{original_name(i.file)}|{i.code}" for i in errors})
    parts = [unit, kind, str(state), wanted, missing, bool(row.late), paper_due]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()[:24]
