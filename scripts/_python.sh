# shellcheck shell=bash
# Sourced by scripts/bootstrap, scripts/demo and scripts/test; not run on its own.
#
# Finds a Python >= 3.12, creates .venv in the project if it is missing, and installs the project
# into it. pip only runs when pyproject.toml (or the extra asked for) changed since the last
# install, so a second run takes well under a second.
#
# After `orderdesk_install [dev]`: ROOT is the project folder (and the working directory) and
# VENV_PY is the virtualenv's python.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
VENV_PY="$VENV/bin/python"
STAMP="$VENV/.orderdesk-installed"
MIN_PYTHON="3.12"

_say() { printf '==> %s\n' "$*" >&2; }
_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# True if "$1" runs and is at least MIN_PYTHON. pyenv shims for versions that are not selected
# exist on PATH but fail when run, which counts as "no".
_python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

# Print the path of the newest suitable interpreter, or fail with what to install.
orderdesk_find_python() {
  local candidate
  if [[ -n "${PYTHON:-}" ]]; then
    _python_ok "$PYTHON" || _die "PYTHON=$PYTHON is not a Python >= $MIN_PYTHON."
    printf '%s\n' "$PYTHON"
    return
  fi
  for candidate in python3.13 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && _python_ok "$candidate"; then
      command -v "$candidate"
      return
    fi
  done
  # pyenv may have a suitable version installed without it being the selected one.
  if command -v pyenv >/dev/null 2>&1; then
    local pyenv_root
    pyenv_root="$(pyenv root 2>/dev/null || true)"
    if [[ -n "$pyenv_root" && -d "$pyenv_root/versions" ]]; then
      while IFS= read -r candidate; do
        if [[ -x "$candidate" ]] && _python_ok "$candidate"; then
          printf '%s\n' "$candidate"
          return
        fi
      done < <(printf '%s\n' "$pyenv_root"/versions/*/bin/python3 | sort -rV)
    fi
  fi
  _die "orderdesk needs Python >= $MIN_PYTHON and none was found (tried python3.13, python3.12
and python3 on PATH, and pyenv's installed versions). Install Python $MIN_PYTHON or newer, or
point PYTHON at one: PYTHON=/path/to/python3.12 $0"
}

# Create .venv if missing and install the project; `orderdesk_install dev` adds the dev extra.
orderdesk_install() {
  local extra="${1:-}"
  cd "$ROOT"

  if [[ -e "$VENV_PY" ]]; then
    _python_ok "$VENV_PY" || _die "$VENV has no working Python >= $MIN_PYTHON.
Remove it (rm -rf .venv) and run this again to recreate it."
  else
    local python
    python="$(orderdesk_find_python)" || exit 1
    _say "Creating .venv with $python ($("$python" -c 'import sys; print(sys.version.split()[0])'))"
    "$python" -m venv "$VENV" || _die "Could not create a virtualenv with $python.
On Debian or Ubuntu install the venv module first, e.g. apt-get install python3-venv."
  fi

  # The stamp records what was installed: the extra and a hash of pyproject.toml.
  local wanted spec
  wanted="$("$VENV_PY" -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')"
  if [[ -f "$STAMP" ]]; then
    local have_hash have_extra
    read -r have_hash have_extra <"$STAMP" || true
    # An install with the dev extra also serves callers that do not need it.
    if [[ "$have_hash" == "$wanted" && ("$have_extra" == "$extra" || "$have_extra" == "dev") ]]; then
      return 0
    fi
  fi

  spec="."
  [[ -n "$extra" ]] && spec=".[$extra]"
  _say "Installing orderdesk ($spec) into .venv"
  rm -f "$STAMP"
  # The filter hides setuptools' general caution about editable installs of a flat layout.
  PYTHONWARNINGS="ignore:Editable installation${PYTHONWARNINGS:+,$PYTHONWARNINGS}" \
    "$VENV_PY" -m pip install --quiet --disable-pip-version-check -e "$spec" \
    || _die "pip install -e '$spec' failed (see above)."
  printf '%s %s\n' "$wanted" "$extra" >"$STAMP"
}
