"""`supplies-cloud` as the dealer runs it: sites, keys, catalog, logins, against a real database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path


def cloud(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPPLIES_CLOUD_DATA_DIR": str(tmp_path), "SUPPLIES_CLOUD_SECRET_KEY": "k" * 40}
    return subprocess.run(
        [sys.executable, "-m", "supplies_cloud", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_site_keys_catalog_and_users(tmp_path: Path) -> None:
    created = cloud(tmp_path, "create-site", "Kanzlei Weber", "--email", "it@weber.example")
    assert created.returncode == 0, created.stderr
    key = re.search(r"psk_\S+", created.stdout).group(0)
    assert cloud(tmp_path, "create-site", "Kanzlei Weber").returncode == 1  # names are unique

    listed = cloud(tmp_path, "list-sites")
    assert "Kanzlei Weber" in listed.stdout and key[:10] in listed.stdout and key not in listed.stdout
    db = sqlite3.connect(tmp_path / "supplies-cloud.sqlite3")
    assert key not in str(db.execute("SELECT * FROM api_keys").fetchall())  # only a hash is stored

    imported = cloud(tmp_path, "import-demo-catalog")
    assert imported.returncode == 0, imported.stderr
    assert db.execute("SELECT count(*) FROM catalog_items").fetchone()[0] >= 20

    bad = tmp_path / "bad.csv"
    bad.write_text("vendor,model,kind,color,part_number,description,price\nHP,M1,toner,black,X1,Toner,abc\n")
    refused = cloud(tmp_path, "import-catalog", str(bad))
    assert refused.returncode == 1 and "nothing was imported" in refused.stderr
    assert "line" in refused.stderr

    user = cloud(tmp_path, "create-user", "dana", "--password-stdin", stdin="correct horse battery\n")
    assert user.returncode == 0, user.stderr
    short = cloud(tmp_path, "create-user", "eve", "--password-stdin", stdin="short\n")
    assert short.returncode == 1
    hashes = [row[0] for row in db.execute("SELECT password_hash FROM users")]
    assert len(hashes) == 1 and hashes[0].startswith("$argon2id$")

    prefix = re.search(r"(psk_\S{6})…", listed.stdout).group(1)
    assert cloud(tmp_path, "revoke-key", prefix).returncode == 0
    assert "revoked" in cloud(tmp_path, "list-sites").stdout
    assert cloud(tmp_path, "revoke-key", "psk_nope").returncode == 1


def test_bad_configuration_exit_code_2(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPLIES_CLOUD_DATA_DIR": str(tmp_path), "SUPPLIES_CLOUD_PORT": "99999999"}
    result = subprocess.run(
        [sys.executable, "-m", "supplies_cloud", "migrate"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "port" in result.stderr
