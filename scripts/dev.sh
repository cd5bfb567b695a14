#!/usr/bin/env bash
# The local stack in one command: installs what is missing, starts on
# 127.0.0.1 the Firestore emulator (with firestore.rules, delivering
# triggers to the functions), the Pub/Sub emulator, the Auth emulator,
# fake-gcs-server, stripe-mock and the Fortnox fake, serves every function from one process,
# registers the Firestore triggers and Pub/Sub push subscriptions, seeds
# demo data and prints the endpoints. Ctrl-C stops everything it started.
#
#   scripts/dev.sh           run until Ctrl-C
#   scripts/dev.sh --smoke   bring it up, run the end-to-end round trip, stop
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
t0=$(date +%s.%N)
scripts/install.sh

PROJECT=${GOOGLE_CLOUD_PROJECT:-demo-innerjourney}
DEV=$ROOT/.dev; mkdir -p "$DEV"
FS_PORT=8080 FN_PORT=8081 PS_PORT=8085 AUTH_PORT=9099 GCS_PORT=4443 STRIPE_PORT=12111 FORTNOX_PORT=8099
SDK=$( [ -d /usr/lib/google-cloud-sdk/platform ] && echo /usr/lib/google-cloud-sdk || gcloud info --format='value(installation.sdk_root)')
GOBIN=${GOBIN:-$(go env GOPATH)/bin}

for p in $FS_PORT $FN_PORT $PS_PORT $AUTH_PORT $GCS_PORT $STRIPE_PORT $FORTNOX_PORT; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is busy: is another dev.sh running?" >&2; exit 1; fi
done

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "[dev] stopping"
  for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT
bg() { local name=$1; shift; setsid "$@" >"$DEV/$name.log" 2>&1 & pids+=($!); }
wait_http() { # name url [want]
  for _ in $(seq 1 240); do
    if curl -fsS -m 2 "$2" 2>/dev/null | grep -q "${3:-}"; then return 0; fi
    sleep 0.25
  done
  echo "[dev] $1 did not start; see $DEV/$1.log" >&2; tail -20 "$DEV/$1.log" >&2; exit 1
}

go build -o "$DEV/ops" ./scripts/ops &
build=$!

bg firestore "$SDK/platform/cloud-firestore-emulator/cloud_firestore_emulator" start \
  --host=127.0.0.1 --port=$FS_PORT --rules="$ROOT/firestore.rules" --functions_emulator=127.0.0.1:$FN_PORT
bg pubsub "$SDK/platform/pubsub-emulator/bin/cloud-pubsub-emulator" --host=127.0.0.1 --port=$PS_PORT
bg auth env CI=1 FIREBASE_CLI_DISABLE_UPDATE_CHECK=true "$ROOT/.tools/node_modules/.bin/firebase" \
  emulators:start --only auth --project "$PROJECT" --config "$ROOT/firebase.json"
bg gcs "$GOBIN/fake-gcs-server" -scheme http -host 127.0.0.1 -port $GCS_PORT -public-host 127.0.0.1:$GCS_PORT -backend memory
bg stripe "$GOBIN/stripe-mock" -http-addr 127.0.0.1:$STRIPE_PORT -https-addr 127.0.0.1:$((STRIPE_PORT+1))

cat > "$DEV/env" <<ENV
export GOOGLE_CLOUD_PROJECT=$PROJECT
export IJ_ENV=development
export FIRESTORE_EMULATOR_HOST=127.0.0.1:$FS_PORT
export PUBSUB_EMULATOR_HOST=127.0.0.1:$PS_PORT
export FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:$AUTH_PORT
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT
export IJ_STORAGE_BUCKET=$PROJECT.appspot.com
export STRIPE_API_URL=http://127.0.0.1:$STRIPE_PORT
export STRIPE_SECRET_KEY=sk_test_dev_local
export STRIPE_WEBHOOK_SECRETS=whsec_dev_local_platform,whsec_dev_local_connect
export IJ_PSEUDONYM_KEY=dev-local-pseudonym-key
export FUNCTIONS_URL=http://127.0.0.1:$FN_PORT
ENV
# shellcheck disable=SC1091
source "$DEV/env"

wait_http firestore "http://127.0.0.1:$FS_PORT/" Ok
wait_http pubsub "http://127.0.0.1:$PS_PORT/" Ok
wait_http auth "http://127.0.0.1:$AUTH_PORT/" authEmulator
wait_http gcs "http://127.0.0.1:$GCS_PORT/storage/v1/b" kind
for _ in $(seq 1 40); do (exec 3<>/dev/tcp/127.0.0.1/$STRIPE_PORT) 2>/dev/null && break; sleep 0.25; done
wait $build

# The Fortnox fake (shared/fortnox/fortnoxfake) prints the FORTNOX_*
# variables that point the payouts' sync at it.
bg fortnox "$DEV/ops" fortnox fake --port $FORTNOX_PORT
for _ in $(seq 1 40); do grep -q '^FORTNOX_TENANT_ID=' "$DEV/fortnox.log" 2>/dev/null && break; sleep 0.25; done
grep -q '^FORTNOX_TENANT_ID=' "$DEV/fortnox.log" || { echo "[dev] fortnox fake did not start" >&2; cat "$DEV/fortnox.log" >&2; exit 1; }
sed -n 's/^\(FORTNOX_[A-Z_]*=.*\)$/export \1/p' "$DEV/fortnox.log" >> "$DEV/env"
echo "export FORTNOX_BOOK_SALES=true" >> "$DEV/env"
# shellcheck disable=SC1091
source "$DEV/env"

bg functions "$DEV/ops" serve --addr 127.0.0.1:$FN_PORT --project "$PROJECT"
for _ in $(seq 1 120); do grep -q '^ready' "$DEV/functions.log" 2>/dev/null && break; sleep 0.25; done
grep -q '^ready' "$DEV/functions.log" || { echo "[dev] functions did not start" >&2; cat "$DEV/functions.log" >&2; exit 1; }
"$DEV/ops" seed --demo
ready=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")

cat <<INFO

Inner Journey local stack (project $PROJECT) ready in ${ready} s
  Firestore emulator  http://127.0.0.1:$FS_PORT   (rules: firestore.rules)
  Pub/Sub emulator    127.0.0.1:$PS_PORT
  Auth emulator       http://127.0.0.1:$AUTH_PORT
  Cloud Storage       http://127.0.0.1:$GCS_PORT  (fake-gcs-server)
  Stripe API          http://127.0.0.1:$STRIPE_PORT (stripe-mock)
  Fortnox API         $FORTNOX_API_URL (fake; $DEV/ops fortnox sync books completed payouts)
$(sed -n '/^functions on/,/^ready/p' "$DEV/functions.log" | grep -v '^ready')
  logs: $DEV/*.log     environment for other shells: source $DEV/env
  fire a scheduled job: $DEV/ops tick --list ; $DEV/ops tick JOB
INFO

if [ $SMOKE = 1 ]; then
  "$DEV/ops" smoke
  echo "[dev] smoke ok; time to ready ${ready} s"
  exit 0
fi
echo "Ctrl-C to stop."
wait "${pids[@]}"
