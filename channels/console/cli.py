"""Accounts of the console: ``python -m channels.console.cli COMMAND`` (migrates the database first).

  create-user USERNAME --role adviser|admin [--display-name NAME] [--password-stdin]
  set-password USERNAME [--password-stdin]
  issue-token USERNAME
  revoke-token USERNAME   (the API token stops working)
  deactivate USERNAME     (ends the account's sessions; login and API token are refused)
  activate USERNAME
  ensure-admin            (first admin from CONSOLE_ADMIN_USER / CONSOLE_ADMIN_PASSWORD, or "admin")
  create-team NAME [--region KEY …] [--topic KEY …] [--email ADDRESS] [--fallback]
                          (districts: handoff/data/hessen_regions.yml; topics: handoff/teams.py TOPICS)
  add-member TEAM USERNAME

Generated passwords and tokens are printed once; only their hashes are stored.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.console import accounts
from core.db import database_url, make_engine, make_session_factory, session_scope
from core.migrate import upgrade
from core.settings import AdminAccountSettings
from handoff import teams
from handoff.models import ROLES, Adviser


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

    team = commands.add_parser("create-team", help="Team anlegen (Region, Themen, E-Mail, Auffangteam)")
    team.add_argument("name")
    team.add_argument("--region", action="append", default=[], help="Kreis-Schlüssel, z. B. frankfurt (mehrfach)")
    team.add_argument("--topic", action="append", default=[], choices=sorted(teams.TOPICS), help="Thema (mehrfach)")
    team.add_argument("--email", default=None)
    team.add_argument("--fallback", action="store_true", help="Auffangteam für alles, wozu kein Team passt")

    member = commands.add_parser("add-member", help="Konto einem Team hinzufügen")
    member.add_argument("team")
    member.add_argument("username")

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
            elif args.command in ("create-team", "add-member"):
                return _team_command(session, args)
    except (accounts.AccountError, teams.TeamError) as exc:
        print(f"Fehler: {exc}", file=sys.stderr)
        return 1
    return 0


def _team_command(session: Session, args: argparse.Namespace) -> int:
    if args.command == "create-team":
        if teams.team_by_name(session, args.name) is not None:
            raise teams.TeamError("Ein Team mit diesem Namen gibt es schon.")
        created = teams.save_team(session, None, name=args.name, region=args.region, topics=args.topic,
                                  email=args.email, is_fallback=args.fallback)
        print(f"Team {created.name!r} angelegt (Region: {', '.join(created.region) or 'ganz Hessen'}; "
              f"Themen: {', '.join(created.topics) or 'allgemein'}).")
        return 0
    found = teams.team_by_name(session, args.team)
    adviser = session.scalar(select(Adviser).where(Adviser.username == args.username))
    if found is None or adviser is None:
        raise teams.TeamError("Team oder Konto gibt es nicht.")
    added = teams.add_member(session, found, adviser)
    print(f"{args.username!r} ist {'jetzt' if added else 'schon'} Mitglied von {found.name!r}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
