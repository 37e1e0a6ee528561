#!/usr/bin/env bash
# Installs what the workbench needs on a fresh Debian machine. Safe to run again: a second run
# changes nothing and prints nothing.
#
# What it sets up:
#   1. Debian's Jupyter (jupyter-nbconvert, python3-nbclient, jupyter-client, python3-ipykernel) and
#      golang-go for the Go reference programs, each only if missing.
#   2. The dotnet-interactive tool at a pinned version, in a fixed tool path of its own.
#   3. A Jupyter kernel spec ".net-csharp" that starts that tool by absolute path, local HTTP only.
#   4. A local NuGet feed, registered at user level, holding GoSched.Interactive, so that notebooks
#      load the extension the way users do: #r "nuget: GoSched.Interactive, <version>".
#
# Where things go (override with the environment):
#   GOSCHED_HOME       $HOME/.gosched      tool path (tools/) and local feed (feed/)
#   JUPYTER_DATA_DIR   Jupyter's own rule  the kernel spec goes in its kernels/ folder
#   NUGET_PACKAGES     NuGet's own rule    the global packages cache that #r "nuget:" reads
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/.."

readonly INTERACTIVE_VERSION=1.0.712001
readonly KERNEL_NAME=.net-csharp
readonly FEED_NAME=gosched-local
readonly EXTENSION_PROJECT=kernel-extension/GoSched.Interactive/GoSched.Interactive.csproj
readonly EXTENSION_ID=GoSched.Interactive
# Debian's interpreter, not whatever python3 the PATH finds first (a pyenv one here): /usr/bin/jupyter
# runs on it, and the Jupyter packages below are installed for it.
readonly PY=/usr/bin/python3
readonly JUPYTER=/usr/bin/jupyter

gosched_home=${GOSCHED_HOME:-$HOME/.gosched}
tool_dir=$gosched_home/tools
feed=$gosched_home/feed

# One setup at a time per GOSCHED_HOME: two checkouts testing at once must not pack into the feed,
# or rewrite the NuGet and Jupyter settings, at the same moment. The script runs again under flock,
# which holds the lock itself (-o): the compiler and MSBuild servers that dotnet leaves running
# for minutes must not inherit it. A lock that is not free at once gets a line before the wait:
# scripts/tour.sh sat silent for most of a minute while another checkout's setup held it. (A lock
# taken between the look and the wait is waited for without the line; that window is short.)
mkdir -p "$gosched_home"
if [ -z "${GOSCHED_SETUP_LOCKED:-}" ] && command -v flock >/dev/null; then
  export GOSCHED_SETUP_LOCKED=1
  lock=$gosched_home/.setup.lock
  rc=0; flock -n -E 75 "$lock" true || rc=$?
  [ $rc -ne 75 ] || echo "setup: waiting for another setup to finish (lock $lock)"
  rc=0; flock -o -w 900 -E 75 "$lock" "$self" "$@" || rc=$?
  [ $rc -ne 75 ] || echo "setup: ERROR: another setup held $lock for 15 minutes" >&2
  exit $rc
fi

log=$(mktemp "${TMPDIR:-/tmp}/gosched-setup.XXXXXX")
trap 'rm -f "$log"' EXIT

die() { echo "setup: ERROR: $*" >&2; exit 1; }
say() { echo "setup: $*"; }
# Runs a command with its output in the log; on failure shows the log's tail and stops.
quietly() {
  local what=$1; shift
  if ! "$@" >"$log" 2>&1; then
    echo "setup: ERROR: $what failed: $*" >&2
    tail -n 40 "$log" | sed 's/^/  | /' >&2
    exit 1
  fi
}

command -v dotnet >/dev/null || die "the .NET SDK 10 (dotnet) is required and is not on PATH"
dotnet_major=$(dotnet --version 2>/dev/null | cut -d. -f1)
[ "${dotnet_major:-0}" -ge 10 ] || die "the .NET SDK 10 is required; found '$(dotnet --version 2>&1 | head -n1)'"

