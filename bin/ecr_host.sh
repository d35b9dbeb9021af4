#!/usr/bin/env bash
# Prints the ECR registry host of the current account and region:
# <account>.dkr.ecr.<region>.amazonaws.com. Region: AWS_REGION, AWS_DEFAULT_REGION, else the
# AWS CLI's configured region.
set -euo pipefail

account=$(aws sts get-caller-identity --query Account --output text)
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}
if [[ -z $region ]]; then
  echo 'ecr_host.sh: no region: set AWS_REGION or configure one (aws configure)' >&2
  exit 1
fi
suffix=amazonaws.com
[[ $region == cn-* ]] && suffix=amazonaws.com.cn
printf '%s.dkr.ecr.%s.%s\n' "$account" "$region" "$suffix"
