#!/usr/bin/env bash
# The whole test suite: vet, unit tests and emulator-backed tests (the
# harness in shared/testenv starts the Firestore, Pub/Sub and Auth
# emulators and stripe-mock as needed; this script stops them at the end),
# then each fuzz target briefly. Usage: scripts/test.sh [go test flags]
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install.sh

export IJ_TESTENV_DIR=${IJ_TESTENV_DIR:-$(mktemp -d /tmp/ij-testenv.XXXXXX)}
cleanup() {
  for pid in "$IJ_TESTENV_DIR"/*.pid; do
    [ -f "$pid" ] || continue
    p=$(cat "$pid"); kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT
# Never reuse emulators of a developer's dev.sh session.
unset FIRESTORE_EMULATOR_HOST PUBSUB_EMULATOR_HOST FIREBASE_AUTH_EMULATOR_HOST STORAGE_EMULATOR_HOST

echo "== gofmt"; unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
[ -z "$unformatted" ] || { echo "not gofmt'ed: $unformatted"; exit 1; }
echo "== go vet"; go vet ./...
echo "== go test"
set +e
go test -count=1 -v -timeout 20m "$@" ./... > "$IJ_TESTENV_DIR/test.log" 2>&1
rc=$?
set -e
grep -E '^(ok|FAIL|---|panic|\?)|^\s+--- FAIL|_test.go:[0-9]+:' "$IJ_TESTENV_DIR/test.log" | grep -v -- '--- PASS' | grep -vE '^\s+--- (PASS|SKIP)' || true
if [ $rc -ne 0 ]; then echo "go test failed (full log: $IJ_TESTENV_DIR/test.log)"; exit $rc; fi
passed=$(grep -cE '^\s*--- PASS' "$IJ_TESTENV_DIR/test.log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$IJ_TESTENV_DIR/test.log" || true)
echo "== fuzz (5 s each)"
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    go test -run='^$' -fuzz="^${f}\$" -fuzztime=5s -fuzzminimizetime=2s "$pkg" >/dev/null || { echo "fuzz $f failed"; exit 1; }
    echo "  $f ok"
  done
done
echo "== done in $(( $(date +%s) - start )) s: $passed tests passed (subtests included), $skipped skipped"
