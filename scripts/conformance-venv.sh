#!/usr/bin/env bash
# Creates the Python environment of the official-client conformance test
# (tests/sdk_conformance.rs): .venv-conformance/ at the repository root, with the pinned
# dashscope and openai packages of tests/conformance/requirements.txt. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-conformance
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r tests/conformance/requirements.txt
"$venv/bin/python" -c 'import dashscope, openai; print("conformance venv:", "dashscope", dashscope.__version__, "openai", openai.__version__)'
