#!/usr/bin/env bash
# Runs every test: installs what the tests need (scripts/setup.sh, idempotent), builds the solution
# with warnings as errors, runs each test project in turn, and ends with one summary line:
#   Summary: N passed, N failed, N skipped
# Exits non-zero when the setup or the build fails or any test fails.
#
# Test projects run one after another, not side by side: the scheduler's tests run real threads on
# this machine's two cores, and the notebook tests start a real Jupyter kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

./scripts/setup.sh
setup_seconds=$((SECONDS - started))

# The notebook tests run real Jupyter; setup has just installed it, so a missing Jupyter is a failure.
export GOSCHED_REQUIRE_JUPYTER=1

# -nodeReuse:false: no MSBuild node stays behind once the tests are done.
echo "== build (Release, warnings as errors)"
if ! dotnet build Workbench.sln -c Release -warnaserror -nologo -v quiet -nodeReuse:false; then
  echo "Summary: build failed (after $((SECONDS - started)) s)"
  exit 1
fi
build_seconds=$((SECONDS - started - setup_seconds))

results=$(mktemp -d "${TMPDIR:-/tmp}/gosched-tests.XXXXXX")
trap 'rm -rf "$results"' EXIT
mapfile -t projects < <(dotnet sln Workbench.sln list | tr '\\' '/' | grep -E '^tests/.+\.csproj$' | sort)
[ ${#projects[@]} -gt 0 ] || { echo "Summary: no test project in Workbench.sln"; exit 1; }

passed=0 failed=0 skipped=0 broken=()
table=()
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  t0=$SECONDS
  # A hung test fails its project after 15 minutes instead of using up CI's time.
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --blame-hang-timeout 15m --blame-hang-dump-type none || true
  trx=$results/$name.trx
  if [ -f "$trx" ] && counters=$(grep -o '<Counters [^>]*>' "$trx"); then
    count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
    p=$(count passed) f=$(count failed) e=$(count error) x=$(count timeout) a=$(count aborted)
    n=$(( $(count total) - $(count executed) )) # skipped tests are counted as not executed
    f=$((f + e + x + a))
  else
    p=0 f=1 n=0 # the test host crashed before writing its results
  fi
  [ "$f" -eq 0 ] || broken+=("$name")
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + n))
  table+=("$(printf '  %-28s %5d passed %4d failed %4d skipped %5d s' "$name" "$p" "$f" "$n" $((SECONDS - t0)))")
done

echo
echo "== results (setup ${setup_seconds} s, build ${build_seconds} s, all $((SECONDS - started)) s)"
printf '%s\n' "${table[@]}"
if [ ${#broken[@]} -gt 0 ]; then
  echo "FAILED: ${broken[*]}"
fi
echo "Summary: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
