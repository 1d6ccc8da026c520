"""Importers for published plans: text layer, PDF, DOCX, XLSX and CSV.

:func:`parse_file` sniffs the format from the file's bytes, runs the matching parser and
returns a schema-valid :class:`~ecoplan.plans.document.PlanDocument`. Bad input raises
:class:`~ecoplan.errors.InputFileError` with a one-line message naming file and problem.
"""

from ecoplan.plans.parsers.dispatch import PARSER_VERSION, parse_bytes, parse_file

__all__ = ["PARSER_VERSION", "parse_bytes", "parse_file"]
