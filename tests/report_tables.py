"""Read the tables of a rendered evaluation report back (stdlib HTML parser), so tests compare the figures a
reader sees with what DuckDB holds, cell by cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ReportTable:
    section: str
    caption: str = ""
    headings: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.headings, row, strict=True)) for row in self.rows]


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.section = ""
        self.tables: list[ReportTable] = []
        self._table: ReportTable | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._in_caption = False
        self._in_summary = False
        self._summary = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id", "")
        elif tag == "summary":
            self._in_summary, self._summary = True, ""
        elif tag == "table":
            self._table = ReportTable(self.section, caption=self._summary)
        elif self._table is not None:
            if tag == "caption":
                self._in_caption = True
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th"):
                self._cell = []

    def handle_endtag(self, tag):
        if tag == "summary":
            self._in_summary = False
        elif self._table is None:
            return
        elif tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if not self._table.headings:
                self._table.headings = self._row
            else:
                self._table.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self.tables.append(self._table)
            self._table = None

    def handle_data(self, data):
        if self._in_summary:
            self._summary += data
        if self._table is None:
            return
        if self._in_caption:
            self._table.caption += data
        elif self._cell is not None:
            self._cell.append(data)


def report_tables(html: str) -> list[ReportTable]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def table(tables: list[ReportTable], section: str, caption_start: str) -> ReportTable:
    """The one table of `section` whose caption starts with `caption_start`."""
    found = [t for t in tables if t.section == section and t.caption.strip().startswith(caption_start)]
    assert len(found) == 1, (
        f"expected one table in section {section!r} captioned {caption_start!r}, found "
        f"{[t.caption[:60] for t in tables if t.section == section]}"
    )
    return found[0]
