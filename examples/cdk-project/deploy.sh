#!/bin/sh
# The project's deploy command: iwomp runs it in the clone with the project's deploy role's
# credentials and the region in its environment; `cdk` is on PATH (the worker image's pinned CLI).
set -eu
export CDK_DISABLE_VERSION_CHECK=1
exec cdk deploy --require-approval never --no-notices
