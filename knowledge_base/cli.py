"""`kb` command: migrate, load content, import offers, export the NLU lookup table, try the resolver.

    kb migrate                          create/upgrade the schema (Alembic)
    kb load [--content DIR]             validate and load the content files (one transaction)
    kb import-ba FILE [FILE ...]        import pages of the BA Ausbildungssuche API (JSON, source "ba")
    kb import-csv FILE [--delimiter ;]  import offers kept by hand in a CSV file (source "csv")
    kb demo-offers [--size small|bench|N] [--seed N]
                                        replace the invented demo offers (source "demo", not real vacancies)
    kb export-lookups FILE              write the Rasa lookup table of occupation names
    kb resolve TEXT                     show occupation candidates for a text

Imports check every file first and write in one transaction: a malformed file ends with exit code 2 and
nothing imported; single bad rows are rejected with a reason and listed. See docs/offer-import.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import yaml
from sqlalchemy.orm import Session

from core.db import analyze, database_url, make_engine, make_session_factory, session_scope
from knowledge_base.loader import CONTENT_DIR, ContentError, load_content, read_content

if TYPE_CHECKING:
    from knowledge_base.importers import ImportReport

T = TypeVar("T")


def cmd_migrate(_: argparse.Namespace) -> int:
    from core.migrate import upgrade

    upgrade()
    print(f"Schema aktuell: {_safe_url()}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    try:
        content = read_content(Path(args.content))
    except ContentError as exc:
        print(f"FEHLER: {exc}\nNichts wurde geladen.", file=sys.stderr)
        return 2
    factory = make_session_factory(make_engine())
    with session_scope(factory) as session:
        report = load_content(session, content)
    print(f"Wissensbasis geladen ({_safe_url()}): {report.changed} Änderungen")
    print("\n".join(report.lines()))
    return 0


def cmd_import_ba(args: argparse.Namespace) -> int:
    from knowledge_base.importers import import_ba_pages, read_ba_pages

    return _run_import(lambda: read_ba_pages([Path(f) for f in args.files]),
                       lambda session, pages: import_ba_pages(session, pages, quiet=_quiet(args)))


def cmd_import_csv(args: argparse.Namespace) -> int:
    from knowledge_base.importers import import_csv_file, read_offers_csv

    delimiter = "\t" if args.delimiter == "tab" else args.delimiter
    return _run_import(lambda: read_offers_csv(Path(args.file), delimiter),
                       lambda session, csv_file: import_csv_file(session, csv_file, quiet=_quiet(args)))


def _run_import(read: Callable[[], T], write: Callable[[Session, T], ImportReport]) -> int:
    """Read and check the files (no session yet), then import in one transaction; exit code 2 if malformed."""
    from knowledge_base.importers import OfferImportError

    try:
        data = read()
        factory = make_session_factory(make_engine())
        with session_scope(factory) as session:
            report = write(session, data)
        with session_scope(factory) as session:
            analyze(session)
    except OfferImportError as exc:
        print(f"FEHLER: {exc}\nNichts wurde importiert.", file=sys.stderr)
        return 2
    print(f"Angebote importiert ({_safe_url()}):")
    print("\n".join(report.lines()))
    return 0


def cmd_demo_offers(args: argparse.Namespace) -> int:
    from knowledge_base.demo_offers import DEFAULT_SEED, load_demo_offers

    seed = DEFAULT_SEED if args.seed is None else args.seed
    factory = make_session_factory(make_engine())
    try:
        with session_scope(factory) as session:
            report = load_demo_offers(session, size=args.size, seed=seed, quiet=_quiet(args))
    except ValueError as exc:
        print(f"FEHLER: {exc}\nNichts wurde geändert.", file=sys.stderr)
        return 2
    print(f"Demo-Angebote geladen ({_safe_url()}): {report.changed} Änderungen – erfundene Beispiele, "
          "keine echten Ausbildungsplätze")
    print("\n".join(report.lines()))
    return 0


def _demo_size(value: str) -> str | int:
    if value in ("small", "bench"):
        return value
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"small, bench oder eine Anzahl, nicht '{value}'") from None
    if number < 1:
        raise argparse.ArgumentTypeError("mindestens 1")
    return number


def _quiet(args: argparse.Namespace) -> bool:
    """No progress bar when asked, or when stderr is not a terminal (CI, log files)."""
    return bool(args.quiet) or not sys.stderr.isatty()


def cmd_export_lookups(args: argparse.Namespace) -> int:
    from knowledge_base.queries import lookup_names

    factory = make_session_factory(make_engine())
    with session_scope(factory) as session:
        names = lookup_names(session)
    header = (
        "# GENERATED by `kb export-lookups` from the knowledge base – do not edit by hand.\n"
        "# Occupation names: Quelle: BIBB (Erhebungsberufe, Berichtsjahr 2024) and curated aliases.\n"
    )
    lines = "".join(f"      - {yaml.safe_dump(n, allow_unicode=True, width=1000).strip().removesuffix('...').strip()}\n"
                    for n in names)
    body = f'version: "3.1"\nnlu:\n  - lookup: occupation\n    examples: |\n{lines}'
    yaml.safe_load(body)  # fail here, not in Rasa, if a name breaks the format
    Path(args.file).write_text(header + body, encoding="utf-8")
    print(f"{len(names)} Berufsbezeichnungen nach {args.file} geschrieben")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from knowledge_base.resolve import AliasIndex

    factory = make_session_factory(make_engine())
    with session_scope(factory) as session:
        resolution = AliasIndex.build(session).resolve(args.text)
    for c in resolution.candidates:
        print(f"{c.score:6.1f}  {c.name}  (über '{c.matched}')")
    print("eindeutig" if resolution.is_sure else "nicht eindeutig")
    return 0


def _safe_url() -> str:
    url = database_url()
    return url.split("@")[-1] if "@" in url else url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kb", description="Wissensbasis des Berufsorientierungs-Assistenten")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate").set_defaults(func=cmd_migrate)
    p = sub.add_parser("load")
    p.add_argument("--content", default=str(CONTENT_DIR))
    p.set_defaults(func=cmd_load)
    p = sub.add_parser("import-ba", help="Seiten der BA-Ausbildungssuche (JSON) importieren")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--quiet", action="store_true", help="ohne Fortschrittsbalken")
    p.set_defaults(func=cmd_import_ba)
    p = sub.add_parser("import-csv", help="von Hand gepflegte Angebote (CSV, UTF-8) importieren")
    p.add_argument("file")
    p.add_argument("--delimiter", choices=[";", ",", "tab"], default=None,
                   help="Trennzeichen (Standard: aus der Kopfzeile erkannt)")
    p.add_argument("--quiet", action="store_true", help="ohne Fortschrittsbalken")
    p.set_defaults(func=cmd_import_csv)
    p = sub.add_parser("demo-offers", help="erfundene Demo-Angebote erzeugen (keine echten Stellen)")
    p.add_argument("--size", type=_demo_size, default="small", help="small (2.000), bench (100.000) oder eine Anzahl")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="ohne Fortschrittsbalken")
    p.set_defaults(func=cmd_demo_offers)
    p = sub.add_parser("export-lookups")
    p.add_argument("file")
    p.set_defaults(func=cmd_export_lookups)
    p = sub.add_parser("resolve")
    p.add_argument("text")
    p.set_defaults(func=cmd_resolve)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
