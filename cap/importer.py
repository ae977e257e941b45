"""Reading findings from a CSV file: every bad row reported with its line, or nothing imported."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from cap.domain.inputs import FindingInput, describe
from cap.errors import InvalidInput

COLUMNS = (
    "contract",
    "severity",
    "area",
    "source",
    "title",
    "description",
    "site",
    "site_country",
    "found_on",
)
REQUIRED = ("contract", "severity", "area", "source", "title")
#: A report lists this many problems at most; the rest are counted.
MAX_REPORTED = 50


def read_findings(path: Path, *, max_rows: int) -> list[FindingInput]:
    """Parse ``path`` (UTF-8, with or without BOM; comma or semicolon separated, header first).

    Raises one :class:`InvalidInput` listing every bad row as ``FILE:LINE: field: problem``.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: byte {exc.start} is not UTF-8; save the file as CSV UTF-8"
        ) from None
    return parse_findings(text, name=str(path), max_rows=max_rows)


def parse_findings(text: str, *, name: str, max_rows: int) -> list[FindingInput]:
    if not text.strip():
        raise InvalidInput(f"{name}: the file is empty; the first line must name the columns")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise InvalidInput(f"{name}:1: {'; '.join(parts)}; the columns are {', '.join(COLUMNS)}")

    findings: list[FindingInput] = []
    problems: list[str] = []
    for line, row in _rows(reader, name):
        if len(findings) + len(problems) >= max_rows:
            raise InvalidInput(
                f"{name}: more than {max_rows:,} rows; split the file (CAP_IMPORT_MAX_ROWS)"
            )
        where = f"{name}:{line}"
        if None in row:
            problems.append(f"{where}: more values than columns")
            continue
        if any(v is None for v in row.values()):
            problems.append(f"{where}: fewer values than columns")
            continue
        values = {k: v for k, v in row.items() if k and v is not None}
        for optional in ("description", "site", "site_country", "found_on"):
            if optional in values and not values[optional].strip():
                del values[optional]
        try:
            findings.append(FindingInput.model_validate(values))
        except ValidationError as exc:
            problems.append(describe(exc, where))
    if problems:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        tail = [f"... and {more} more bad rows"] if more else []
        raise InvalidInput(
            f"{name}: {len(problems)} bad row(s), nothing was imported:\n" + "\n".join(shown + tail)
        )
    if not findings:
        raise InvalidInput(f"{name}: no rows after the header; nothing to import")
    return findings


def _rows(reader: csv.DictReader[str], name: str) -> Iterator[tuple[int, dict[str, str]]]:
    start = 2
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{name}:{reader.line_num}: {exc}") from None
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            start = reader.line_num + 1
            continue
        yield start, row
        start = reader.line_num + 1
