#!/usr/bin/env bash
# Deploys the pipeline's stacks (iwomp-policies, iwomp; iwomp-projects with -c iwomp:demo=true)
# with the CDK CLI pinned in package.json. Extra arguments go to `cdk deploy` (for example
# --require-approval never, or -c iwomp:demo=true to register the seed's demo project).
#
#   ./bin/deploy_infra.sh [cdk deploy options]
set -euo pipefail

cd "$(dirname "$0")/.."

# The pinned CLI only: a newer global `cdk` cannot read this aws-cdk-lib's cloud assembly.
if [[ ! -x node_modules/.bin/cdk ]]; then
  echo 'deploy_infra.sh: the CDK CLI is not installed here: run npm ci first' >&2
  exit 1
fi
exec npx --no -- cdk deploy --all "$@"
