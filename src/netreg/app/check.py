"""``netreg validate`` and what reads a run for the other commands: files and folders, or a
campaign's counted submissions; a summary read for ``diff`` and ``template --prefill``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..campaign.counting import CampaignView
from ..config import Campaign
from ..errors import NetregError
from ..model.report import Report

READ_PROBLEMS = ("file-unreadable", "file-unsupported", "file-legacy-format")


def settings(config_path: Path | None, units_path: Path | None) -> tuple[Campaign, list[str] | None]:
    """The settings and the unit list (None: the settings' own); a unit table's 别名 go with the
    settings to attribution. A ConfigError is a NetregError."""
    from ..campaign.contacts import aliases_of, read_contacts
    from ..config import load_config

    config = load_config(config_path)
    if not units_path:
        return config, None
    contacts = read_contacts(units_path)
    return config.with_aliases(aliases_of(contacts)), [c.unit for c in contacts]


@dataclass(frozen=True)
class Checked:
    report: Report
    config: Campaign
    view: CampaignView | None  # the campaign's, when the run is over one


def checked(paths: list[Path] | None, *, campaign: Path | None = None, config_path: Path | None = None,
            units_path: Path | None = None, as_of: date, roster: Path | None = None, on_file=None) -> Checked:
    """The files given, or with none, the counted submissions of the campaign in ``campaign``
    (default: the current folder or one above it); NetregError when there is nothing to check."""
    if paths:
        from ..pipeline import validate_paths

        config, units = settings(config_path, units_path)
        return Checked(validate_paths(paths, config, units=units, as_of=as_of, roster=roster, on_file=on_file),
                       config, None)
    from ..campaign import open_campaign
    from ..campaign.counting import nothing_counted
    from ..campaign.ledger import find_campaign
    from .campaign import campaign_report

    folder = find_campaign(campaign)
    if folder is None:
        raise NetregError("请给出回收的文件或文件夹；或在报送活动文件夹（netreg init 建立，含 netreg.db）中运行，"
                          "或用 --campaign 指定")
    ledger, config, units, _ = open_campaign(folder, units_path)
    if config_path is not None:
        config = settings(config_path, None)[0]
    with ledger:
        view = campaign_report(ledger, config, units=units, as_of=as_of, roster=roster, on_file=on_file)
        why = nothing_counted(ledger, view, as_of)
    if why:
        raise NetregError(why)
    return Checked(view.report, config, view)


def annotate(run: Checked, folder: Path, as_of: date):
    """The annotated copies of ``validate --annotate`` (the 修改意见表 to send back): for a
    campaign, each asks for the 完成日期 a letter made on ``as_of`` would ask for."""
    from ..excel.annotate import write_annotated
    from ..letters.plan import reply_due

    due = run.view and reply_due(as_of, run.view.deadline)
    return write_annotated(run.report, folder, config=run.config, due=due)


def unit_copies(view: CampaignView, config: Campaign, unit: str, folder: Path, as_of: date):
    """One unit's annotated copies (the page's 下载修改意见表) from the campaign as it stands,
    asking for the 完成日期 a letter made on ``as_of`` would ask for."""
    from ..excel.annotate import of_unit, write_annotated
    from ..letters.plan import reply_due

    return write_annotated(of_unit(view.report, unit), folder, config=config, due=reply_due(as_of, view.deadline))


def read_side(path: Path, config: Campaign, units: list[str] | None = None) -> tuple[Report, list[str]]:
    """One side of a comparison (``diff``): what counts in a campaign folder, else the summary,
    workbook or folder at ``path``; with the lines naming files that could not be read.
    NetregError when nothing could be read."""
    from ..campaign.ledger import DB_NAME

    if path.is_dir() and (path / DB_NAME).is_file():  # a campaign: what counts in it
        from ..campaign import open_campaign
        from .campaign import campaign_report

        ledger, own, own_units, _ = open_campaign(path)
        with ledger:
            return campaign_report(ledger, own, units=own_units).report, []
    from ..pipeline import validate_paths

    report = validate_paths([path], config, units=units)
    notes = [f"{i.file}：{i.message}" for i in report.issues if i.code in READ_PROBLEMS]
    if not any(f.ok for f in report.files):
        raise NetregError("\n".join([f"{path} 中没有可以读取的汇总表或登记表", *notes]))
    return report, notes


def read_prefill(path: Path, config: Campaign, units: list[str]) -> dict[str, dict[int, list[dict]]]:
    """The rows of ``path`` (a summary, a returned workbook, a folder) by unit, unit names
    matched against ``units`` (``template --prefill``); NetregError when it cannot be read or holds no rows."""
    from ..excel.prefill import prefill_of
    from ..pipeline import validate_paths

    return prefill_of(validate_paths([Path(path)], config, units=units), path)
