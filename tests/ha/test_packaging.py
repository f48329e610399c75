"""What HACS and Home Assistant read from the package, held against the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from homeassistant.const import __version__ as HA_VERSION
from PIL import Image

from custom_components.printer_supplies import services

COMPONENT = Path(__file__).resolve().parents[2] / "custom_components" / "printer_supplies"
REPO = COMPONENT.parents[1]


def load(name: str) -> dict:
    return json.loads((COMPONENT / name).read_text(encoding="utf-8"))


def test_manifest_and_hacs() -> None:
    manifest = load("manifest.json")
    for key in (
        "domain",
        "name",
        "version",
        "config_flow",
        "dependencies",
        "iot_class",
        "documentation",
        "issue_tracker",
        "codeowners",
        "requirements",
    ):
        assert key in manifest, key
    assert manifest["domain"] == "printer_supplies" and manifest["config_flow"] is True
    assert manifest["dependencies"] == ["mqtt"] and manifest["iot_class"] == "local_push"
    assert not [r for r in manifest["requirements"] if r.split("=")[0].lower() in ("httpx", "voluptuous")]
    hacs = json.loads((REPO / "hacs.json").read_text())
    # The minimum version is the one the tests run on.
    assert hacs["homeassistant"] == HA_VERSION and hacs["name"] == manifest["name"]


def test_strings_translations_services_and_icons_agree() -> None:
    strings = load("strings.json")
    assert load("translations/en.json") == strings
    icons = load("icons.json")
    described = yaml.safe_load((COMPONENT / "services.yaml").read_text())
    schemas = {
        "place_order": services.PLACE_ORDER_SCHEMA,
        "poll_now": services.POLL_NOW_SCHEMA,
        "discover": services.DISCOVER_SCHEMA,
        "add_printer": services.ADD_PRINTER_SCHEMA,
        "remove_printer": services.REMOVE_PRINTER_SCHEMA,
    }
    assert set(described) == set(schemas) == set(strings["services"]) == set(icons["services"])
    for name, schema in schemas.items():
        fields = {str(key) for key in schema.schema}
        assert set(described[name]["fields"]) == fields, name
        assert set(strings["services"][name]["fields"]) == fields, name
    # Every translation key the code raises or creates has its text.
    code = "\n".join(p.read_text() for p in COMPONENT.glob("*.py"))
    for key in strings["exceptions"]:
        assert f'"{key}"' in code, key
    for key in re.findall(r'translation_key="([a-z_]+)"', code):
        assert key in strings["exceptions"] or key in strings["issues"], key
    for platform, entities in strings["entity"].items():
        assert set(entities) == set(icons["entity"][platform])


def test_brand_images() -> None:
    sizes = {
        "icon.png": (256, 256),
        "icon@2x.png": (512, 512),
        "dark_icon.png": (256, 256),
        "dark_icon@2x.png": (512, 512),
    }
    for name, size in sizes.items():
        assert Image.open(COMPONENT / "brand" / name).size == size, name
    for name in ("logo.png", "dark_logo.png"):
        width, height = Image.open(COMPONENT / "brand" / name).size
        assert 128 <= height <= 256 and width > height, name
        assert Image.open(COMPONENT / "brand" / name.replace(".png", "@2x.png")).size == (
            width * 2,
            height * 2,
        )
