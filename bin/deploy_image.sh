#!/usr/bin/env bash
# Builds the worker image from the Dockerfile and pushes it to the pipeline's ECR repository
# (created by ./bin/deploy_infra.sh). Uses docker, or podman when docker is not installed;
# CONTAINER_ENGINE=podman forces one.
#
#   ./bin/deploy_image.sh [tag]     tag: default latest (the tag the CodeBuild project runs)
#
#   IWOMPINAWS_REPOSITORY  ECR repository name (default: iwomp-in-aws)
set -euo pipefail

cd "$(dirname "$0")/.."

engine=${CONTAINER_ENGINE:-}
if [[ -z $engine ]]; then
  if command -v docker >/dev/null 2>&1; then engine=docker
  elif command -v podman >/dev/null 2>&1; then engine=podman
  else
    echo 'deploy_image.sh: needs docker or podman' >&2
    exit 1
  fi
fi

tag=${1:-latest}
repository=${IWOMPINAWS_REPOSITORY:-iwomp-in-aws}
host=$(./bin/ecr_host.sh)
region=$(cut -d. -f4 <<<"$host")
image="$host/$repository:$tag"

# CodeBuild runs x86_64 hosts unless told otherwise: build for that, whatever this machine is.
"$engine" build --platform linux/amd64 -t "$image" .
aws ecr get-login-password --region "$region" | "$engine" login --username AWS --password-stdin "$host"
"$engine" push "$image"
echo "pushed $image"
