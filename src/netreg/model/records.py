"""One data row of one form, normalised: what the checks produce and the summary writes."""

from __future__ import annotations

from dataclasses import dataclass, field

from .forms import Form
from .issues import Issue, issue_fields, issue_of


@dataclass
class Record:
    """One data row of one form: normalised values (or the text as typed where they failed)."""

    form: Form
    unit: str
    file: str
    sheet: str
    row: int
    values: dict[str, object]
    columns: dict[str, str]  # column key -> letter in the source sheet
    extras: dict[str, object] = field(default_factory=dict)  # header (or "X列") -> value as typed
    issues: list[Issue] = field(default_factory=list)

    def where(self) -> str:
        """Where a person finds this row: unit, sheet (and its form when named otherwise), row."""
        sheet = self.form.sheet if self.sheet == self.form.sheet else f"{self.sheet}（附件{self.form.id}）"
        return f"{self.unit} {sheet} 第{self.row}行"

    def __reduce__(self):
        # What a worker sends back, once per row: plain tuples pickle and load in about half
        # the time of the dataclasses' state dicts (tests/test_fast_paths.py: the same records).
        return _record, (self.form, self.unit, self.file, self.sheet, self.row, self.values, self.columns,
                         self.extras, [issue_fields(i) for i in self.issues])


def _record(form, unit, file, sheet, row, values, columns, extras, issues) -> Record:
    return Record(form, unit, file, sheet, row, values, columns, extras, [issue_of(i) for i in issues])
