#!/usr/bin/env bash
# Runs every test of StoreSync: installs what the tests need (npm packages for the interop peers and the dashboard
# check, Debian's chromium),
# builds, runs all test projects, and ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
results="$root/.ci-results"
rm -rf "$results"; mkdir -p "$results"

# Interop peers (js-libp2p, js-waku) pinned by lockfiles; installed only when missing or stale.
for dir in tests/Interop/*/; do
  [ -f "$dir/package-lock.json" ] || continue
  stamp="$dir/node_modules/.lock-stamp"
  if [ ! -f "$stamp" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
    echo "installing npm packages in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed in $dir"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
    cp "$dir/package-lock.json" "$stamp"
  fi
done

# Headless Chromium for the dashboard and browser (js-waku over /ws) tests: Debian's packages (a test tool's own browser download cannot work here).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  echo "installing Debian packages chromium and chromium-driver"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver; } \
    > "$results/apt.log" 2>&1 || { echo "installing chromium failed (see $results/apt.log)"; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
fi
# Tests keep what a person would look at (the dashboard and browser screenshots) here. Not STORESYNC_*: the node reads those as settings.
export TEST_ARTIFACTS_DIR="$results/artifacts"

dotnet build StoreSync.sln -c Release 2>&1 | grep -E 'error|warn|Warn|Error|Elapsed' | sort -u
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" -ne 0 ]; then echo "build failed (rc=$build_rc)"; echo "0 passed, 1 failed, 0 skipped"; exit "$build_rc"; fi

dotnet test StoreSync.sln -c Release --no-build --logger trx --results-directory "$results" \
  --blame-hang-timeout 10m -- RunConfiguration.TreatNoTestsAsError=false 2>&1 \
  | grep -v -E 'No test is available|TestAdapterPath|^\s*$|test files matched'
test_rc=${PIPESTATUS[0]}

read -r passed failed skipped < <(
  cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*>' | awk '
    function v(k) { return match($0, k "=\"[0-9]+\"") ? substr($0, RSTART+length(k)+2, RLENGTH-length(k)-3)+0 : 0 }
    { p += v("passed"); f += v("failed")+v("error")+v("timeout")+v("aborted"); s += v("total")-v("executed") }
    END { printf "%d %d %d\n", p, f, s }')
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  echo "dotnet test exited $test_rc with no failed test recorded (crash or missing TRX)"
  failed=1
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$test_rc"
