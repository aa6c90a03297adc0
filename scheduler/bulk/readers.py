"""Readers: a CSV or XLSX upload turned into a header and rows of cells, or one clear error.

Every check that can refuse the whole file runs here, before a single row is looked at: the size
(checked on the file's length, before reading it), the encoding, whether an `.xlsx` really is a
workbook, an uncompressed size that would be a zip bomb, formulas without a stored result, an empty
file, too many rows. A refused file raises `ValidationFailed` on the field `file`, so nothing is
written and the message says how to fix the file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from scheduler.bulk.cells import Cell
from scheduler.platform.errors import ValidationFailed

Source = bytes | Path

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and other OLE files)
XLSX_SUFFIXES = (".xlsx", ".xlsm")
# An XLSX is a zip: refuse one that would unpack to far more than it weighs (a zip bomb).
MAX_UNPACK_RATIO = 20
# Sheets picked without being asked for, when a workbook has several: ours, then the seed's.
PREFERRED_SHEETS = ("posts", "danh sách bài post")
FORMULAS_LISTED = 5


class ExcelError(str):
    """A cell holding an Excel error value (#REF!, #VALUE!, ...), kept to be reported by row."""


@dataclass
class RawRow:
    """One non-blank row: its number as a spreadsheet shows it (the header is row 1)."""

    number: int
    cells: list[Cell]


@dataclass
class Table:
    """What a file holds: its kind (csv or xlsx), the sheet read, the header and the rows."""

    kind: str
    headers: list[str]
    rows: list[RawRow] = field(default_factory=list)
    sheet: str | None = None


def file_error(message: str) -> ValidationFailed:
    """The error that refuses a whole file."""
    return ValidationFailed.single("file", message)


def normalise_header(value: object) -> str:
    """A header as matched: NFC, trimmed, lower-cased, runs of white space made one space."""
    raw = "" if value is None else str(value)
    return " ".join(unicodedata.normalize("NFC", raw).lower().split())


def read_table(
    source: Source,
    *,
    filename: str | None = None,
    sheet: str | None = None,
    max_bytes: int,
    max_rows: int,
) -> Table:
    """Read a CSV or XLSX file (told apart by content, not by name).

    Args:
        source: the file's bytes, or its path (its size is checked before it is read).
        filename: the name the user gave it, to word errors (an `.xlsx` that is no workbook).
        sheet: the worksheet to read; by default `Posts`, the seed's `Danh Sách Bài Post`, or
            the only sheet.
        max_bytes: larger files are refused before reading.
        max_rows: files with more data rows are refused.

    Raises:
        ValidationFailed: on `file`, saying what is wrong with the file and how to fix it.
    """
    name = filename or (source.name if isinstance(source, Path) else None)
    data = _load(source, max_bytes)
    if not data.strip():
        raise file_error(
            "The file is empty; export the sheet again, or download the template and fill it in."
        )
    if data.startswith(ZIP_MAGIC):
        table = _read_xlsx(data, sheet, max_bytes)
    elif data.startswith(OLE_MAGIC):
        raise file_error(
            "This is an old binary Excel file (.xls), which cannot be read; save it as an Excel "
            "workbook (.xlsx) or as CSV UTF-8 and import that."
        )
    elif name is not None and name.lower().endswith(XLSX_SUFFIXES):
        raise file_error(
            f"{name} is not a valid XLSX workbook: an .xlsx file is a zip archive and this one is "
            "not. Save it again from Excel or LibreOffice as .xlsx, or export it as CSV UTF-8."
        )
    else:
        table = _read_csv(data)
    if not table.headers:
        raise file_error(
            "The file has no header row; its first row must name the columns "
            "(download the template to see them)."
        )
    if len(table.rows) > max_rows:
        raise file_error(
            f"The file has {len(table.rows)} rows; at most {max_rows} are imported at once. "
            "Split it into smaller files."
        )
    return table


def _load(source: Source, max_bytes: int) -> bytes:
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > max_bytes:
        raise file_error(
            f"The file is {_megabytes(size)}; at most {_megabytes(max_bytes)} can be imported "
            "(IMPORT_MAX_BYTES). Split it into smaller files."
        )
    return source.read_bytes() if isinstance(source, Path) else source


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


# --- CSV ------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode text" export
    else:
        encoding = "utf-8-sig"  # a UTF-8 BOM (Excel's "CSV UTF-8") is dropped
    try:
        decoded = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise file_error(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02X} on line {line} is not "
            "valid UTF-8; it was probably saved as Windows-1252 or Latin-1). Save it as "
            '"CSV UTF-8" in Excel, or with UTF-8 encoding in LibreOffice or Google Sheets, '
            "and import it again."
        ) from None
    if "\x00" in decoded:
        raise file_error(
            "The file holds binary data, not CSV text; import a .csv or .xlsx file "
            "(download the template to start from)."
        )
    return decoded