# --- 1. Debian packages -----------------------------------------------------------------------
deb_packages=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel golang-go)
missing=()
for p in "${deb_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "missing ${missing[*]}, and there is no apt-get to install them (a Debian machine is expected)"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing ${missing[*]}: run this as root or install sudo"
    sudo=(sudo -n)
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quietly "apt-get update" "${sudo[@]}" apt-get update
  quietly "apt-get install" "${sudo[@]}" apt-get install -y -q "${missing[@]}"
  "$PY" -c 'import nbclient, nbconvert, jupyter_client, ipykernel' 2>"$log" \
    || { cat "$log" >&2; die "Debian's $PY cannot import the Jupyter packages just installed"; }
fi
[ -x "$JUPYTER" ] || die "$JUPYTER is missing although jupyter-client and jupyter-nbconvert are installed"

# --- 2. The dotnet-interactive tool -----------------------------------------------------------
mkdir -p "$tool_dir" "$feed"
tool=$tool_dir/dotnet-interactive
if [ ! -x "$tool" ] || [ ! -d "$tool_dir/.store/microsoft.dotnet-interactive/$INTERACTIVE_VERSION" ]; then
  say "installing Microsoft.dotnet-interactive $INTERACTIVE_VERSION into $tool_dir"
  rm -rf "$tool_dir"; mkdir -p "$tool_dir"
  quietly "installing the dotnet-interactive tool" \
    dotnet tool install Microsoft.dotnet-interactive --version "$INTERACTIVE_VERSION" --tool-path "$tool_dir"
fi
[ -x "$tool" ] || die "$tool is missing after its install"

# --- 3. The Jupyter kernel spec -----------------------------------------------------------------
# The tool's own "jupyter install" writes argv ["dotnet", "interactive", ...], which needs a global
# tool on PATH; this one names the binary by absolute path. --http-local-only keeps the kernel's
# HTTP endpoint on the loopback interface. DOTNET_ROOT lets the tool's apphost find the runtime
# wherever the SDK lives.
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
data_dir=$(cd / && "$JUPYTER" --data-dir 2>/dev/null) || die "'$JUPYTER --data-dir' failed"
spec_dir=$data_dir/kernels/$KERNEL_NAME
spec=$(cat <<EOF
{
  "argv": [
    "$tool",
    "jupyter",
    "--default-kernel",
    "csharp",
    "--http-local-only",
    "{connection_file}"
  ],
  "env": {
    "DOTNET_ROOT": "$dotnet_root",
    "DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT": "1",
    "DOTNET_INTERACTIVE_SKIP_FIRST_TIME_EXPERIENCE": "1",
    "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
    "DOTNET_NOLOGO": "1"
  },
  "display_name": ".NET (C#)",
  "language": "C#",
  "metadata": {
    "written_by": "GoSched Workbench scripts/setup.sh"
  }
}
EOF
)
if [ "$(cat "$spec_dir/kernel.json" 2>/dev/null)" != "$spec" ]; then
  if [ -f "$spec_dir/kernel.json" ] && ! grep -q 'GoSched Workbench' "$spec_dir/kernel.json"; then
    say "replacing the existing kernel spec $spec_dir (it now starts dotnet-interactive $INTERACTIVE_VERSION)"
  else
    say "writing the kernel spec $spec_dir"
  fi
  mkdir -p "$spec_dir"
  printf '%s\n' "$spec" >"$spec_dir/kernel.json"
fi

# --- 4. The local NuGet feed, at user level ---------------------------------------------------------
# At user level because #i with a relative path fails in the kernel and breaks later #r "nuget:".
# Run from / so that no NuGet.Config of a folder above the current one takes part.
sources=$(cd / && dotnet nuget list source --format short 2>"$log") \
  || { cat "$log" >&2; die "'dotnet nuget list source' failed"; }
