#!/usr/bin/env bash
# Removes the pipeline's stacks, in the reverse order of deploy_infra.sh. Whatever the stacks
# retain, and parameters created by hand, stay. Extra arguments go to `cdk destroy` (e.g. --force).
#
#   ./bin/destroy_infra.sh [cdk destroy options]
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ ! -x node_modules/.bin/cdk ]]; then
  echo 'destroy_infra.sh: the CDK CLI is not installed here: run npm ci first' >&2
  exit 1
fi
# The demo flag makes the app list iwomp-projects too, so a demo registered earlier goes as well
# (destroying a stack that was never deployed does nothing).
exec npx --no -- cdk destroy --all -c iwomp:demo=true "$@"
