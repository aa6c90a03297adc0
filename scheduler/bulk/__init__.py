"""Bulk work on posts: import from CSV and XLSX (ours and the seed's layout), export, template."""

from __future__ import annotations

from scheduler.bulk.importer import (
    Importer,
    ImportOptions,
    ImportProgress,
    ImportReport,
    ProgressCallback,
    RowIssue,
)
from scheduler.bulk.service import BulkService

__all__ = [
    "BulkService",
    "ImportOptions",
    "ImportProgress",
    "ImportReport",
    "Importer",
    "ProgressCallback",
    "RowIssue",
]
