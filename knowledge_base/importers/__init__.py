"""Importers for real training offers: BA Ausbildungssuche JSON pages (source ``ba``) and hand-kept CSV (``csv``).

Both check every file before writing, write in the caller's transaction, upsert by (source, source id) and
return an ``ImportReport`` (new / updated / unchanged / skipped as older / rejected with reasons).
"""

from knowledge_base.importers.ba_json import import_ba_files, import_ba_pages, read_ba_pages
from knowledge_base.importers.common import ImportReport, OfferImportError, Rejection
from knowledge_base.importers.offers_csv import import_csv_file, import_offers_csv, read_offers_csv

__all__ = [
    "ImportReport",
    "OfferImportError",
    "Rejection",
    "import_ba_files",
    "import_ba_pages",
    "import_csv_file",
    "import_offers_csv",
    "read_ba_pages",
    "read_offers_csv",
]
