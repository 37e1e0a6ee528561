#!/usr/bin/env bash
# Installs what the workbench needs on a fresh Debian machine. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v dotnet >/dev/null || { echo "setup: the .NET SDK 10 (dotnet) is required" >&2; exit 1; }