if ! grep -qxF "E $feed" <<<"$sources"; then
  say "registering the local NuGet feed $feed as '$FEED_NAME' (user level)"
  (cd / && dotnet nuget remove source "$FEED_NAME" >/dev/null 2>&1) || true
  quietly "registering the local feed" bash -c 'cd / && dotnet nuget add source "$1" --name "$2"' _ "$feed" "$FEED_NAME"
fi

# Packs GoSched.Interactive into the feed when its inputs changed since the last pack (a stamp in the
# feed records their hash, so a second run costs nothing and another checkout's pack is noticed).
if [ -f "$EXTENSION_PROJECT" ]; then
  inputs_hash=$( { find runtime kernel-extension -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 \
                     | sort -z | xargs -0 sha256sum
                   sha256sum Directory.Build.props Directory.Packages.props 2>/dev/null || true
                 } | sha256sum | cut -d' ' -f1)
  stamp=$feed/.$EXTENSION_ID.stamp
  stamp_hash= stamp_nupkg=
  [ -f "$stamp" ] && read -r stamp_hash stamp_nupkg <"$stamp"
  if [ "$stamp_hash" != "$inputs_hash" ] || [ ! -f "$stamp_nupkg" ]; then
    say "packing $EXTENSION_ID into $feed"
    pack_out=$(mktemp -d "${TMPDIR:-/tmp}/gosched-pack.XXXXXX")
    quietly "packing $EXTENSION_PROJECT" dotnet pack "$EXTENSION_PROJECT" -c Release -o "$pack_out" -nologo -nodeReuse:false
    shopt -s nullglob
    packed=("$pack_out/$EXTENSION_ID".[0-9]*.nupkg)
    shopt -u nullglob
    [ ${#packed[@]} -eq 1 ] || die "expected one $EXTENSION_ID.<version>.nupkg from the pack, found ${#packed[@]} in $pack_out"
    stamp_nupkg=$feed/$(basename "${packed[0]}")
    mv -f "${packed[0]}" "$stamp_nupkg"
    rm -rf "$pack_out"
    echo "$inputs_hash $stamp_nupkg" >"$stamp"
  fi
  # #r "nuget:" resolves through the global packages cache, where a package of the same version
  # packed earlier stays extracted: a re-pack is only seen once that copy is gone. Compare the
  # cache's recorded hash with the feed's package and drop the copy when they differ.
  version=$(basename "$stamp_nupkg" .nupkg); version=${version#"$EXTENSION_ID".}
  cache=$(cd / && dotnet nuget locals global-packages --list 2>/dev/null | sed -n 's/^global-packages: *//p')
  cache=${cache%/}; cache=${cache:-${NUGET_PACKAGES:-$HOME/.nuget/packages}}
  cached=$cache/$(tr '[:upper:]' '[:lower:]' <<<"$EXTENSION_ID")/$(tr '[:upper:]' '[:lower:]' <<<"$version")
  if [ -d "$cached" ]; then
    want=$("$PY" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$stamp_nupkg")
    have=$(cat "$cached"/*.nupkg.sha512 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
      rm -rf "$cached"
    fi
  fi
fi

# The kernel's NuGet resolver (FSharp.DependencyManager.Nuget) also keeps each #r "nuget:" line's
# result in $HOME/.packagemanagement/nuget/Cache, keyed by the line, and reuses it without a restore
# while the files it lists exist. A result that lists nothing (the package was not in the feed yet,
# or had no lib/ assembly) lists no file that could go missing, so it is reused for ever: the
# extension then never loads ("Unknown magic command '#!gosched'") although the feed now has it.
# Drop such results, so that the next #r restores afresh. (A result that lists files is safe: when
# the copy above was dropped, its files are gone and the resolver restores again.)
resolver_cache=$HOME/.packagemanagement/nuget/Cache
if [ -d "$resolver_cache" ]; then
  for paths in "$resolver_cache"/*.resolvedReferences.paths; do
    if [ -f "$paths" ] && [ ! -s "$paths" ]; then
      rm -f "$paths" "${paths%.resolvedReferences.paths}".*
    fi
  done
fi
