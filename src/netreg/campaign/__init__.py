"""The campaign: the ledger of submissions and what counts."""

from __future__ import annotations

from pathlib import Path


def open_campaign(folder: Path, units_path: Path | None = None):
    """(ledger, settings, unit names, contacts) of the campaign in ``folder``: its netreg.toml
    (or the embedded defaults), the unit table given or named there, with its 别名. A
    LedgerError or ConfigError goes to the caller's boundary."""
    from ..config import CONFIG_NAME, load_config
    from .contacts import aliases_of, read_contacts
    from .ledger import Ledger

    ledger = Ledger.open(folder)
    toml = folder / CONFIG_NAME
    config = load_config(toml) if toml.is_file() else load_config(None, search_cwd=False)
    table = units_path or config.units_file
    contacts = read_contacts(table) if table else []
    units = [c.unit for c in contacts] if contacts else list(config.units)
    if units_path:
        config = config.with_aliases(aliases_of(contacts))
    return ledger, config, units, contacts
