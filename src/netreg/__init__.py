"""netreg: 网站、新媒体平台、工作群组及“网络大V”登记备案表的下发、校验与汇总。

The public API, imported on first use so that ``import netreg`` stays cheap (no openpyxl,
calamine, rich or jinja2 until a function needs them)::

    from netreg import load_config, validate_paths, merge
    config = load_config()
    report = validate_paths([Path("回收")], config)
    merge(report, Path("汇总.xlsx"), school=config.school)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# Values and classes: their modules are cheap (model/, config, errors).
_NAMES = {
    "load_config": "netreg.config",
    "Campaign": "netreg.config",
    "FORMS": "netreg.model.forms",
    "Issue": "netreg.model.issues",
    "Severity": "netreg.model.issues",
    "Report": "netreg.model.report",
    "UnitState": "netreg.model.report",
    "unit_statuses": "netreg.model.report",
    "NetregError": "netreg.errors",
}
__all__ = ["__version__", "validate_paths", "merge", "write_templates", "write_annotated", "open_book",
           "load_config", "Campaign", "FORMS", "Issue", "Severity", "Report", "UnitState", "unit_statuses",
           "NetregError"]

if TYPE_CHECKING:
    from .config import Campaign, load_config
    from .errors import NetregError
    from .model.forms import FORMS
    from .model.issues import Issue, Severity
    from .model.report import Report, UnitState, unit_statuses


# Functions: the module (and the libraries it needs) is imported when one is called.
def validate_paths(paths, config, **options):
    """Read and check files and folders → a frozen ``Report`` (``netreg.pipeline``)."""
    return import_module("netreg.pipeline").validate_paths(paths, config, **options)


def merge(report, output, **options):
    """Write the summary workbook (and ``html=``) of a Report (``netreg.app.merge``)."""
    return import_module("netreg.app.merge").merge(report, output, **options)


def write_templates(config, units, out_dir, **options):
    """One blank workbook per unit (``netreg.excel.template``)."""
    return import_module("netreg.excel.template").write_templates(config, units, out_dir, **options)


def write_annotated(report, out_dir, **options):
    """Annotated copies to send back to units (``netreg.excel.annotate``)."""
    return import_module("netreg.excel.annotate").write_annotated(report, out_dir, **options)


def open_book(path, limits):
    """Any file a unit sends → ``Book`` of ``Grid``s, or ``Unreadable`` (``netreg.sources``)."""
    return import_module("netreg.sources").open_book(path, limits)


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(import_module(_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'netreg' has no attribute {name!r}")
