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
# staticcheck, pinned (fetched through the Go module proxy; not a module
# dependency): dead code, deprecated APIs, always-true comparisons.
echo "== staticcheck"; go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
echo "== go test"
set +e
go test -count=1 -v -timeout 20m "$@" ./... > "$IJ_TESTENV_DIR/test.log" 2>&1
rc=$?
set -e
grep -E '^(ok|FAIL|---|panic|\?)|^\s+--- FAIL|_test.go:[0-9]+:' "$IJ_TESTENV_DIR/test.log" | grep -v -- '--- PASS' | grep -vE '^\s+--- (PASS|SKIP)' || true
if [ $rc -ne 0 ]; then echo "go test failed (full log: $IJ_TESTENV_DIR/test.log)"; exit $rc; fi
passed=$(grep -cE '^\s*--- PASS' "$IJ_TESTENV_DIR/test.log" || true)
skipped=$(grep -cE '^\s*--- SKIP' "$IJ_TESTENV_DIR/test.log" || true)
# The emulators are not needed any more; free their CPU for the fuzzer.
cleanup
echo "== fuzz (5 s each)"
# A finding always writes a reproducer under testdata/fuzz/<target>/ (or names a
# failing seed); that fails the run, with the input shown. A non-zero exit
# without one is the fuzzing engine's own flake at the time limit
# (golang/go#51484, #56238): shown, then the target is run again, and a
# target that fails three times fails the run.
fuzz_one() { # pkg dir target
  local pkg=$1 dir=$2 f=$3 out attempt
  out="$IJ_TESTENV_DIR/fuzz-$f.log"
  for attempt in 1 2 3; do
    if go test -run='^$' -fuzz="^${f}\$" -fuzztime=5s -fuzzminimizetime=2s "$pkg" > "$out" 2>&1; then
      echo "  $f ok"; return 0
    fi
    if grep -qE 'Failing input written to|failure while testing seed corpus entry' "$out"; then
      echo "fuzz $f found a failing input:"; tail -n 40 "$out"
      for c in $(grep -oE 'testdata/fuzz/[^ ]+' "$out" | sort -u); do echo "--- $dir/$c"; cat "$dir/$c" 2>/dev/null; done
      return 1
    fi
    echo "  $f: fuzzing engine error without a failing input (attempt $attempt):"; tail -n 8 "$out" | sed 's/^/    /'
  done
  echo "fuzz $f failed three times"; return 1
}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
    fuzz_one "$pkg" "$dir" "$f" || exit 1
  done
done
echo "== done in $(( $(date +%s) - start )) s: $passed tests passed (subtests included), $skipped skipped"
