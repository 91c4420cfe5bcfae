"""Blank workbooks by the hundred: openpyxl writes a campaign's workbook once, each unit's is
that one with the unit's own name written in.

A unit's blank workbook differs from another unit's in a few places only: row 1 of each
附件 (填报单位：…, merged leftwards as far as the text needs), the 填表说明 line naming the unit
(its row height follows the text), the metadata sheet's ``unit`` and ``generated``, the same two
custom document properties, and the creation time. ``BlankBooks.prepare`` has openpyxl build
and save the workbook of a placeholder unit (``template.build_workbook``, the one description
of the layout), and splits each part of that file around those places; ``write`` fills them
for a unit and zips the parts, each unchanged stretch deflated once for all units. openpyxl
takes 110–160 CPU-ms a workbook (60% styling 5,600 cells: each assignment hashes a StyleArray
into the workbook's style lists; the rest serialising them one by one); this takes about 1 ms.

The parts come out as openpyxl writes them, byte for byte, save the order of the
``mergeCell`` elements (openpyxl writes a set) and the times (``tests/test_template_fast.py``
compares both writers over awkward unit names and campaign settings). A unit name that could
be written otherwise (a line break or other control character, text Excel would take for a
formula, leading or trailing spaces, past MAX_UNIT characters) is not written here: ``fits``
says no and the caller builds it with openpyxl. So does a layout this module does not
recognise (the unit's name in a new place, a changed row 1): ``prepare`` then leaves every
unit to openpyxl, and the tests that check the fast path is taken fail.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from . import cells
from .layout import (INSTRUCTIONS_SHEET, UNIT_LABEL, form_widths, instruction_height, instruction_look, now_text,
                     unit_column)

if TYPE_CHECKING:
    from collections.abc import Callable

    import openpyxl

    from ..config import Campaign

PLACEHOLDER = "NETREG-UNIT-PLACEHOLDER"  # the unit's name in the campaign's workbook: ASCII, found as is
GENERATED = "NETREG-GENERATED-PLACEHOLDER"
MAX_UNIT = 200  # longer names go through openpyxl (a cell cuts text past 32,767 UTF-16 units)


class Unusable(ValueError):
    """The campaign's workbook is not laid out as this module expects."""


@dataclass
class _Part:
    """One zip member: ``chunks[0] + hole(keys[0]) + chunks[1] + …``; each chunk also deflated
    once (``packed``), as a run of non-final blocks that the unit's holes are spliced between."""

    name: str
    chunks: tuple[bytes, ...]
    keys: tuple[tuple, ...] = ()
    packed: tuple[bytes, ...] = ()


def _deflate(data: bytes) -> bytes:
    """``data`` as raw deflate blocks, none final, ending on a byte boundary: pieces made so
    can be joined one after the other, and closed with ``_END``, into one deflate stream."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


_END = b"\x03\x00"  # an empty final block (fixed Huffman codes): the end of a deflate stream


def _sheet_text(text: str) -> bytes:
    """Cell text as openpyxl (lxml, ASCII with character references) writes it."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .encode("ascii", "xmlcharrefreplace"))


