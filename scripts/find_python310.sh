#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 does not run on 3.11+).
# Tries PATH first, then pyenv installs, then common prefixes.
set -u
candidates=(python3.10)
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin /usr/local/bin /usr/bin /opt/python*/bin; do
  [ -x "$dir/python3.10" ] && candidates+=("$dir/python3.10")
done
for py in "${candidates[@]}"; do
  if "$py" -c 'import sys, venv; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    "$py" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
echo "Python 3.10 not found: install it (pyenv install 3.10, or your distribution's python3.10) and retry." >&2
exit 1
