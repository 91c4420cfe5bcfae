"""The blank workbook as a unit sees it in LibreOffice: printed on A4 landscape, and its
machine-readable metadata surviving a re-save."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from office import convert, require_soffice

from netreg.config import Campaign
from netreg.model.forms import FORMAT_VERSION
from netreg.excel.template import write_templates

A4_LONG, A4_SHORT = 841.89, 595.28  # points


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    require_soffice()
    out = tmp_path_factory.mktemp("blank")
    return write_templates(Campaign(), ["党委办公室/校长办公室"], out)[0].path


def test_every_page_prints_on_a4_landscape(blank, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    pdf = pypdf.PdfReader(convert(blank, "pdf", tmp_path))
    # 填表说明 and 附件1…附件5, nothing of the hidden sheets.
    assert 6 <= len(pdf.pages) <= 12
    for number, page in enumerate(pdf.pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(A4_LONG, abs=2), f"page {number}"
        assert height == pytest.approx(A4_SHORT, abs=2), f"page {number}"
    text = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "第 1 页" in text


def test_metadata_survives_a_libreoffice_resave(blank, tmp_path):
    resaved = convert(blank, "xlsx", tmp_path)
    wb = openpyxl.load_workbook(resaved)
    props = {p.name: p.value for p in wb.custom_doc_props}
    assert props["netreg_unit"] == "党委办公室/校长办公室"
    assert props["netreg_format_version"] == str(FORMAT_VERSION)
    assert [n for n in wb.sheetnames if n.startswith("附件")] == [f"附件{i}" for i in range(1, 6)]
