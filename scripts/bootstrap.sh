# Shared set-up for scripts/demo and scripts/test (sourced, not run).
# Installs what a fresh Debian machine lacks: Mosquitto, the virtual environments and the pinned packages.
# Re-running is cheap: each venv remembers the hash of what it was built from.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

apt_install() {
    # Debian packages by name; apt-get update once per run, only when something is missing.
    local missing=()
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

find_python() {
    # $1 = wanted minor version ("3.13"); prints an interpreter path that really runs it.
    local want="$1" cand
    for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want" \
                /usr/bin/python"$want" /usr/local/bin/python"$want" "$(command -v python"$want" 2>/dev/null || true)"; do
        [ -n "$cand" ] && [ -x "$cand" ] || continue
        if "$cand" -c "import sys, venv; sys.exit(sys.version_info[:2] != tuple(map(int, '$want'.split('.'))))" 2>/dev/null; then
            echo "$cand"; return 0
        fi
    done
    return 1
}

make_venv() {
    # make_venv DIR PYTHON EXTRAS [PIP ARGS...]: builds DIR with the project (editable, with the
    # given extras, e.g. "sim,cloud") and the pinned packages.
    local dir="$1" py="$2" extras="$3"; shift 3
    local stamp
    stamp="$( (cat pyproject.toml constraints.txt constraints-dev.txt requirements-dev.txt requirements-ha.txt constraints-ha.txt; "$py" --version; echo "$extras $*") | sha256sum | cut -c1-16)"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/python" ]; then
        return 0
    fi
    log "building $dir with $("$py" --version)"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$dir/bin/python" -m pip install -q --disable-pip-version-check \
        -c constraints.txt -c constraints-dev.txt -c constraints-ha.txt -e ".[$extras]" "$@"
    echo "$stamp" > "$dir/.stamp"
}

ensure_base() {
    # $@: extra Debian packages (the tests add chromium and postgresql)
    apt_install mosquitto "$@"
    PY313="$(find_python 3.13 || true)"
    if [ -z "$PY313" ]; then
        log "no Python 3.13 found; falling back to $(command -v python3)"
        PY313="$(command -v python3)"
    fi
    export PY313
}

make_ha_venv() {
    # make_ha_venv DIR PYTHON: Home Assistant 2025.4.4 (the version the integration is tested with)
    # and the requirements of the built-in integrations the demo's Home Assistant sets up, read from
    # the installed manifests (scripts/ha_demo.py requirements), all pinned by constraints-ha-demo.txt.
    local dir="$1" py="$2"
    local stamp
    stamp="$( (cat constraints-ha-demo.txt; "$py" --version) | sha256sum | cut -c1-16)"
    if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/hass" ]; then
        return 0
    fi
    log "building $dir (Home Assistant 2025.4.4) with $("$py" --version)"
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -c constraints-ha-demo.txt homeassistant==2025.4.4
    local reqs
    reqs="$("$dir/bin/python" scripts/ha_demo.py requirements)"
    # shellcheck disable=SC2086 # one requirement a word
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -c constraints-ha-demo.txt $reqs
    echo "$stamp" > "$dir/.stamp"
}