def _prop_text(text: str) -> bytes:
    """A custom property's text as openpyxl writes it (UTF-8)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _t(text: str) -> bytes:
    """The ``<t>`` element of an inline string (openpyxl marks text with outer spaces)."""
    space = b' xml:space="preserve"' if text != text.strip() else b""
    return b"<t" + space + b">" + _sheet_text(text) + b"</t>"


def _height(value: float) -> bytes:
    from openpyxl.compat import safe_string

    return safe_string(value).encode()


class BlankBooks:
    """One campaign's blank workbooks: ``prepare`` once, then ``write`` each unit that ``fits``."""

    def __init__(self, config: Campaign, build: Callable[..., openpyxl.Workbook]):
        self.config = config
        self.build = build  # template.build_workbook: (config, unit, generated=…) -> the workbook
        self.parts: list[_Part] | None = None  # None: not prepared, or unusable (openpyxl writes all)
        self.why = ""  # why not usable, for tests and debugging

    # ------------------------------------------------------------------ the campaign's workbook

    def prepare(self, folder: Path, units: list[str] | None = None) -> None:
        """Build and save the campaign's workbook (in ``folder``, removed at once), split it.
        Does nothing when no unit of ``units`` fits. A failure (the folder cannot be written,
        an unexpected layout) leaves every unit to openpyxl, which reports it unit by unit."""
        if self.parts is not None or (units is not None and not any(map(_plain, units))):
            return
        from ..util.atomic import PREFIX, SUFFIX

        fd, name = tempfile.mkstemp(dir=folder, prefix=f"{PREFIX}{os.getpid()}-", suffix=SUFFIX)
        os.close(fd)
        tmp = Path(name)
        try:
            self._split(tmp)
        except (OSError, Unusable, zipfile.BadZipFile) as exc:
            self.parts, self.why = None, str(exc) or type(exc).__name__
        finally:
            tmp.unlink(missing_ok=True)

    def _split(self, tmp: Path) -> None:
        from ..model.forms import FORMS
        wb = self.build(self.config, PLACEHOLDER, generated=GENERATED)
        wb.save(tmp)
        paths = {ws.title: ws.path.lstrip("/") for ws in wb.worksheets}
        self.forms = [(form.sheet, form_widths(form)) for form in FORMS]
        self.row1: dict[str, tuple[bytes, bytes, bytes]] = {}  # sheet -> row tag, A1 cell, unit cell's style
        self.merges: dict[str, tuple[list[bytes], int]] = {}  # sheet -> other merges, where the unit's goes
        self.lines: dict[int, tuple[str, str, bytes, tuple]] = {}  # 填表说明 row -> prefix, suffix, cell style, look
        holes: dict[str, list[tuple[int, int, tuple]]] = {}  # part -> (start, end, key)
        with zipfile.ZipFile(tmp) as zf:
            infos = zf.infolist()
            data = {info.filename: zf.read(info.filename) for info in infos}

        for sheet, widths in self.forms:
            part = paths[sheet]
            xml = data[part]
            m = re.search(rb'(<row r="1"[^>]*>)(<c r="A1"[^>]*>.*?</c>)<c r="[A-Z]+1"( s="\d+")? '
                          rb't="inlineStr"><is><t>' + re.escape(_sheet_text(UNIT_LABEL + PLACEHOLDER))
                          + rb'</t></is></c></row>', xml)
            if m is None:
                raise Unusable(f"{sheet}: row 1 is not 附件N and 填报单位")
            self.row1[sheet] = (m[1], m[2], m[3] or b"")
            merges = re.search(rb'<mergeCells count="\d+">((?:<mergeCell ref="[A-Z0-9:]+"/>)*)</mergeCells>', xml)
            if merges is None:
                raise Unusable(f"{sheet}: no merged cells")
            refs = re.findall(rb'<mergeCell ref="([A-Z0-9:]+)"/>', merges[1])
            mine = self._unit_merge(widths, UNIT_LABEL + PLACEHOLDER)
            at = len(refs)
            if mine is not None:
                if mine not in refs:
                    raise Unusable(f"{sheet}: the unit's merged cells are not {mine!r}")
                at = refs.index(mine)
                refs.remove(mine)
            self.merges[sheet] = (refs, at)
            holes[part] = [(m.start(), m.end(), ("row1", sheet)), (merges.start(), merges.end(), ("merges", sheet))]

        part = paths[INSTRUCTIONS_SHEET]
        xml = data[part]
        holes[part] = []
        pattern = (rb'<row r="(\d+)" ht="[0-9.]+" customHeight="1"><c r="A\1"( s="\d+")? t="inlineStr"><is>'
                   rb'<t>([^<]*)' + PLACEHOLDER.encode() + rb'([^<]*)</t></is></c></row>')
        for m in re.finditer(pattern, xml):
            row = int(m[1])
            prefix, suffix = (_unescape(m[3]), _unescape(m[4]))
            self.lines[row] = (prefix, suffix, m[2] or b"", instruction_look(row, prefix + PLACEHOLDER + suffix))
            holes[part].append((m.start(), m.end(), ("line", row)))

        from ..model.forms import META_PREFIX, META_SHEET

        part = paths[META_SHEET]
        xml = data[part]
        holes[part] = [(m.start(), m.end(), (key,)) for key, text in (("unit", PLACEHOLDER), ("generated", GENERATED))
                       for m in re.finditer(rb"<t>" + text.encode() + rb"</t>", xml)]
        custom = next((name for name in data if name.endswith("custom.xml")), None)
        if custom is None:
            raise Unusable("no custom document properties")
        holes[custom] = [(m.start(1), m.end(1), (f"prop-{key}",))
                         for key, text in (("unit", PLACEHOLDER), ("generated", GENERATED))
                         for m in re.finditer(rb'<property name="' + (META_PREFIX + key).encode()
                                              + rb'"[^>]*><vt:lpwstr[^>]*>(' + text.encode() + rb")</vt:lpwstr>",
                                              data[custom])]
        core = next((name for name in data if name.endswith("core.xml")), None)
        if core is not None:
            holes[core] = [(m.start(1), m.end(1), ("now",)) for m in re.finditer(
                rb"<dcterms:(?:created|modified)[^>]*>([0-9T:Z-]+)</dcterms:", data[core])]

        parts = []
        for info in infos:
            xml = data[info.filename]
            spans = sorted(holes.get(info.filename, ()))
            chunks, keys, pos = [], [], 0
            for start, end, key in spans:
                chunks.append(xml[pos:start])
                keys.append(key)
                pos = end
            chunks.append(xml[pos:])
            if any(PLACEHOLDER.encode() in c or GENERATED.encode() in c for c in chunks):
                raise Unusable(f"{info.filename}: the unit's name in a place not known here")
            parts.append(_Part(info.filename, tuple(chunks), tuple(keys), tuple(map(_deflate, chunks))))
        counted = [key[0] for part in parts for key in part.keys]
        if counted.count("unit") != 1 or counted.count("generated") != 1 or counted.count("prop-unit") != 1 \
                or counted.count("prop-generated") != 1 or counted.count("row1") != len(self.forms):
            raise Unusable(f"unexpected places of the unit's name: {counted}")
        self.parts = parts

    # ------------------------------------------------------------------ one unit

    def fits(self, unit: str) -> bool:
        """Whether ``write`` makes ``unit``'s workbook as openpyxl would (else build it there)."""
        return (self.parts is not None and _plain(unit)
                and all(instruction_look(row, prefix + unit + suffix) == look
                        for row, (prefix, suffix, _, look) in self.lines.items()))

    def write(self, unit: str, path: Path, generated: str | None = None) -> None:
        """Write ``unit``'s blank workbook to ``path`` (``fits(unit)`` must hold)."""
        assert self.parts is not None and self.fits(unit), unit
        generated = generated or now_text()
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        values = {("unit",): _t(unit), ("generated",): _t(generated), ("prop-unit",): _prop_text(unit),
                  ("prop-generated",): _prop_text(generated), ("now",): now}
        zip_time = _dos_time(time.localtime())
        out = bytearray()
        directory = bytearray()
        for part in self.parts:
            crc = zlib.crc32(part.chunks[0])
            size = len(part.chunks[0])
            packed = [part.packed[0]]
            for key, chunk, deflated in zip(part.keys, part.chunks[1:], part.packed[1:]):
                hole = values[key] if key in values else self._hole(key, unit)
                crc = zlib.crc32(chunk, zlib.crc32(hole, crc))
                size += len(hole) + len(chunk)
                packed += (_deflate(hole), deflated)
            packed.append(_END)
            _add_member(out, directory, part.name, b"".join(packed), size, crc, zip_time)
        _end_archive(out, directory, len(self.parts))
        with open(path, "wb") as fh:
            fh.write(out)

    def _hole(self, key: tuple, unit: str) -> bytes:
        kind, where = key
        if kind == "row1":
            tag, a1, style = self.row1[where]
            widths = dict(self.forms)[where]
            text = UNIT_LABEL + unit
            col = _letter(unit_column(widths, text))
            return tag + a1 + b'<c r="' + col + b'1"' + style + b' t="inlineStr"><is>' + _t(text) + b"</is></c></row>"
        if kind == "merges":
            refs, at = self.merges[where]
            mine = self._unit_merge(dict(self.forms)[where], UNIT_LABEL + unit)
            refs = refs[:at] + [mine] + refs[at:] if mine is not None else refs
            return (b'<mergeCells count="' + str(len(refs)).encode() + b'">'
                    + b"".join(b'<mergeCell ref="' + r + b'"/>' for r in refs) + b"</mergeCells>")
        if kind == "line":
            prefix, suffix, style, _ = self.lines[where]
            line = prefix + unit + suffix
            row = str(where).encode()
            return (b'<row r="' + row + b'" ht="' + _height(instruction_height(where, line)) + b'" customHeight="1">'
                    b'<c r="A' + row + b'"' + style + b' t="inlineStr"><is>' + _t(line) + b"</is></c></row>")
        raise KeyError(key)

    @staticmethod
    def _unit_merge(widths: list[float], text: str) -> bytes | None:
        start = unit_column(widths, text)
        if start >= len(widths):
            return None
        return _letter(start) + b"1:" + _letter(len(widths)) + b"1"


