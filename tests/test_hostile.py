"""Hostile, broken and huge inputs (SPEC §7 "Bad input", "Safe output"; docs/reliability.md).

Every file of the corpus is generated here, in a temporary folder, next to good workbooks:
nothing binary is committed. Each kind is run through validate and merge (library and CLI, in
one run with the good files). A bad file gets exactly one one-line Chinese issue
(file-unreadable or file-legacy-format) naming it, or is read as data; the good files' rows
are still validated and merged; no traceback ever; inputs stay byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import openpyxl
import pytest
from builders import filled_template, hand_layout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netreg.model import forms as F
from netreg.excel.annotate import write_annotated
from netreg.config import Campaign, Limits
from netreg.check.normalize import clean_text
from netreg.sources.xlsx import _sheet_parts
from netreg.app.merge import OutputExists, merge
from netreg.pipeline import validate_paths

AS_OF = date(2025, 11, 25)
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
GOOD_UNIT = "医学院"
ACCOUNT = {"platform": "微信公众号", "account_name": "漯职医学院", "account_id": "gh_0123456789ab",
           "followers": 5230, "opened": date(2019, 9, 1), "purpose": "信息发布", "admin": "李娜",
           "phone": "13812345678"}
GOOD_ROWS = [ACCOUNT, {**ACCOUNT, "platform": "抖音", "account_name": "医学院抖音号", "account_id": "lhzy_med",
                       "followers": 3100, "phone": "0395-3136789"}]
FORMULA_TEXTS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", '=DISPIMG("ID_1",1)',
                 '=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0"]
REAL_FORMULAS = ["=1+1", "=+1+1", "=-1+1", "=SUM(1)", '=DISPIMG("ID_1",1)', '=HYPERLINK("http://x","y")',
                 "=cmd|' /C calc'!A0"]
HOSTILE_UNIT = '../..\\x/:*?"<>|' + "很长的单位名称" * 60
BOMB_MB = 400
PASSWD = "root:x:0:0"
SCRIPT, IMG = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netreg", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def _hashes(folder: Path) -> dict[str, str]:
    out = {}
    for root, dirs, names in os.walk(folder, followlinks=False):
        for n in names:
            p = Path(root) / n
            if p.is_file() and not p.is_symlink():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# --------------------------------------------------------------------------- package surgery

def rezip(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None] = lambda n, d: d,
          extra: dict[str, bytes] | None = None) -> Path:
    """Copy the package ``src`` to ``dst``, each part through ``edit`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def sheet_part(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as zf:
        return _sheet_parts(zf)[sheet]


def patch_sheet(src: Path, dst: Path, sheet: str, fn: Callable[[bytes], bytes]) -> Path:
    part = sheet_part(src, sheet)
    return rezip(src, dst, lambda n, d: fn(d) if n == part else d)


def append_rows(xml: bytes, rows: bytes) -> bytes:
    assert xml.count(b"</sheetData>") == 1
    return xml.replace(b"</sheetData>", rows + b"</sheetData>")


def lie_about_size(path: Path, name: str, size: int) -> None:
    """Make the part ``name`` declare ``size`` uncompressed bytes (local header and central
    directory) while its deflated stream still holds all of it: the classic lying zip bomb."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        offset = zf.getinfo(name).header_offset
    data[offset + 22:offset + 26] = size.to_bytes(4, "little")
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        n = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + n] == name.encode():
            data[at + 24:at + 28] = size.to_bytes(4, "little")
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def zip_bomb(dst: Path, good: Path, megabytes: int) -> Path:
    """``good`` with its 附件2 sheet padded by ``megabytes`` MB of blanks inside <sheetData>,
    streamed (never held in memory): a few hundred KB on disk."""
    part = sheet_part(good, "附件2")
    blank = b" " * (1 << 20)
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename != part:
                zout.writestr(info.filename, data)
                continue
            head, tail = data.split(b"<sheetData>", 1)
            with zout.open(part, "w", force_zip64=True) as fh:
                fh.write(head + b"<sheetData>")
                for _ in range(megabytes):
                    fh.write(blank)
                fh.write(tail)
    return dst


def ole2(*streams: str, size: int = 4096) -> bytes:
    """An OLE2 compound file's first bytes with the given stream names in its directory."""
    body = b"".join(s.encode("utf-16-le") + b"\0\0" for s in streams)
    return (OLE2 + bytes(504) + body).ljust(size, b"\0")


# --------------------------------------------------------------------------- the corpus

@dataclass
class Kind:
    name: str  # what it is (docs/reliability.md lists the same kinds)
    expect: str  # unreadable | legacy | unsupported | data | skipped
    build: Callable[[Path, Path], list[Path]]  # (folder, good file) -> files it made
    reason: str = ""  # a word the Chinese reason must contain
    rows: int = 0  # data rows it holds (expect == "data")


def _bytes(name: str, data: bytes) -> Callable[[Path, Path], list[Path]]:
    def build(folder: Path, good: Path) -> list[Path]:
        (folder / name).write_bytes(data)
        return [folder / name]
    return build


def _truncated(folder, good):
    data = good.read_bytes()
    (folder / "截断.xlsx").write_bytes(data[: len(data) // 2])
    return [folder / "截断.xlsx"]


def _no_workbook(folder, good):
    with zipfile.ZipFile(folder / "没有工作簿.xlsx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("ppt/presentation.xml", "<p:presentation/>")
    return [folder / "没有工作簿.xlsx"]


def _encrypted(folder, good):
    target = folder / "加密.xlsx"
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:  # crafted: an OLE2 container with an EncryptionInfo stream
        target.write_bytes(ole2("Root Entry", "EncryptionInfo", "EncryptedPackage"))
        return [target]
    with good.open("rb") as src, target.open("wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    assert target.read_bytes()[:8] == OLE2
    return [target]


def _legacy(name: str):
    def build(folder, good):
        target = folder / name
        try:
            import xlwt
        except ImportError:
            target.write_bytes(ole2("Root Entry", "Workbook", "\x05SummaryInformation"))
            return [target]
        book = xlwt.Workbook(encoding="utf-8")
        sheet = book.add_sheet("附件2")
        for ci, col in enumerate(F.FORMS_BY_ID[2].columns):
            sheet.write(3, ci, col.label)
        sheet.write(4, 1, "微信公众号")
        sheet.write(4, 2, name)  # the .xls and the .et differ: a byte-identical copy is read once
        book.save(str(target))
        return [target]
    return build


def _many_tables(folder, good):
    import docx

    doc = docx.Document()
    for _ in range(10_000):
        doc.add_table(rows=1, cols=1)
    doc.save(folder / "一万个表格.docx")
    return [folder / "一万个表格.docx"]


def _docx_bomb(folder, good):
    body = "<w:p><w:r><w:t>" + " " * (60 * 1024 * 1024) + "</w:t></w:r></w:p>"
    with zipfile.ZipFile(folder / "炸弹.docx", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", body)
    return [folder / "炸弹.docx"]


def _nested_zips(folder, good):
    data = good.read_bytes()
    for level in range(4):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"第{level}层.zip" if level else "医学院.xlsx", data)
        data = buf.getvalue()
    (folder / "套娃.zip").write_bytes(data)
    return [folder / "套娃.zip/第3层.zip/第2层.zip/第1层.zip"]  # a zip in the third: too deep


def _traversal_zip(folder, good):
    with zipfile.ZipFile(folder / "越界.zip", "w") as zf:
        zf.writestr("../../逃逸.xlsx", good.read_bytes())
    return [folder / "越界.zip/../../逃逸.xlsx"]


def _one_line_csv(folder, good):
    (folder / "一行.csv").write_text("附件2," + "很长" * 1_500_000, encoding="utf-8")
    return [folder / "一行.csv"]


def _far_ods(folder, good):
    content = ('<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
               ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="S"><table:table-row table:number-rows-repeated="999999"><table:table-cell/>'
               '</table:table-row><table:table-row><table:table-cell table:number-columns-repeated="16383"/>'
               '<table:table-cell office:value-type="float" office:value="1"/></table:table-row></table:table>'
               '</office:spreadsheet></office:body></office:document-content>')
    with zipfile.ZipFile(folder / "远端.ods", "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                    'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"/></manifest:manifest>')
        zf.writestr("content.xml", content)
    return [folder / "远端.ods"]


def _xlsm(folder, good):
    src = filled_template(folder.parent / "src-xlsm.xlsx", "图书馆", {2: [{**ACCOUNT, "account_id": "gh_library0001"}]})
    rezip(src, folder / "图书馆-宏.xlsm", extra={"xl/vbaProject.bin": OLE2 + os.urandom(2000)})
    return [folder / "图书馆-宏.xlsm"]


def _empty_workbook(folder, good):
    openpyxl.Workbook().save(folder / "空白工作簿.xlsx")
    return [folder / "空白工作簿.xlsx"]


def _dimension(folder, good):
    src = filled_template(folder.parent / "src-dim.xlsx", "团委", {2: [{**ACCOUNT, "account_id": "gh_youth00001"}]})
    patch_sheet(src, folder / "团委.xlsx", "附件2",
                lambda x: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', x))
    return [folder / "团委.xlsx"]


def _formatted_rows(folder, good):
    # a wrong phone: something to fix, so that --annotate writes this unit a copy (issue 22: none without)
    src = filled_template(folder.parent / "src-rows.xlsx", "教务处",
                          {2: [{**ACCOUNT, "account_id": "gh_jiaowu0001", "phone": "12345"}]})

    def pad(xml: bytes) -> bytes:
        last = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
        rows = b"".join(b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/><c r="K%d" s="1"/></row>'
                        % (r, r, r) for r in range(last + 1, last + 200_001))
        return append_rows(xml, rows)
    patch_sheet(src, folder / "教务处.xlsx", "附件2", pad)
    return [folder / "教务处.xlsx"]


def _far_cell(folder, good):
    src = filled_template(folder.parent / "src-far.xlsx", "纪委办公室", {2: [{**ACCOUNT, "account_id": "gh_far0000001"}]})
    patch_sheet(src, folder / "最远单元格.xlsx", "附件2", lambda x: append_rows(
        x, b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'))
    return [folder / "最远单元格.xlsx"]


def _far_row_no_ref(folder, good):
    src = filled_template(folder.parent / "src-far2.xlsx", "纪委办公室", {2: [{**ACCOUNT, "account_id": "gh_far0000002"}]})
    patch_sheet(src, folder / "无坐标的远行.xlsx", "附件2", lambda x: append_rows(
        x, b'<row r="99999999"><c t="inlineStr"><is><t>x</t></is></c></row>'))
    return [folder / "无坐标的远行.xlsx"]


def _merge_flood(folder, good):
    """60,000 merged ranges, each declaring a whole column down to row 1048576."""
    src = filled_template(folder.parent / "src-merge.xlsx", "宣传统战部", {2: [{**ACCOUNT, "account_id": "gh_merge00001"}]})

    def flood(xml: bytes) -> bytes:
        ranges = b"".join(b'<mergeCell ref="%s5:%s1048576"/>' % (c, c) for c in (b"B", b"C", b"K") for _ in range(20_000))
        if b"</mergeCells>" in xml:
            return re.sub(rb'<mergeCells count="\d+">', b"<mergeCells>", xml).replace(b"</mergeCells>", ranges + b"</mergeCells>")
        return xml.replace(b"</sheetData>", b"</sheetData><mergeCells>" + ranges + b"</mergeCells>")
    patch_sheet(src, folder / "宣传统战部.xlsx", "附件2", flood)
    return [folder / "宣传统战部.xlsx"]


def _long_cell(folder, good):
    filled_template(folder / "组织部.xlsx", "组织部",
                    {2: [{**ACCOUNT, "account_id": "gh_zuzhi000001", "note": "长" * 32767}]})
    return [folder / "组织部.xlsx"]


def _control_chars(folder, good):
    hand_layout(folder / "信息工程学院.xlsx", "信息工程学院",
                {2: [{**ACCOUNT, "account_id": "gh_xinxi000001", "account_name": "信息\x01工程\x07学院\x1b号",
                      "purpose": "通知\x07发布"}]})
    return [folder / "信息工程学院.xlsx"]


LOL = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
       + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                  for i in range(1, 10)) + b"]>")


def _hand(folder: Path, name: str) -> Path:
    """A hand-made workbook (xlsxwriter: its text lives in xl/sharedStrings.xml)."""
    return hand_layout(folder.parent / name, "图书馆", {2: [{**ACCOUNT, "account_id": "gh_hand00000001"}]})[0]


def _entity_in_strings(folder: Path, doctype: bytes, entity: bytes, src: str, dest: str) -> list[Path]:
    """A hand-made workbook whose shared strings declare ``doctype`` and use ``entity``."""
    def edit(name, data):
        if name != "xl/sharedStrings.xml":
            return data
        assert b"<si><t>" in data
        return data.replace(b"<sst", doctype + b"<sst", 1).replace(b"<si><t>", b"<si><t>" + entity, 1)
    return [rezip(_hand(folder, src), folder / dest, edit)]


def _billion_laughs(folder, good):
    return _entity_in_strings(folder, LOL, b"&lol9;", "src-lol.xlsx", "笑声炸弹.xlsx")


XXE = b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _xxe_strings(folder, good):
    return _entity_in_strings(folder, XXE, b"&xxe;", "src-xxe.xlsx", "外部实体-字符串.xlsx")


def _xxe_sheet(folder, good):
    def edit(xml):
        assert b"<is><t>" in xml
        return xml.replace(b"<worksheet", XXE + b"<worksheet", 1).replace(b"<is><t>", b"<is><t>&xxe;", 1)
    return [patch_sheet(good, folder / "外部实体-工作表.xlsx", "附件2", edit)]


def _xxe_workbook(folder, good):
    def edit(name, data):
        if name != "xl/workbook.xml":
            return data
        assert b"</workbook>" in data
        return data.replace(b"<workbook", XXE + b"<workbook", 1).replace(
            b"</workbook>", b"<extLst><ext uri=\"x\">&xxe;</ext></extLst></workbook>")
    return [rezip(good, folder / "外部实体-工作簿.xlsx", edit)]


def _bomb(folder, good):
    return [zip_bomb(folder / "压缩炸弹.xlsx", good, BOMB_MB)]


def _lying_bomb(folder, good):
    part = sheet_part(good, "附件2")
    target = patch_sheet(good, folder / "谎报大小.xlsx", "附件2",
                         lambda x: x.replace(b"<is><t>", b"<is><t>" + b"a" * (30 << 20), 1))
    lie_about_size(target, part, 1000)
    return [target]


def _formula_text(folder, good):
    rows = [{**ACCOUNT, "account_id": f"gh_jidian{n:05d}", "account_name": text, "purpose": text}
            for n, text in enumerate(FORMULA_TEXTS)]
    hand_layout(folder / "机电工程学院.xlsx", "机电工程学院", {2: rows}, typed=False)
    return [folder / "机电工程学院.xlsx"]


def _real_formulas(folder, good):
    rows = [{**ACCOUNT, "account_id": f"gh_jingguan{n:04d}"} for n in range(len(REAL_FORMULAS))]
    path = filled_template(folder / "经济管理学院.xlsx", "经济管理学院", {2: rows})
    wb = openpyxl.load_workbook(path)
    ws = wb["附件2"]
    for n, formula in enumerate(REAL_FORMULAS):
        ws.cell(5 + n, 3).value = formula  # 账号名称
        ws.cell(5 + n, 10).value = formula  # 备注
    wb.save(path)
    return [path]


def _width_twins(folder, good):
    path = filled_template(folder / "艺术设计学院.xlsx", "艺术设计学院",
                           {2: [{**ACCOUNT, "account_id": "gh_yishu000001"}]})
    wb = openpyxl.load_workbook(path)
    wb.copy_worksheet(wb["附件2"]).title = "附件２"
    wb.save(path)
    return [path]


def _folder_named_xlsx(folder, good):
    (folder / "x.xlsx").mkdir()
    (folder / "x.xlsx" / "说明.txt").write_text("not a workbook", encoding="utf-8")
    return []


def _dangling(folder, good):
    (folder / "断开的链接.xlsx").symlink_to(folder / "不存在" / "a.xlsx")
    return [folder / "断开的链接.xlsx"]


def _self_loop(folder, good):
    (folder / "自环.xlsx").symlink_to("自环.xlsx")
    return [folder / "自环.xlsx"]


def _dir_loop(folder, good):
    (folder / "循环").symlink_to(".")
    return []


def _lock_file(folder, good):
    (folder / "~$医学院.xlsx").write_bytes(b"\x07netreg " + bytes(150))
    return []


def _hostile_names(folder, good):
    path = filled_template(folder / 'x:*?"<>|\\名.xlsx', HOSTILE_UNIT,
                           {2: [{**ACCOUNT, "account_id": "gh_hostile0001", "note": SCRIPT, "phone": IMG}]},
                           meta={"unit": HOSTILE_UNIT})
    con = filled_template(folder / "CON.xlsx", "../" * 40 + "CON",
                          {2: [{**ACCOUNT, "account_id": "gh_hostile0002"}]})
    return [path, con]


def _as_xls(folder, good):
    src = filled_template(folder.parent / "src-xls.xlsx", "招生就业处", {2: [{**ACCOUNT, "account_id": "gh_zhaosheng01"}]})
    shutil.copy(src, folder / "招生就业处.xls")
    return [folder / "招生就业处.xls"]


CORPUS = [
    Kind("0 字节文件", "unreadable", _bytes("空文件.xlsx", b""), "空"),
    Kind("随机字节（.xlsx 扩展名）", "unreadable", _bytes("随机.xlsx", random.Random(7).randbytes(5000)), "不是有效的"),
    Kind("网页另存的 .xls", "unsupported", _bytes("网页.xls", "<html><body><table><tr><td>附件2</td></tr></table></body></html>".encode()), "网页"),
    Kind("截断的 zip（取一半）", "unreadable", _truncated, "损坏"),
    Kind("没有工作簿的 zip", "unreadable", _no_workbook, "没有 Excel 工作簿"),
    Kind("加密工作簿", "unreadable", _encrypted, "密码"),
    Kind("旧版 .xls（xlwt 写的）", "data", _legacy("旧版.xls"), rows=1),
    Kind("WPS .et", "data", _legacy("WPS表格.et"), rows=1),
    Kind("旧版 Word .doc", "legacy", _bytes("登记表.doc", ole2("Root Entry", "WordDocument")), "旧版 Word"),
    Kind("WPS 文字 .wps", "legacy", _bytes("登记表.wps", ole2("Root Entry", "WordDocument") + b"wps"), "WPS 文字"),
    Kind("PDF 扫描件", "unsupported", _bytes("盖章版.pdf", b"%PDF-1.7\n" + bytes(200)), "PDF"),
    Kind("Word 文档里 10000 个表格", "unreadable", _many_tables, "表格超过"),
    Kind("Word 文档压缩炸弹", "unreadable", _docx_bomb, "过大"),
    Kind("压缩包套压缩包（4 层）", "unreadable", _nested_zips, "嵌套"),
    Kind("压缩包里有 ../ 路径", "unreadable", _traversal_zip, "压缩包以外"),
    Kind("单行 3 MB 的 csv", "data", _one_line_csv),
    Kind(".ods 在 XFD1000000 处有值", "unreadable", _far_ods, "过大"),
    Kind("十亿笑声（实体嵌套）", "unreadable", _billion_laughs, "DOCTYPE"),
    Kind("外部实体 XXE（sharedStrings）", "unreadable", _xxe_strings, "DOCTYPE"),
    Kind("外部实体 XXE（工作表）", "unreadable", _xxe_sheet, "DOCTYPE"),
    Kind("外部实体 XXE（workbook.xml）", "unreadable", _xxe_workbook, "DOCTYPE"),
    Kind(f"压缩炸弹（{BOMB_MB} MB 空白）", "unreadable", _bomb, "过大"),
    Kind("谎报解压大小的压缩包", "unreadable", _lying_bomb, "损坏"),
    Kind("XFD1048576 处有一个值", "unreadable", _far_cell, "过大"),
    Kind("第 99999999 行、无坐标的单元格", "unreadable", _far_row_no_ref, "过大"),
    Kind("断开的符号链接", "unreadable", _dangling, "无法访问"),
    Kind("指向自身的符号链接", "unreadable", _self_loop, "无法访问"),
    Kind(".xlsm（含 vbaProject.bin）", "data", _xlsm, rows=1),
    Kind("空工作簿（openpyxl 新建）", "data", _empty_workbook),
    Kind("维度声明 A1:XFD1048576", "data", _dimension, rows=1),
    Kind("20 万行只有格式的空行", "data", _formatted_rows, rows=1),
    Kind("6 万个整列合并区域", "data", _merge_flood, rows=1),
    Kind("32767 个字符的单元格", "data", _long_cell, rows=1),
    Kind("控制字符 \\x01 \\x07 \\x1b", "data", _control_chars, rows=1),
    Kind("像公式的文本", "data", _formula_text, rows=len(FORMULA_TEXTS)),
    Kind("真公式（含 DISPIMG、HYPERLINK、DDE）", "data", _real_formulas, rows=len(REAL_FORMULAS)),
    Kind("全角/半角同名工作表（附件２ 与 附件2）", "data", _width_twins, rows=2),
    Kind("单位名含 / \\ .. : * ? \" < > | 及超长名称", "data", _hostile_names, rows=2),
    Kind("扩展名为 .xls 的 xlsx", "data", _as_xls, rows=1),
    Kind("名为 x.xlsx 的文件夹", "skipped", _folder_named_xlsx),
    Kind("指向上级的符号链接循环（循环 → .）", "skipped", _dir_loop),
    Kind("Office 锁文件 ~$医学院.xlsx", "skipped", _lock_file),
]


@dataclass
class Corpus:
    folder: Path
    good: Path
    files: dict[str, list[Path]]  # kind name -> files

    def of(self, expect: str) -> list[tuple[Kind, Path]]:
        return [(k, p) for k in CORPUS if k.expect == expect for p in self.files[k.name]]

    def bad(self) -> list[tuple[Kind, Path]]:
        return self.of("unreadable") + self.of("legacy") + self.of("unsupported")

    @property
    def data_rows(self) -> int:
        return len(GOOD_ROWS) + sum(k.rows for k in CORPUS if k.expect == "data")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Corpus:
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "回收"
    folder.mkdir()
    good = filled_template(folder / f"{GOOD_UNIT}.xlsx", GOOD_UNIT, {2: GOOD_ROWS})
    files = {k.name: k.build(folder, good) for k in CORPUS}
    return Corpus(folder, good, files)


@pytest.fixture(scope="module")
def report(corpus):
    return validate_paths([corpus.folder, corpus.good], Campaign(), as_of=AS_OF)


# --------------------------------------------------------------------------- library level

def test_every_bad_file_gets_exactly_one_clear_issue(corpus, report):
    for kind, path in corpus.bad():
        mine = [i for i in report.issues if i.file == str(path)]
        code = {"legacy": "file-legacy-format", "unsupported": "file-unsupported"}.get(kind.expect, "file-unreadable")
        assert [i.code for i in mine] == [code], (kind.name, mine)
        message = mine[0].message
        assert "\n" not in message and re.search(r"[\u4e00-\u9fff]", message)
        assert kind.reason in message, (kind.name, message)
    for kind, path in corpus.of("data"):
        status = {f.path: f.status for f in report.files}
        assert status.get(str(path)) == "ok", (kind.name, path)
        assert not [i for i in report.issues if i.file == str(path) and i.code.startswith("file-")]


def test_skipped_things_make_no_noise_and_good_file_is_read_once(corpus, report):
    paths = [f.path for f in report.files]
    assert len(paths) == len(set(paths))
    assert [p for p in paths if Path(p).resolve() == corpus.good.resolve()] == [str(corpus.good)]
    assert not any(p.endswith("x.xlsx") or "循环" in p or "~$" in p for p in paths)
    assert not any(i.file and ("循环" in i.file or "~$" in i.file or i.file.endswith("x.xlsx"))
                   for i in report.issues)
    # the folder named x.xlsx is searched like any folder: the note in it is read and named
    note = [i for i in report.issues if i.file and i.file.endswith("x.xlsx/说明.txt")]
    assert [(i.code, i.severity) for i in note] == [("sheet-ignored", "info")]


def test_good_rows_are_still_validated_and_merged(corpus, report, tmp_path):
    good = [r for r in report.records if r.file == str(corpus.good)]
    assert [r.values["account_id"] for r in good] == [r["account_id"] for r in GOOD_ROWS]
    assert len(report.records) == corpus.data_rows
    result = merge(report, tmp_path / "汇总.xlsx", school="漯河职业技术学院", html=tmp_path / "r.html",
                   inputs=[corpus.folder])
    assert result.rows_in == result.rows_out == corpus.data_rows
    ws = openpyxl.load_workbook(tmp_path / "汇总.xlsx")["附件2"]
    values = {c.value for row in ws.iter_rows() for c in row}
    assert {"gh_0123456789ab", "lhzy_med", "漯职医学院", "医学院抖音号"} <= values
    assert "长" * 32767 in values  # the longest cell Excel allows, kept whole
    assert "信息工程学院号" in values  # control characters dropped, the rest kept
    for text in FORMULA_TEXTS:
        assert clean_text(text) in values, text
    for formula in REAL_FORMULAS:
        assert formula in values, formula


def test_summary_never_holds_a_formula_or_a_secret(corpus, report, tmp_path):
    out = tmp_path / "汇总.xlsx"
    merge(report, out, school="漯河职业技术学院", html=tmp_path / "r.html", inputs=[corpus.folder])
    with zipfile.ZipFile(out) as zf:
        for name in zf.namelist():
            data = zf.read(name)
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in data and b"<f " not in data, name
            assert PASSWD.encode() not in data and b"lollol" not in data
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert PASSWD not in page
    assert "<script>alert" not in page and "<img src=x" not in page  # typed markup is escaped
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # (the invalid phone is listed as typed)


def test_annotated_copies_stay_inside_the_output_folder(corpus, report, tmp_path):
    out = tmp_path / "修改意见"
    written = write_annotated(report, out, config=Campaign()).written
    assert written
    for p in written:
        assert p.resolve().parent == out.resolve() and p.is_file()
        assert len(p.name.encode()) <= 255
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)  # no temp files left
    from netreg.excel.annotate import NOT_IN_THE_FORMS
    from netreg.model.issues import Severity

    owner = {f.path: f.unit for f in report.files}
    to_fix = {owner.get(i.file, i.unit) for i in report.issues
              if i.severity is not Severity.INFO and i.code not in NOT_IN_THE_FORMS}
    units = {f.unit for f in report.files if f.unit in to_fix}
    # every unit with something to fix, the hostile ones too (one workbook per readable file);
    # a unit with nothing to fix gets none (issue 22)
    assert len(written) >= len(units) - 1 and len(units) > 20


def test_defusedxml_refusals_are_quick_and_never_expand(corpus):
    for name in ("十亿笑声（实体嵌套）", "外部实体 XXE（sharedStrings）", "外部实体 XXE（工作表）",
                 "外部实体 XXE（workbook.xml）"):
        [path] = corpus.files[name]
        start = time.perf_counter()
        rep = validate_paths([path], Campaign(), as_of=AS_OF)
        assert time.perf_counter() - start < 5
        assert [i.code for i in rep.issues] == ["file-unreadable"]
        assert PASSWD not in rep.issues[0].message and "lol" not in rep.issues[0].message


def test_calamine_alone_does_not_expand_entities(corpus):
    """Measured fact behind the pre-check: calamine's own XML reader refuses unknown entities
    rather than expanding them or reading files (kept as a regression check)."""
    from python_calamine import CalamineWorkbook

    for name in ("十亿笑声（实体嵌套）", "外部实体 XXE（sharedStrings）", "外部实体 XXE（工作表）"):
        [path] = corpus.files[name]
        with pytest.raises(Exception) as info:
            book = CalamineWorkbook.from_path(str(path))
            for sheet in book.sheet_names:
                book.get_sheet_by_name(sheet).to_python()
        assert "entity" in str(info.value).lower()


def test_limits_are_configurable_and_checked_before_parsing(corpus, tmp_path):
    tight = Campaign(limits=Limits(max_file_mb=0.001))
    rep = validate_paths([corpus.good], tight, as_of=AS_OF)
    assert [i.code for i in rep.issues] == ["file-unreadable"] and "文件过大" in rep.issues[0].message
    many = filled_template(tmp_path / "医学院.xlsx", GOOD_UNIT,
                           {2: [{**ACCOUNT, "account_id": f"gh_{n:012d}"} for n in range(120)]})
    rep = validate_paths([many], Campaign(limits=Limits(max_cells=1000)), as_of=AS_OF)
    assert [i.code for i in rep.issues] == ["file-unreadable"] and "区域过大" in rep.issues[0].message
    rep = validate_paths([many], Campaign(limits=Limits(max_cells=1400)), as_of=AS_OF)
    assert rep.files[0].status == "ok" and len(rep.records) == 120
    rep = validate_paths([corpus.good], Campaign(limits=Limits(max_compression_ratio=1.5)), as_of=AS_OF)
    assert [i.code for i in rep.issues] == ["file-unreadable"] and "解压后过大" in rep.issues[0].message


def test_a_rust_panic_in_calamine_never_escapes(corpus, monkeypatch, tmp_path):
    """pyo3 turns a Rust panic into PanicException, a BaseException: it must not escape. A sound
    package is then read by the second reader; a damaged one is one unreadable file."""
    import python_calamine

    PanicException = type("PanicException", (BaseException,), {})

    class Panicking:
        @staticmethod
        def from_filelike(fh):
            raise PanicException("index out of bounds")

    monkeypatch.setattr(python_calamine, "CalamineWorkbook", Panicking)
    rep = validate_paths([corpus.good], Campaign(), as_of=AS_OF)
    assert rep.files[0].reader == "openpyxl" and len(rep.records) == len(GOOD_ROWS)
    damaged = tmp_path / "医学院.xlsx"  # a zip whose sheet part is not XML at all: neither reader can
    with zipfile.ZipFile(corpus.good) as zin, zipfile.ZipFile(damaged, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, b"\x00garbage" if info.filename.startswith("xl/worksheets/") else zin.read(info))
    rep = validate_paths([damaged], Campaign(), as_of=AS_OF)
    message = rep.issues[0].message  # in Chinese; no Python or Rust class name reaches the user
    assert [i.code for i in rep.issues] == ["file-unreadable"] and "损坏" in message and "Exception" not in message


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads a chmod 000 file anyway: the dangling symlink covers 'cannot open'")
def test_unreadable_permissions(tmp_path):
    path = filled_template(tmp_path / "医学院.xlsx", GOOD_UNIT, {2: GOOD_ROWS})
    path.chmod(0)
    try:
        rep = validate_paths([tmp_path], Campaign(), as_of=AS_OF)
    finally:
        path.chmod(0o644)
    assert [i.code for i in rep.issues if i.file == str(path)] == ["file-unreadable"]


# --------------------------------------------------------------------------- command line

def test_cli_validate_and_merge_whole_corpus(corpus, tmp_path):
    before = _hashes(corpus.folder)
    folder, good = str(corpus.folder), str(corpus.good)
    runs = {
        "json": _cli("validate", folder, good, "--as-of", "2025-11-25", "--format", "json"),
        "text": _cli("validate", folder, good, "--as-of", "2025-11-25", "--annotate", str(tmp_path / "意见")),
        "merge": _cli("merge", folder, good, "--as-of", "2025-11-25", "-o", str(tmp_path / "汇总.xlsx"),
                      "--html", str(tmp_path / "报告.html")),
    }
    for name, proc in runs.items():
        assert "Traceback" not in proc.stdout + proc.stderr, name
        assert proc.returncode == 1, (name, proc.stderr[-2000:])
    doc = json.loads(runs["json"].stdout)
    assert doc["summary"]["rows"] == corpus.data_rows
    for kind, path in corpus.bad():
        mine = [i for i in doc["issues"] if i["file"] == str(path)]
        assert len(mine) == 1 and mine[0]["code"].startswith("file-"), kind.name
    for kind, path in corpus.bad():
        assert path.name in runs["text"].stdout, kind.name
    assert re.search(rf"读入 {corpus.data_rows} 行（[^）]*），写入汇总 {corpus.data_rows} 行", runs["merge"].stdout)
    assert (tmp_path / "汇总.xlsx").is_file() and (tmp_path / "报告.html").is_file()
    assert all(p.resolve().parent == (tmp_path / "意见").resolve() for p in (tmp_path / "意见").iterdir())
    assert _hashes(corpus.folder) == before  # inputs byte-identical after every command


def test_cli_nothing_readable_exits_2_without_traceback(corpus, tmp_path):
    bad = [str(p) for _, p in corpus.bad()]
    proc = _cli("validate", *bad, "--format", "json")
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert len(json.loads(proc.stdout)["issues"]) == len(bad)
    proc = _cli("merge", *bad, "-o", str(tmp_path / "汇总.xlsx"))
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "汇总.xlsx").exists()


def test_cli_loops_and_missing_paths_on_the_command_line(corpus, tmp_path):
    loop = corpus.folder / "自环.xlsx"
    proc = _cli("merge", str(corpus.good), str(loop), str(corpus.good), str(corpus.folder / "不存在.xlsx"),
                "-o", str(tmp_path / "汇总.xlsx"))
    assert "Traceback" not in proc.stdout + proc.stderr and proc.returncode == 1, proc.stderr
    assert (tmp_path / "汇总.xlsx").is_file()
    assert re.search(rf"读入 {len(GOOD_ROWS)} 行（[^）]*），写入汇总 {len(GOOD_ROWS)} 行", proc.stdout)  # given twice, read once
    proc = _cli("validate", str(corpus.folder / "循环"), str(loop), "--format", "json")
    assert "Traceback" not in proc.stdout + proc.stderr and proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [f["path"] for f in doc["files"]].count(str(corpus.folder / "循环" / f"{GOOD_UNIT}.xlsx")) == 1


def _peak_rss_kb(*args: str) -> tuple[int, float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "netreg", *args],
                          capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    assert m, proc.stderr[-2000:]
    return int(m.group(1)), elapsed, proc


@pytest.mark.skipif(not Path("/usr/bin/time").exists() and os.environ.get("CI") != "true",
                    reason="GNU time (apt-get install time) measures peak memory")
@pytest.mark.parametrize("kind", [f"压缩炸弹（{BOMB_MB} MB 空白）", "谎报解压大小的压缩包", "XFD1048576 处有一个值",
                                  "第 99999999 行、无坐标的单元格", "十亿笑声（实体嵌套）"])
def test_peak_memory_on_bombs_stays_bounded(corpus, kind):
    [path] = corpus.files[kind]
    rss, elapsed, proc = _peak_rss_kb("validate", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stdout + proc.stderr
    assert rss < 300 * 1024, f"{kind}: peak RSS {rss / 1024:.0f} MB"
    assert elapsed < 30
    print(f"{kind}: peak RSS {rss / 1024:.0f} MB, {elapsed:.2f} s")


@pytest.mark.skipif(not Path("/usr/bin/time").exists() and os.environ.get("CI") != "true",
                    reason="GNU time (apt-get install time) measures peak memory")
def test_peak_memory_of_an_annotated_copy_stays_bounded(corpus, tmp_path):
    """openpyxl holds a whole workbook: 200 000 formatted rows get the 修改意见 sheet only."""
    [path] = corpus.files["20 万行只有格式的空行"]
    rss, elapsed, proc = _peak_rss_kb("validate", str(path), "--annotate", str(tmp_path / "意见"))
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stdout + proc.stderr
    assert [p.name for p in (tmp_path / "意见").iterdir()] == ["教务处-修改意见.xlsx"]
    assert rss < 300 * 1024, f"peak RSS {rss / 1024:.0f} MB"
    print(f"annotate 200k formatted rows: peak RSS {rss / 1024:.0f} MB, {elapsed:.2f} s")


def test_killed_merge_leaves_no_half_written_summary(tmp_path):
    folder = tmp_path / "in"
    rows = [{**ACCOUNT, "account_id": f"gh_{n:012d}", "account_name": f"账号{n}"} for n in range(4000)]
    filled_template(folder / "医学院.xlsx", GOOD_UNIT, {2: rows})
    out = tmp_path / "out" / "汇总.xlsx"
    out.parent.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "netreg", "merge", str(folder), "-o", str(out),
                             "--as-of", "2025-11-25"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    caught = False
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.name.endswith(".tmp") for p in out.parent.iterdir()):
            proc.send_signal(signal.SIGKILL)
            caught = True
            break
        time.sleep(0.002)
    proc.wait()
    if not caught:
        pytest.skip("the write finished before it could be interrupted")
    # A temp file may remain; under the real name there is nothing, or (killed right after the
    # rename) the whole summary: never half of one.
    if out.exists():
        with zipfile.ZipFile(out) as zf:
            assert zf.testzip() is None
        assert openpyxl.load_workbook(out, read_only=True)["附件2"].max_row == 2 + len(rows)


# --------------------------------------------------------------------------- properties

_BASE: dict[str, bytes] = {}


def _base_workbook() -> bytes:
    if "xlsx" not in _BASE:
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            path = filled_template(Path(d) / "医学院.xlsx", GOOD_UNIT, {2: GOOD_ROWS})
            _BASE["xlsx"] = path.read_bytes()
    return _BASE["xlsx"]


def _never_crashes(data: bytes, name: str = "医学院.xlsx") -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        report = validate_paths([path], Campaign(), as_of=AS_OF)
        assert len(report.files) == 1
        status = report.files[0].status
        if status == "unreadable":
            assert [i.code for i in report.issues if i.file == str(path)][0].startswith("file-")
        out = Path(d) / "汇总.xlsx"
        result = merge(report, out, school="漯河职业技术学院", inputs=[path])
        assert out.is_file() and result.rows_in == result.rows_out
        with pytest.raises(OutputExists):
            merge(report, out, school="漯河职业技术学院", inputs=[path])
        assert path.read_bytes() == data


MUTATION = st.tuples(st.sampled_from(["flip", "insert", "delete", "set"]), st.floats(0, 1, exclude_max=True),
                     st.integers(0, 255), st.integers(1, 64))


def _mutate(data: bytes, mutations) -> bytes:
    buf = bytearray(data)
    for kind, where, byte, length in mutations:
        if not buf:
            break
        at = int(where * len(buf))
        if kind == "flip":
            buf[at] ^= 1 << (byte % 8)
        elif kind == "insert":
            buf[at:at] = bytes([byte]) * length
        elif kind == "delete":
            del buf[at:at + length]
        else:
            buf[at] = byte
    return bytes(buf)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MUTATION, min_size=1, max_size=8))
def test_byte_mutations_of_the_package_never_crash(mutations):
    _never_crashes(_mutate(_base_workbook(), mutations))


XML_PARTS = ["xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml", "xl/styles.xml",
             "docProps/custom.xml", "[Content_Types].xml", "SHEET"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(XML_PARTS), st.lists(MUTATION, min_size=1, max_size=6))
def test_mutations_inside_the_deflated_xml_never_crash(part, mutations):
    import io

    src = io.BytesIO(_base_workbook())
    dst = io.BytesIO()
    with zipfile.ZipFile(src) as zin:
        target = _sheet_parts(zin)["附件2"] if part == "SHEET" else part
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                zout.writestr(info.filename, _mutate(data, mutations) if info.filename == target else data)
    _never_crashes(dst.getvalue())


TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")), min_size=0, max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(TEXT, TEXT, TEXT, st.integers(0, 10**7)), min_size=1, max_size=8))
def test_random_valid_workbooks_lose_no_row_and_no_value(rows):
    import tempfile

    typed = [{**ACCOUNT, "account_id": f"gh_{n:012d}", "account_name": f"A{n}-{name}", "purpose": purpose,
              "note": note, "followers": followers} for n, (name, purpose, note, followers) in enumerate(rows)]
    with tempfile.TemporaryDirectory() as d:
        path = filled_template(Path(d) / "医学院.xlsx", GOOD_UNIT, {2: typed})
        report = validate_paths([path], Campaign(), as_of=AS_OF)
        result = merge(report, Path(d) / "汇总.xlsx", school="漯河职业技术学院", inputs=[path])
        assert result.rows_in == result.rows_out == len(typed)
        ws = openpyxl.load_workbook(Path(d) / "汇总.xlsx")["附件2"]
        header = [c.value for c in ws[2]]
        got = [dict(zip(header, (c.value for c in row))) for row in ws.iter_rows(min_row=3)]
    assert [r["账号ID"] for r in got] == [t["account_id"] for t in typed]
    for row, t in zip(got, typed):
        assert row["账号名称"] == clean_text(t["account_name"])
        assert row["粉丝人数"] == t["followers"]
        for label, key in (("主要用途", "purpose"), ("备注", "note")):
            want = clean_text(t[key])
            assert (row[label] or "") == want or (row[label] is None and not want), (label, t[key])


def test_an_error_value_in_a_cell_is_kept_as_the_unit_sees_it(tmp_path):
    """Typing #NUM! or #N/A in Excel (or writing it with openpyxl) makes an error cell, which
    calamine reads as empty: the value was lost without a word (found by the random test)."""
    typed = [{**ACCOUNT, "account_id": f"gh_{n:012d}", "note": note} for n, note in enumerate(("#NUM!", "#N/A"))]
    path = filled_template(tmp_path / "医学院.xlsx", GOOD_UNIT, {2: typed})
    with zipfile.ZipFile(path) as z:
        assert any(b't="e"' in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    report = validate_paths([path], Campaign(), as_of=AS_OF)
    assert [r.values["note"] for r in report.records if r.form.id == 2] == ["#NUM!", "#N/A"]


# --------------------------------------------------------------------------- zipcheck vs calamine

def _sheet_xml(rows, prefix: str) -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f' xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"' if prefix else ""
    out = [f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet xmlns="http://schemas.openxmlformats.org/'
           f'spreadsheetml/2006/main"{ns}><{p}sheetData>']
    for row_ref, cells in rows:
        out.append(f"<{p}row" + (f' r="{row_ref}"' if row_ref else "") + ">")
        for ref, kind in cells:
            attr = f' r="{ref}"' if ref else ""
            if kind == "empty":
                out.append(f'<{p}c{attr} s="0"/>')
            elif kind == "number":
                out.append(f"<{p}c{attr}><{p}v>1</{p}v></{p}c>")
            else:
                out.append(f'<{p}c{attr} t="inlineStr"><{p}is><{p}t>x</{p}t></{p}is></{p}c>')
        out.append(f"</{p}row>")
    out.append(f"</{p}sheetData></{p}worksheet>")
    return "".join(out).encode()


_REFS = st.one_of(st.none(), st.tuples(st.integers(1, 40), st.integers(1, 300)).map(
    lambda t: f"{_letters(t[0])}{t[1]}"))


def _letters(col: int) -> str:
    from netreg.util.cells import col_letter

    return col_letter(col - 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 300)),
                          st.lists(st.tuples(_REFS, st.sampled_from(["empty", "number", "text"])), max_size=6)),
                max_size=12),
       st.sampled_from(["", "x"]), st.sampled_from([16, 64, 1 << 20]))
def test_zipcheck_measures_sheets_as_calamine_lays_them_out(rows, prefix, chunk):
    """The pre-check's farthest value equals calamine's own extent (its dense grid from A1)."""
    import io

    from python_calamine import CalamineWorkbook

    from netreg.sources import guard as zipcheck

    xml = _sheet_xml(rows, prefix)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_plain_workbook())) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, xml if info.filename == "xl/worksheets/sheet1.xml" else zin.read(info.filename))
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(buf.getvalue())).get_sheet_by_index(0)
    except Exception:  # calamine refuses this layout (e.g. a row number going backwards)
        return
    cells = (sheet.end[0] + 1) * (sheet.end[1] + 1) if sheet.end else 0
    old = zipcheck.CHUNK
    zipcheck.CHUNK = chunk
    try:
        with zipfile.ZipFile(buf) as zf:
            zipcheck.check_package(zf, max(cells, 1))
            if cells:
                with pytest.raises(zipcheck.Refused):
                    zipcheck.check_package(zf, cells - 1)
    finally:
        zipcheck.CHUNK = old


def _plain_workbook() -> bytes:
    if "plain" not in _BASE:
        import io

        import xlsxwriter

        buf = io.BytesIO()
        book = xlsxwriter.Workbook(buf, {"in_memory": True})
        book.add_worksheet().write("A1", 1)
        book.close()
        _BASE["plain"] = buf.getvalue()
    return _BASE["plain"]
