#!/usr/bin/env bash
# Asks the pipeline to deploy a branch of a project: publishes {"project","branch","commit"} to its
# SNS topic. Needs only bash and the AWS CLI (v1 or v2), so it can be copied into any CI job.
#
#   ./bin/trigger_job.sh [project] [branch]
#
#   project  $1, else IWOMPINAWS_PROJECT
#   branch   $2, else GIT_BRANCH, else the branch CI builds, else the current git branch
#   commit   IWOMPINAWS_COMMIT, else the commit CI builds when CI builds that very branch;
#            IWOMPINAWS_COMMIT=none sends no commit (the worker deploys the branch head)
#   topic    IWOMPINAWS_TOPIC_ARN, else the JobTopicArn output of the stack
#            IWOMPINAWS_STACK_NAME (default: iwomp)
#
# Prints the SNS message id. Region and credentials come from the AWS CLI's usual chain
# (AWS_PROFILE, AWS_DEFAULT_REGION, ...).
set -euo pipefail

die() {
  printf 'trigger_job.sh: %s\n' "$*" >&2
  exit 1
}

# Prints $1 as a JSON string. JSON needs `"`, `\` and the control characters U+0000-U+001F
# escaped; every other byte, UTF-8 included, passes through. Byte by byte in the C locale, so the
# result does not depend on the caller's locale or on the bash version's pattern quirks.
json_string() {
  local LC_ALL=C
  local s=$1 out='' c code i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      '"') out+='\"' ;;
      '\') out+='\\' ;;
      *)
        printf -v code '%d' "'$c"
        if ((code >= 0 && code < 32)); then printf -v c '\\u%04x' "$code"; fi
        out+=$c
        ;;
    esac
  done
  printf '"%s"' "$out"
}

# The branch CI builds, if this is a branch build (not a tag or a pull request).
ci_branch() {
  if [[ -n ${GITHUB_SHA:-} ]]; then
    [[ ${GITHUB_REF:-} == refs/heads/* ]] && printf '%s' "${GITHUB_REF#refs/heads/}"
  elif [[ -n ${CI_COMMIT_SHA:-} ]]; then
    printf '%s' "${CI_COMMIT_BRANCH:-}"
  elif [[ -n ${CIRCLE_SHA1:-} ]]; then
    printf '%s' "${CIRCLE_BRANCH:-}"
  elif [[ -n ${TRAVIS_COMMIT:-} ]]; then
    [[ ${TRAVIS_PULL_REQUEST:-} == false && -z ${TRAVIS_TAG:-} ]] && printf '%s' "${TRAVIS_BRANCH:-}"
  elif [[ -n ${BITBUCKET_COMMIT:-} ]]; then
    printf '%s' "${BITBUCKET_BRANCH:-}"
  fi
  return 0
}

ci_commit() {
  printf '%s' "${GITHUB_SHA:-${CI_COMMIT_SHA:-${CIRCLE_SHA1:-${TRAVIS_COMMIT:-${BITBUCKET_COMMIT:-}}}}}"
}

project=${1:-${IWOMPINAWS_PROJECT:-}}
[[ -n $project ]] || die "no project: pass it as the first argument or set IWOMPINAWS_PROJECT"

branch=${2:-${GIT_BRANCH:-}}
[[ -n $branch ]] || branch=$(ci_branch)
[[ -n $branch ]] || branch=$(git symbolic-ref --quiet --short HEAD 2>/dev/null || true)
[[ -n $branch ]] || die "no branch: pass it as the second argument or set GIT_BRANCH"

commit=${IWOMPINAWS_COMMIT:-}
if [[ -z $commit ]]; then
  # CI's commit only goes with the branch CI builds: attached to another branch it would be refused.
  built=$(ci_branch)
  [[ -n $built && $built == "$branch" ]] && commit=$(ci_commit)
elif [[ $commit == none ]]; then
  commit=''
fi

topic_arn=${IWOMPINAWS_TOPIC_ARN:-}
if [[ -z $topic_arn ]]; then
  stack=${IWOMPINAWS_STACK_NAME:-iwomp}
  topic_arn=$(aws cloudformation describe-stacks --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='JobTopicArn'].OutputValue | [0]" --output text) ||
    die "cannot read the JobTopicArn output of stack '$stack': set IWOMPINAWS_TOPIC_ARN"
fi
[[ $topic_arn == arn:*:sns:* ]] || die "not an SNS topic ARN: '$topic_arn' (set IWOMPINAWS_TOPIC_ARN)"

message="{\"project\":$(json_string "$project"),\"branch\":$(json_string "$branch")"
[[ -z $commit ]] || message+=",\"commit\":$(json_string "$commit")"
message+='}'

aws sns publish --topic-arn "$topic_arn" --message "$message" --query MessageId --output text
