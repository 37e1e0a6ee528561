#!/usr/bin/env bash
# Builds and runs one Go reference benchmark; prints its JSON line.
# Usage: run.sh <pingpong|ring|spawn|fanout|parked|timers|netecho|locked|handoff|mutex>   (GOMAXPROCS from the environment)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
name="${1:?usage: run.sh <pingpong|ring|spawn|fanout|parked|timers|netecho|locked|handoff|mutex>}"
[[ -f "$here/$name/main.go" ]] || { echo "run.sh: no benchmark '$name' (have: $(cd "$here" && ls -d */ | grep -v bin/ | tr -d / | xargs))" >&2; exit 2; }
mkdir -p "$here/bin"
# No module downloads: the only dependency is datasets/go, by a directory replace.
(cd "$here" && GOFLAGS=-mod=mod GOPROXY=off go build -o "bin/$name" "./$name")
exec "$here/bin/$name"