def _read_csv(data: bytes) -> Table:
    decoded = _decode(data)
    first_line = decoded.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise file_error(
            f"The CSV text is malformed near line {reader.line_num} ({exc}); check for a quote "
            'that is opened but never closed ("), then import again.'
        ) from None
    return _table("csv", records, None)


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(data: bytes, sheet: str | None, max_bytes: int) -> Table:
    from openpyxl import load_workbook  # only for workbooks: keeps CSV imports light

    _check_zip(data, max_bytes)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; the values are what count.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                name = _pick_sheet(book.sheetnames, sheet)
                records, formulas = _sheet_records(book[name])
            finally:
                book.close()
            if formulas:
                _resolve_formulas(data, name, records, formulas)
    except ValidationFailed:
        raise
    except Exception as exc:  # openpyxl raises many kinds of error for a broken file
        raise file_error(
            f"The file could not be read as an XLSX workbook ({type(exc).__name__}: {exc}). "
            "Open it in Excel or LibreOffice, save it as .xlsx, or export it as CSV UTF-8."
        ) from None
    return _table("xlsx", records, name)


def _check_zip(data: bytes, max_bytes: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise file_error(
            "The file starts like an XLSX workbook but is damaged (not a readable zip archive); "
            "save it again from Excel or LibreOffice, or export it as CSV UTF-8."
        ) from None
    if "xl/workbook.xml" not in names:
        raise file_error(
            "The file is a zip archive but not an Excel workbook (no xl/workbook.xml); import a "
            ".xlsx or .csv file."
        )
    if unpacked > MAX_UNPACK_RATIO * max_bytes:
        raise file_error(
            f"The workbook unpacks to {_megabytes(unpacked)}, far more than it weighs; it is "
            "refused as a possible zip bomb. Export the sheet as CSV UTF-8 instead."
        )


def _pick_sheet(names: Sequence[str], wanted: str | None) -> str:
    by_key = {normalise_header(name): name for name in names}
    if wanted is not None:
        found = by_key.get(normalise_header(wanted))
        if found is None:
            raise file_error(
                f"The workbook has no sheet named {wanted!r}; its sheets are "
                f"{', '.join(repr(n) for n in names)}."
            )
        return found
    for preferred in PREFERRED_SHEETS:
        if preferred in by_key:
            return by_key[preferred]
    if len(names) == 1:
        return names[0]
    raise file_error(
        f"The workbook has {len(names)} sheets ({', '.join(repr(n) for n in names)}); choose the "
        "one to import (the sheet option), or name it 'Posts'."
    )


def _sheet_records(worksheet: Any) -> tuple[list[list[Cell]], list[tuple[int, int]]]:
    """Cell values by row, and where the formulas are (row index, column index)."""
    worksheet.reset_dimensions()  # a workbook's stored dimensions may lie; read every row
    records: list[list[Cell]] = []
    formulas: list[tuple[int, int]] = []
    for r, row in enumerate(worksheet.iter_rows()):
        values: list[Cell] = []
        for c, cell in enumerate(row):
            kind = getattr(cell, "data_type", "n")
            if kind == "f":
                formulas.append((r, c))
            values.append(_cell_value(cell.value, kind))
        records.append(values)
    return records, formulas


def _cell_value(value: Any, kind: str) -> Cell:
    if kind == "e":
        return ExcelError(str(value))
    if isinstance(value, timedelta):  # a duration-formatted cell: read it as a time of day
        if value < timedelta(days=1):
            return (datetime.combine(date.min, time()) + value).time()
        return str(value)
    if value is None or isinstance(value, str | int | float | bool | date | time):
        return value
    return str(value)


def _resolve_formulas(
    data: bytes, sheet: str, records: list[list[Cell]], formulas: list[tuple[int, int]]
) -> None:
    """Replace formulas by the results Excel stored; refuse formulas that were never computed."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        values, _ = _sheet_records(book[sheet])
    finally:
        book.close()
    missing: list[str] = []
    for r, c in formulas:
        result = values[r][c] if r < len(values) and c < len(values[r]) else None
        if result is None:
            missing.append(f"{get_column_letter(c + 1)}{r + 1}")
        records[r][c] = result
    if missing:
        shown = ", ".join(missing[:FORMULAS_LISTED])
        extra = len(missing) - FORMULAS_LISTED
        more = f" and {extra} more" if extra > 0 else ""
        raise file_error(
            f"The sheet has formulas whose results were never computed ({shown}{more}); open "
            "the file in Excel or LibreOffice and save it (that stores the results), or paste "
            "the values instead of the formulas."
        )


# --- both -----------------------------------------------------------------------------------


def _table(kind: str, records: Iterable[Sequence[Cell]], sheet: str | None) -> Table:
    # Row numbers as a spreadsheet shows them: the first row is 1, blank rows count.
    numbered = enumerate(records, start=1)
    headers: list[str] = []
    for _, record in numbered:
        if any(not _blank(cell) for cell in record):
            headers = [("" if cell is None else str(cell)).strip() for cell in record]
            break
    while headers and not headers[-1]:
        headers.pop()
    table = Table(kind=kind, headers=headers, sheet=sheet)
    for number, record in numbered:
        if any(not _blank(cell) for cell in record):
            table.rows.append(RawRow(number=number, cells=list(record)))
    return table


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
