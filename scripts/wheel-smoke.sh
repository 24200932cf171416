#!/usr/bin/env bash
# Builds the Python wheel of the `wanft` command with maturin, installs it into a fresh virtual
# environment and runs `wanft check` on the bundled example from there: what `pip install`,
# `pipx install` or `uvx` of the wheel gives a user.
#
# CI builds with the dev profile, reusing what `cargo test` compiled (a release build would add
# minutes); releases use `maturin build --release`. The packaging is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${WANFT_WHEEL_PROFILE:-dev}"
target="${CARGO_TARGET_DIR:-target}"
work="$target/wheel-smoke"
rm -rf "$work"
mkdir -p "$work"

python3 -m venv "$work/build-env"
"$work/build-env/bin/pip" install --quiet "maturin==1.16.0"
"$work/build-env/bin/maturin" build --locked --profile "$profile" --out "$work/wheels"
wheel=$(ls "$work"/wheels/wanft-*.whl)
echo "built $wheel ($(du -h "$wheel" | cut -f1))"

python3 -m venv "$work/user-env"
"$work/user-env/bin/pip" install --quiet "$wheel"
installed="$work/user-env/bin/wanft"
test -x "$installed"
"$installed" --version
"$installed" check examples/i2v-train
echo "wheel smoke test passed: the installed wanft checks the bundled example"
