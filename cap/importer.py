"""Reading findings from a CSV file: every bad row reported with its line, or nothing imported."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
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
    "external_id",
)
REQUIRED = ("contract", "severity", "area", "source", "title")
OPTIONAL = tuple(c for c in COLUMNS if c not in REQUIRED)
#: A report lists this many problems at most; the rest are counted.
MAX_REPORTED = 50


@dataclass(frozen=True)
class ImportRow:
    """One valid row: the finding and the physical line of the file where its record starts."""

    line: int
    finding: FindingInput


def read_findings(
    path: Path,
    *,
    max_rows: int,
    contracts: Collection[str] | None = None,
    today: date | None = None,
) -> list[ImportRow]:
    """Parse ``path`` (UTF-8, with or without BOM; comma or semicolon separated, header first).

    ``contracts`` (the known contract references) and ``today`` are optional pre-checks, so
    that one report names every bad row; the workflow checks them again when it writes.
    Raises one :class:`InvalidInput` listing every bad row as ``FILE:LINE: field: problem``.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror})") from None
    text = decoded(raw, str(path))
    return parse_findings(text, name=str(path), max_rows=max_rows, contracts=contracts, today=today)


def decoded(raw: bytes, name: str) -> str:
    """``raw`` as UTF-8 text (a BOM dropped); else one error naming the line of the bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            f"{name}:{line}: byte {exc.start} is not UTF-8; save the file as CSV UTF-8"
        ) from None


def parse_findings(
    text: str,
    *,
    name: str,
    max_rows: int,
    contracts: Collection[str] | None = None,
    today: date | None = None,
    at: Callable[[int], str] | None = None,
) -> list[ImportRow]:
    """Parse CSV ``text``; ``name`` prefixes every message (see :func:`read_findings`), and
    ``at(line)`` names a row (default ``NAME:LINE``)."""
    at = at or (lambda line: f"{name}:{line}")
    if not text.strip():
        raise InvalidInput(f"{name}: the file is empty; the first line must name the columns")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    records = _records(text, delimiter, name)
    first = next(records, None)
    if first is None:
        raise InvalidInput(f"{name}: no header; the first line must name the columns")
    header = _check_header(first[1], name, first[0])

    findings: list[ImportRow] = []
    problems: list[str] = []
    # (contract, external_id) -> the line that gave it first: a second such row is a bad row.
    external_ids: dict[tuple[str, str], int] = {}
    for line, values in records:
        if len(findings) + len(problems) >= max_rows:
            raise InvalidInput(
                f"{name}: more than {max_rows:,} rows; split the file (CAP_IMPORT_MAX_ROWS)"
            )
        where = at(line)
        if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
            problems.append(
                f"{where}: more values than columns ({len(values)} values, {len(header)} columns)"
            )
            continue
        if len(values) < len(header):
            problems.append(
                f"{where}: fewer values than columns ({len(values)} values, {len(header)} columns)"
            )
            continue
        row = {k: v.strip() for k, v in zip(header, values, strict=False)}
        for optional in OPTIONAL:
            if optional in row and not row[optional]:
                del row[optional]
        try:
            finding = FindingInput.model_validate(row)
        except ValidationError as exc:
            problems.append(describe(exc, where))
            continue
        given_at = (
            external_ids.setdefault((finding.contract, finding.external_id), line)
            if finding.external_id
            else line
        )
        if given_at != line:
            problems.append(
                f"{where}: external_id: {finding.external_id} is given twice for contract "
                f"{finding.contract} (first at {at(given_at)})"
            )
        elif contracts is not None and finding.contract not in contracts:
            problems.append(f"{where}: contract: {finding.contract} does not exist")
        elif today is not None and finding.found_on is not None and finding.found_on > today:
            problems.append(
                f"{where}: found_on: {finding.found_on} is in the future (today is {today})"
            )
        else:
            findings.append(ImportRow(line, finding))
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


def _check_header(raw: list[str], name: str, line: int) -> list[str]:
    header = [h.strip().lower() for h in raw]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    duplicate = sorted({h for h in header if h in COLUMNS and header.count(h) > 1})
    if unknown or missing or duplicate:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(repr(h) for h in unknown)}")
        if duplicate:
            parts.append(f"column(s) given twice {', '.join(duplicate)}")
        raise InvalidInput(
            f"{name}:{line}: {'; '.join(parts)}; the columns are {', '.join(COLUMNS)}"
        )
    return header


def _records(text: str, delimiter: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line where the record starts, values) for every record that is not blank.

    Line numbers are physical lines (the header is line 1): a quoted value spanning several
    lines counts them all, and blank lines are counted though skipped.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{name}:{reader.line_num}: {exc}") from None
        if any(v.strip() for v in values):
            yield start, values
