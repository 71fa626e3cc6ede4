# Shared by serve.sh and test.sh: create .venv at the repository root and install the project.
ensure_venv() {
    local target="$1"
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
        .venv/bin/python -m pip install --quiet --upgrade pip
    fi
    # Re-install only when pyproject.toml changed since the last install.
    local stamp=".venv/.installed-$(echo "$target" | tr -c 'a-z' '_')"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --editable "$target"
        touch "$stamp"
    fi
}
