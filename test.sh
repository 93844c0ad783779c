#!/usr/bin/env bash
# FactoryEdge's one test command (the README's, and what .ci/run calls).
#   ./test.sh          provision test peers, build (warnings are errors), run every test but the soak tier
#   ./test.sh --fast   skip peer provisioning and integration tests (Category=Integration)
#   ./test.sh --soak   the long tier only (Category=Soak): soaks, long outages, fuzz campaigns
# Under CI=true a missing peer fails its tests instead of skipping them.
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-}"
filter="Category!=Soak"
case "$mode" in
  "") ;;
  --fast) filter="Category!=Soak&Category!=Integration" ;;
  --soak) filter="Category=Soak" ;;
  *) echo "usage: ./test.sh [--fast|--soak]" >&2; exit 2 ;;
esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if [ "$mode" != "--fast" ]; then
  # Each peer folder provisions itself (apt packages when root, npm ci, C peers built with gcc).
  for installer in tests/peers/*/install.sh; do
    [ -f "$installer" ] || continue
    echo "== provisioning test peers: $installer"
    bash "$installer"
  done
fi

echo "== build (Release, warnings are errors)"
dotnet build FactoryEdge.sln -c Release -nologo -clp:ErrorsOnly

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
echo "== test ($filter)"
set +e
dotnet test FactoryEdge.sln -c Release --no-build --nologo \
  --filter "$filter" \
  --blame-hang-timeout 10m \
  --logger "trx" --results-directory "$results" 2>&1 | tee "$results/out.txt" \
  | grep -E "^\s*(Passed!|Failed!|Failed |Skipped )|error"
status=${PIPESTATUS[0]}
set -e

# One plain closing line over all projects: "tests: N passed, N failed, N skipped".
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n1)
  p=$(sed -nE 's/.* passed="([0-9]+)".*/\1/p' <<<"$counters"); f=$(sed -nE 's/.* failed="([0-9]+)".*/\1/p' <<<"$counters")
  t=$(sed -nE 's/.* total="([0-9]+)".*/\1/p' <<<"$counters"); e=$(sed -nE 's/.* executed="([0-9]+)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
