#!/usr/bin/env bash
# Executes the tour notebook headless: installs what it needs (scripts/setup.sh), then runs
# notebooks/01-tour.ipynb through the gosched command-line front end, which executes it in-process
# with the extension loaded and writes the executed notebook and a self-contained page:
#   out/01-tour.ipynb   out/01-tour.html
set -euo pipefail
cd "$(dirname "$0")/.."

readonly NOTEBOOK=notebooks/01-tour.ipynb
readonly CLI=runtime/GoSched.Cli/GoSched.Cli.csproj

./scripts/setup.sh
[ -f "$NOTEBOOK" ] || { echo "tour: ERROR: $NOTEBOOK is missing" >&2; exit 1; }
[ -f "$CLI" ] || { echo "tour: ERROR: the command-line front end ($CLI) is missing" >&2; exit 1; }

mkdir -p out
rm -f out/01-tour.ipynb out/01-tour.html
started=$SECONDS
dotnet run --project "$CLI" -c Release -- notebook "$NOTEBOOK"

for f in out/01-tour.ipynb out/01-tour.html; do
  [ -s "$f" ] || { echo "tour: ERROR: the run did not write $f" >&2; exit 1; }
done
echo "tour: executed $NOTEBOOK in $((SECONDS - started)) s: out/01-tour.ipynb, out/01-tour.html"
