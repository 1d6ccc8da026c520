"""Plain text: a table's text layer, a tab/pipe-separated table, or a numbered list."""

from __future__ import annotations

from ecoplan.plans.parsers.assemble import ParsedPlan
from ecoplan.plans.parsers.text import TextTableParser
from ecoplan.units.directory import UnitDirectory


def parse_text(text: str, directory: UnitDirectory) -> ParsedPlan:
    """Never raises: returns an empty plan when nothing could be read."""
    from ecoplan.plans.parsers.listtext import parse_list
    from ecoplan.plans.parsers.tables import delimited_rows, parse_rows

    rows = delimited_rows(text)
    if rows is not None:
        parsed = parse_rows(rows, directory)
        if parsed is not None and parsed.measures:
            return parsed
    table = TextTableParser(directory).parse(text)
    if table is not None and table.measures:
        return table
    return parse_list(text, directory)
