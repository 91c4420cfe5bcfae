"""Binary Office files (OLE2 compound files): what one is — an .xls/.et workbook, an old Word
.doc or WPS .wps document, or an encrypted .xlsx/.docx — and, for a workbook, the farthest
cell of each sheet from its BIFF records, before calamine lays the sheets out (see
``calamine.py`` for the allocation trap and what was measured). The container is walked
without olefile, every chain checked for loops."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from .base import OLE2_MAGIC, Reason, Unreadable

_BOOK = ("Workbook", "Book", "WORKBOOK", "BOOK")  # the streams calamine tries, in its order
_XLS_CELLS = frozenset((0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006, 0x00BD))  # row, col first
BAD = "文件已损坏或不是完整的表格文件，请用 Excel 或 WPS 打开后另存为 .xlsx 再发送"
LOCKED = "文件设置了打开密码（已加密），无法读取，请取消密码后重新保存再发送"


def _too_large(sheet: str, rows: int, cols: int, limit: int) -> Unreadable:
    from ..util.cells import col_letter

    return Unreadable(f"工作表“{sheet}”有内容的区域过大（{rows} 行 × {cols} 列，到 {col_letter(cols - 1)}{rows}，"
                      f"超过 {limit} 个单元格的上限），请删除多余的空行空列后重新保存", Reason.TOO_LARGE)


class Ole2:
    """An OLE2 compound file as calamine reads it, every chain checked for loops."""

    def __init__(self, data) -> None:
        if len(data) < 512 or data[:8] != OLE2_MAGIC or struct.unpack_from("<H", data, 30)[0] not in (9, 12):
            raise ValueError("not an OLE2 file")
        self.data, self.ss, self.mini, self.minifat = data, 1 << data[30], b"", []
        _, dir_start, _, _, minifat_start, minifat_n, sid = struct.unpack_from("<7I", data, 44)
        difat, seen = list(struct.unpack_from("<109I", data, 76)), set()
        while sid < 0xFFFFFFFA:
            if sid in seen:
                raise ValueError("DIFAT loop")
            seen.add(sid)
            difat.extend(self._ints(self._sector(sid)))
            sid = difat.pop()
        self.fat = [n for s in difat if s < 0xFFFFFFFC for n in self._ints(self._sector(s))]
        raw = self.chain(dir_start, 1 << 62)
        self.dirs = [(raw[at:at + 64].decode("utf-16-le", "replace").split("\0", 1)[0],
                      struct.unpack_from("<I", raw, at + 116)[0],
                      struct.unpack_from("<I" if self.ss == 512 else "<Q", raw, at + 120)[0])
                     for at in range(0, len(raw) - 127, 128)]
        if minifat_n and self.dirs:
            self.mini = self.chain(self.dirs[0][1], self.dirs[0][2])
            self.minifat = self._ints(self.chain(minifat_start, minifat_n * self.ss))

    @staticmethod
    def _ints(raw: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(raw) // 4}I", raw[:len(raw) // 4 * 4]))

    def _sector(self, sid: int) -> bytes:
        start = (sid + 1) * self.ss
        if start >= len(self.data):
            raise ValueError("sector beyond the end of the file")
        return self.data[start:start + self.ss]  # the last may be cut short: calamine reads such files

    def chain(self, sid: int, size: int, mini: bool = False) -> bytes:
        fat, out, seen, got = (self.minifat if mini else self.fat), [], set(), 0
        while sid != 0xFFFFFFFE and got < size:
            if sid in seen or sid >= len(fat):
                raise ValueError("broken or looping chain")
            seen.add(sid)
            out.append(self.mini[sid * 64:sid * 64 + 64] if mini else self._sector(sid))
            got, sid = got + len(out[-1]), fat[sid]
        return b"".join(out)[:size]

    def stream(self, names, limit: int = 1 << 62) -> bytes | None:
        for want in names:
            for name, start, size in self.dirs:
                if name == want:
                    return self.chain(start, min(size, limit), size < 4096)
        return None

    def kind(self, ext: str) -> str:
        names, book = {d[0] for d in self.dirs}, self.stream(_BOOK, 1 << 16)
        if names & {"EncryptionInfo", "EncryptedPackage"} or (book is not None and scan_biff(book, None)):
            return "encrypted"
        return "xls" if book is not None else ("wps" if ext == ".wps" else "doc") \
            if "WordDocument" in names else "unknown"


def ole2_kind(path: Path, max_mb: float = 100) -> str:
    """What an OLE2 file is: xls (.xls/.et), doc, wps, encrypted (an encrypted .xlsx/.docx, or
    .xls) or unknown. A file whose directory cannot be read is judged by the UTF-16 stream
    names in its first ``max_mb`` MB."""
    ext = Path(path).suffix.lower()
    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            try:
                return Ole2(data).kind(ext)
            except (ValueError, struct.error):
                head = data[:int(max_mb * 1048576)]
    except (OSError, ValueError):
        return "unknown"
    for kind, names in (("encrypted", ("EncryptionInfo", "EncryptedPackage")), ("xls", ("Workbook", "Book")),
                        ("wps" if ext == ".wps" else "doc", ("WordDocument",))):
        if any(n.encode("utf-16-le") in head for n in names):
            return kind
    return "unknown"


def scan_biff(wb: bytes, max_cells: int | None) -> bool:
    """True when the Workbook stream is encrypted (FILEPASS in the globals). With ``max_cells``,
    each sheet substream is then scanned (until its own EOF, nested ones included)."""
    pos, sheets, biff8 = 0, [], True
    while pos + 4 <= len(wb):
        typ, size = struct.unpack_from("<HH", wb, pos)
        body, pos = pos + 4, pos + 4 + size
        if typ == 0x002F:
            return True
        if typ == 0x0809 and size >= 2:
            biff8 = struct.unpack_from("<H", wb, body)[0] == 0x0600
        elif typ == 0x0085 and size >= 7 and max_cells is not None:  # BOUNDSHEET: offset, name
            wide = biff8 and size > 7 and wb[body + 7] & 1
            raw = wb[body + 7 + biff8:][:wb[body + 6] * (1 + bool(wide))]
            sheets.append((struct.unpack_from("<I", wb, body)[0],
                           raw.decode("utf-16-le" if wide else "latin-1" if biff8 else "gbk", "replace")))
        elif typ == 0x000A or (typ == 0x0085 and max_cells is None):
            break
    record, end, wb = struct.Struct("<HHHH").unpack_from, len(wb), wb + bytes(8)
    for pos, name in sheets:
        if pos > end:  # calamine would panic (a Rust panic prints to stderr even when caught)
            raise Unreadable(BAD)
        depth, rows, cols = 0, 0, 0
        while pos + 4 <= end:
            typ, size, row, col = record(wb, pos)  # a cell record starts with its row and column
            body, pos = pos + 4, pos + 4 + size
            if typ in _XLS_CELLS and size >= 4:
                if typ == 0x00BD and size >= 6:  # MULRK: the last column closes the record
                    col = max(col, struct.unpack_from("<H", wb, body + size - 2)[0])
                rows, cols = max(rows, row + 1), max(cols, col + 1)
            elif typ == 0x0200 and size in (10, 14):  # DIMENSIONS, computed as calamine does (u32)
                rf, rl, cf, cl = struct.unpack_from("<IIHH" if size == 14 else "<HHHH", wb, body)
                cf = 0 if cf > 0xFF or cl < cf else cf
                er, ec = (rl - 1, cl - 1) if rl >= 1 and cl >= 1 else (rf, cf)
                if ((er - rf + 1) % (1 << 32)) * ((ec - cf + 1) % (1 << 32)) > 65536 * 256:
                    raise Unreadable(f"工作表“{name}”声明的区域超出 Excel 97-2003 的范围，文件可能已损坏或被篡改，"
                                     f"请用 Excel 或 WPS 打开后另存为 .xlsx 再发送", Reason.TOO_LARGE)
            elif typ in (0x0809, 0x000A):
                depth += 1 if typ == 0x0809 else -1
                if depth <= 0:
                    break
        if rows * cols > max_cells:
            raise _too_large(name, rows, cols, max_cells)
    return False
