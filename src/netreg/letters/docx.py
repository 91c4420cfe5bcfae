"""A Letter as a Word document (python-docx): A4 portrait, 2.5 cm margins, the body in 仿宋 三号
(16 pt) at a fixed 28 pt line, the header and title in 黑体, the errors as a table, the contact
line, and the signature and date at the right; page numbers at the foot. The East Asian font
is set on every style (w:rFonts w:eastAsia), so Word and WPS show 仿宋/黑体, not a Latin face.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..util.atomic import atomic_path

if TYPE_CHECKING:
    from .plan import Letter

BODY_FONT, TITLE_FONT, LATIN_FONT = "仿宋", "黑体", "Times New Roman"
BODY_PT, TITLE_PT, HEADER_PT, TABLE_PT = 16, 22, 18, 12
TITLE_CHARS = 20  # 二号 (22 pt) characters on a 16 cm line
BREAK_AFTER = ("工作群组", "、", "登记备案表")
LINE_PT = 28  # 公文: 22 lines a page at 三号
COLUMNS = (("序号", 1.3), ("位置", 5.7), ("问题及修改要求", 9.0))  # cm; 16 cm between the margins


def write_docx(letter: Letter, target: Path) -> Path:
    doc = _document(letter)
    with atomic_path(target) as tmp:
        doc.save(str(tmp))
    return target


def _document(letter: Letter):
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    section.footer_distance = Cm(1.2)
    _styles(doc)
    props = doc.core_properties
    props.title, props.subject = letter.title, letter.unit
    props.author = props.last_modified_by = letter.signature[0]
    props.language, props.comments, props.keywords = "zh-CN", "", letter.kind

    _paragraph(doc, letter.header, "通知抬头", bottom_rule=True)
    title = doc.add_paragraph(style="通知标题")
    lines = _title_lines(letter.title)
    for n, line in enumerate(lines):
        run = title.add_run(line)
        if n < len(lines) - 1:
            run.add_break()
    _paragraph(doc, f"{letter.unit}：", "Normal", indent=False)
    for text in letter.body:
        _paragraph(doc, text, "Normal")
    if len(letter.problems) == 1:
        p = letter.problems[0]
        _paragraph(doc, f"{p.where}：{p.message}", "Normal")
    elif letter.problems:
        _table(doc, letter)
    closing = [_paragraph(doc, text, "Normal") for text in letter.after][-1:]
    closing.append(_paragraph(doc, "", "Normal"))
    closing.append(_paragraph(doc, letter.contact_line, "Normal"))
    closing.append(_paragraph(doc, "", "Normal"))
    for text in letter.signature:
        p = _paragraph(doc, text, "Normal", indent=False)
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.right_indent = Pt(BODY_PT * 2)
        closing.append(p)
    for p in closing[:-1]:  # the sign-off never stands alone at the top of a page
        p.paragraph_format.keep_with_next = True
    _page_numbers(section)
    return doc


def _title_lines(title: str) -> list[str]:
    """The title in two balanced lines when it does not fit on one: 关于整改网站、新媒体平台、
    工作群组 / 及“网络大V”登记备案表的通知, not a line broken inside “网络大V”."""
    if len(title) <= TITLE_CHARS:
        return [title]
    for word in BREAK_AFTER:
        end = title.find(word) + len(word)
        if end > len(word) and end <= TITLE_CHARS and len(title) - end <= TITLE_CHARS:
            return [title[:end], title[end:]]
    return [title]


def _styles(doc) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    _font(normal, BODY_FONT, BODY_PT)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(LINE_PT)
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.widow_control = True
    for name, size, line, after in (("通知抬头", HEADER_PT, 30, 18), ("通知标题", TITLE_PT, 36, 18)):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        _font(style, TITLE_FONT, size)
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        style.paragraph_format.line_spacing = Pt(line)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = True
    table = doc.styles.add_style("通知表格", WD_STYLE_TYPE.PARAGRAPH)
    table.base_style = normal
    _font(table, BODY_FONT, TABLE_PT)
    table.paragraph_format.line_spacing = Pt(18)
    table.paragraph_format.space_before = table.paragraph_format.space_after = Pt(2)


def _font(style, east_asian: str, size: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style.font.name = LATIN_FONT  # w:ascii and w:hAnsi
    style.font.size = Pt(size)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:cs"), LATIN_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph(doc, text: str, style: str, *, indent: bool = True, bottom_rule: bool = False):
    from docx.shared import Pt

    p = doc.add_paragraph(text, style=style)
    if style == "Normal" and indent and text:
        p.paragraph_format.first_line_indent = Pt(BODY_PT * 2)  # two characters
    if bottom_rule:
        _border(p._p.get_or_add_pPr(), "bottom", sz=12, space=6)
    return p


def _border(ppr, side: str, *, sz: int, space: int) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    borders = OxmlElement("w:pBdr")
    line = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(sz)), ("space", str(space)), ("color", "000000")):
        line.set(qn(f"w:{key}"), value)
    borders.append(line)
    style = ppr.find(qn("w:pStyle"))  # w:pBdr comes before w:spacing, w:ind and w:jc
    if style is not None:
        style.addnext(borders)
    else:
        ppr.insert(0, borders)


def _table(doc, letter: Letter) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    rows = [(str(n), p.where, p.message) for n, p in enumerate(letter.problems, 1)]
    table = doc.add_table(rows=1 + len(rows), cols=len(COLUMNS))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for c, (_, width) in enumerate(COLUMNS):
        table.columns[c].width = Cm(width)
    for r, values in enumerate([tuple(h for h, _ in COLUMNS), *rows]):
        tr = table.rows[r]
        if r == 0:
            header = OxmlElement("w:tblHeader")  # repeated on every page
            tr._tr.get_or_add_trPr().append(header)
        for c, value in enumerate(values):
            cell = tr.cells[c]
            cell.width = Cm(COLUMNS[c][1])
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            para = cell.paragraphs[0]
            para.style = doc.styles["通知表格"]
            run = para.add_run(value)
            if r == 0:
                run.bold = True
                _shade(cell)
            if r == 0 or c == 0:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _shade(cell) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), "E7E6E6")
    cell._tc.get_or_add_tcPr().append(shd)


def _page_numbers(section) -> None:
    """— 1 — centred at the foot of every page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("— ").font.size = Pt(14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr, size = OxmlElement("w:rPr"), OxmlElement("w:sz")
    size.set(qn("w:val"), "28")
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    p.add_run(" —").font.size = Pt(14)
