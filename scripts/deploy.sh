#!/usr/bin/env bash
# Deploys every function (or those named) with its trigger, the Pub/Sub
# topics, the Cloud Scheduler jobs, the Firestore rules, indexes and TTL
# policies. Secrets come from Secret Manager (names: see --dry-run).
#   scripts/deploy.sh --project P [--region europe-north1] [--dry-run] [NAME …]
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/ops deploy "$@"
