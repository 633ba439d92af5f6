"""Accounts of the console: ``python -m channels.console.cli COMMAND`` (migrates the database first).

  create-user USERNAME --role adviser|admin [--display-name NAME] [--password-stdin]
  set-password USERNAME [--password-stdin]
  issue-token USERNAME
  revoke-token USERNAME   (the API token stops working)
  deactivate USERNAME     (ends the account's sessions; login and API token are refused)
  activate USERNAME
  ensure-admin            (first admin from CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD, or "admin")

Generated passwords and tokens are printed once; only their hashes are stored.
"""

from __future__ import annotations

import argparse
import sys

from channels.console import accounts
from core.db import database_url, make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from core.settings import AdminAccountSettings
from handoff.models import ROLES


def _read_password(from_stdin: bool) -> str | None:
    if not from_stdin:
        return None
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m channels.console.cli", description="Konten der Beratungskonsole")
    parser.add_argument("--database-url", default=None, help="Standard: KB_DATABASE_URL oder var/kb.sqlite3")
    commands = parser.add_subparsers(dest="command", required=True)

    create = commands.add_parser("create-user", help="Konto anlegen")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="adviser")
    create.add_argument("--display-name", default=None)
    create.add_argument("--password-stdin", action="store_true", help="Passwort aus der ersten Zeile von stdin")

    password = commands.add_parser("set-password", help="Neues Passwort setzen (beendet alle Sitzungen)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")

    token = commands.add_parser("issue-token", help="Neues API-Token ausgeben (ersetzt das alte)")
    token.add_argument("username")

    revoke = commands.add_parser("revoke-token", help="API-Token widerrufen")
    revoke.add_argument("username")

    deactivate = commands.add_parser("deactivate", help="Konto sperren (beendet alle Sitzungen, Token ungültig)")
    deactivate.add_argument("username")

    activate = commands.add_parser("activate", help="Gesperrtes Konto wieder freigeben")
    activate.add_argument("username")

    commands.add_parser("ensure-admin", help="Erstes Administrationskonto anlegen, falls keines existiert")

    args = parser.parse_args(argv)
    url = args.database_url or database_url()
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    try:
        with session_scope(factory) as session:
            if args.command == "create-user":
                created = accounts.create_adviser(
                    session, args.username, args.role, args.display_name, _read_password(args.password_stdin)
                )
                print(f"Konto {created.adviser.username!r} ({created.adviser.role}) angelegt.")
                if created.password:
                    print(f"Passwort (wird nur jetzt angezeigt): {created.password}")
            elif args.command == "set-password":
                generated = accounts.set_password(session, args.username, _read_password(args.password_stdin))
                print(f"Passwort von {args.username!r} geändert.")
                if generated:
                    print(f"Neues Passwort (wird nur jetzt angezeigt): {generated}")
            elif args.command == "issue-token":
                issued = accounts.issue_token(session, args.username)
                print(f"API-Token für {args.username!r} (wird nur jetzt angezeigt, ersetzt ein älteres):")
                print(issued)
            elif args.command == "revoke-token":
                accounts.revoke_token(session, args.username)
                print(f"API-Token von {args.username!r} widerrufen.")
            elif args.command == "deactivate":
                ended = accounts.deactivate(session, args.username)
                print(f"Konto {args.username!r} deaktiviert ({ended} Sitzung(en) beendet); Anmeldung und API-Token "
                      "werden abgelehnt.")
            elif args.command == "activate":
                accounts.activate(session, args.username)
                print(f"Konto {args.username!r} wieder aktiviert.")
            elif args.command == "ensure-admin":
                admin = AdminAccountSettings.from_env()
                result = accounts.ensure_admin(session, admin.admin_user, admin.admin_password)
                if not result.created:
                    print(f"Administrationskonto {result.adviser.username!r} existiert bereits; nichts geändert.")
                else:
                    print(f"Administrationskonto {result.adviser.username!r} angelegt.")
                    if result.password:
                        print(f"Passwort (wird nur jetzt angezeigt): {result.password}")
    except accounts.AccountError as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