def _plain(unit: str) -> bool:
    """A name written the same way in every place: no control characters or line breaks, no
    outer spaces, not taken for a formula, never cut."""
    return (0 < len(unit) <= MAX_UNIT and unit.isprintable() and unit == unit.strip()
            and not unit.startswith(cells.FORMULA_START))


def _letter(col: int) -> bytes:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col).encode()


def _unescape(raw: bytes) -> str:
    import html

    return html.unescape(raw.decode("ascii"))


# ---------------------------------------------------------------------------- the zip file
# A few members, all small, all deflated: the local headers, the central directory and its end
# record of APPNOTE 4.3, without zip64 (a member of 4 GB is far away).

def _dos_time(t: time.struct_time) -> tuple[int, int]:
    return ((t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2),
            ((max(t.tm_year, 1980) - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday)


def _add_member(out: bytearray, directory: bytearray, name: str, deflated: bytes, size: int, crc: int,
                when: tuple[int, int]) -> None:
    raw = name.encode("utf-8")
    flags = 0 if name.isascii() else 0x800  # UTF-8 names
    offset = len(out)
    out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, when[0], when[1], crc, len(deflated), size,
                       len(raw), 0)
    out += raw
    out += deflated
    directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, flags, 8, when[0], when[1], crc,
                             len(deflated), size, len(raw), 0, 0, 0, 0, 0o600 << 16, offset)
    directory += raw


def _end_archive(out: bytearray, directory: bytearray, count: int) -> None:
    start = len(out)
    out += directory
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0)
