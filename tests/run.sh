#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   tests/run.sh          normal build in build/
#   tests/run.sh asan     ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/deps

mode=${1:-normal}
case "$mode" in
normal) dir=build; opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
asan) dir=build-asan; opts=(-DCMAKE_BUILD_TYPE=Debug -DDR_SANITIZE=ON) ;;
*) echo "usage: tests/run.sh [asan]" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" -DDR_WERROR=ON "${opts[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure --timeout 600
