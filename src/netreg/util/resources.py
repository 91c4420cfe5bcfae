"""Files shipped with netreg: the jinja2 templates, inside the package (``netreg/templates``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


def templates_dir() -> Path:
    """Folder holding the jinja2 templates."""
    return Path(__file__).resolve().parents[1] / "templates"


@lru_cache(maxsize=1)
def jinja_env() -> jinja2.Environment:
    """The one jinja2 environment; imported on first use so the CLI starts fast."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        # report.html.j2 ends in .j2: "html" alone left it unescaped (typed <script> ran in the report)
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )
