#!/usr/bin/env bash
# Runs every test. Installs what the tests need first (scripts/setup.sh is idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
dotnet build Workbench.sln -c Release -warnaserror
dotnet test Workbench.sln -c Release --no-build --logger "console;verbosity=normal"
