"""``supplies-cloud``: run the service and manage sites, keys, users and the catalog.

Exit codes: 0 success, 1 the work failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select

from . import __version__
from .config import CloudSettings
from .db import Database, migrate
from .models import ApiKey, Site, User, utcnow
from .security import hash_password, key_hash, key_prefix, new_api_key

DEMO_CATALOG = Path(__file__).parent / "demo_catalog.csv"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supplies-cloud", description="The reference supplies cloud.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the web service (migrates the database first)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8400)")

    commands.add_parser("migrate", help="bring the database schema up to date")

    site = commands.add_parser("create-site", help="create a customer site and print its first API key")
    site.add_argument("name")
    site.add_argument("--email", help="the site's contact address")

    key = commands.add_parser("create-key", help="print a new API key for an existing site")
    key.add_argument("site")
    key.add_argument("--label")

    revoke = commands.add_parser("revoke-key", help="revoke an API key by its prefix (from list-sites)")
    revoke.add_argument("prefix")

    commands.add_parser("list-sites", help="sites and their keys (prefixes only)")

    catalog = commands.add_parser("import-catalog", help="import or update catalog rows from a CSV file")
    catalog.add_argument("file", type=Path)

    commands.add_parser("import-demo-catalog", help="import the catalog of the agent's demo fleet")

    user = commands.add_parser("create-user", help="create a dealer login (password asked, or from stdin)")
    user.add_argument("username")
    user.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = CloudSettings()
    except ValidationError as exc:
        for error in exc.errors():
            print(f"configuration error: {'.'.join(map(str, error['loc']))}: {error['msg']}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return _serve(settings, args)
    migrate(settings.url)
    db = Database(settings.url)
    try:
        return _COMMANDS[args.command](db, settings, args)
    finally:
        db.dispose()


def _serve(settings: CloudSettings, args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    if args.host:
        settings = settings.model_copy(update={"host": args.host})
    if args.port:
        settings = settings.model_copy(update={"port": args.port})
    from .logs import log_config

    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=log_config(), proxy_headers=True)
    return 0


def _migrate(_db: Database, settings: CloudSettings, _args: argparse.Namespace) -> int:
    print(f"database schema is up to date ({settings.url.split('@')[-1]})")
    return 0


def _issue_key(db: Database, site_name: str, label: str | None) -> str | None:
    key = new_api_key()
    with db.session() as session:
        site = session.scalars(select(Site).where(Site.name == site_name)).first()
        if site is None:
            return None
        session.add(ApiKey(site_id=site.id, prefix=key_prefix(key), key_hash=key_hash(key), label=label))
    return key


def _create_site(db: Database, _settings: CloudSettings, args: argparse.Namespace) -> int:
    with db.session() as session:
        if session.scalars(select(Site).where(Site.name == args.name)).first() is not None:
            print(f"error: a site named {args.name!r} exists already", file=sys.stderr)
            return 1
        session.add(Site(name=args.name, contact_email=args.email))
    key = _issue_key(db, args.name, "first key")
    print(f"site {args.name!r} created. Its API key, shown only now:\n\n    {key}\n")
    print("Give it to the site's Home Assistant (Printer Supplies integration → cloud API key).")
    return 0


def _create_key(db: Database, _settings: CloudSettings, args: argparse.Namespace) -> int:
    key = _issue_key(db, args.site, args.label)
    if key is None:
        print(f"error: no site named {args.site!r}", file=sys.stderr)
        return 1
    print(f"new API key for {args.site!r}, shown only now:\n\n    {key}\n")
    return 0


def _revoke_key(db: Database, _settings: CloudSettings, args: argparse.Namespace) -> int:
    with db.session() as session:
        keys = session.scalars(select(ApiKey).where(ApiKey.prefix == args.prefix)).all()
        if len(keys) != 1:
            print(f"error: {len(keys)} keys have the prefix {args.prefix!r}", file=sys.stderr)
            return 1
        keys[0].revoked_at = keys[0].revoked_at or utcnow()
    print(f"key {args.prefix}… revoked")
    return 0


def _list_sites(db: Database, _settings: CloudSettings, _args: argparse.Namespace) -> int:
    with db.session() as session:
        for site in session.scalars(select(Site).order_by(Site.name)):
            print(f"{site.name}  ({site.contact_email or 'no e-mail'})")
            for key in site.keys:
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                print(f"    {key.prefix}…  {state}  {key.label or ''}")
    return 0


def _import(db: Database, settings: CloudSettings, path: Path) -> int:
    from .rules.catalog import CatalogImportError, import_csv

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        with db.session() as session:
            report = import_csv(session, text, settings.currency)
    except CatalogImportError as exc:
        print(f"error: {path}: {exc} (nothing was imported)", file=sys.stderr)
        return 1
    print(f"{path}: {report}")
    return 0


def _import_catalog(db: Database, settings: CloudSettings, args: argparse.Namespace) -> int:
    return _import(db, settings, args.file)


def _import_demo(db: Database, settings: CloudSettings, _args: argparse.Namespace) -> int:
    return _import(db, settings, DEMO_CATALOG)


def _create_user(db: Database, _settings: CloudSettings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    if len(password) < 10:
        print("error: use at least 10 characters", file=sys.stderr)
        return 1
    with db.session() as session:
        user = session.scalars(select(User).where(User.username == args.username)).first()
        if user is None:
            session.add(User(username=args.username, password_hash=hash_password(password)))
            print(f"dealer login {args.username!r} created")
        else:
            user.password_hash = hash_password(password)
            print(f"password of {args.username!r} changed")
    return 0


_COMMANDS = {
    "migrate": _migrate,
    "create-site": _create_site,
    "create-key": _create_key,
    "revoke-key": _revoke_key,
    "list-sites": _list_sites,
    "import-catalog": _import_catalog,
    "import-demo-catalog": _import_demo,
    "create-user": _create_user,
}

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
