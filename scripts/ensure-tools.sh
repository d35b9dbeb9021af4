#!/usr/bin/env bash
# Installs the real parts the tests run against, where this machine lacks them:
# moto's server (AWS wire protocol) and cfn-lint from pip, the AWS CLI, and OpenSSH's server (for
# the worker's ssh clone test) and zsh and fish (for the completion tests) from apt when running
# as root. git is required.
set -euo pipefail

command -v git >/dev/null 2>&1 || { echo "ensure-tools: git is required (apt-get install git)" >&2; exit 1; }

need_pip=()
python3 -c 'import moto.server, flask' 2>/dev/null || need_pip+=('moto[server]')
command -v cfn-lint >/dev/null 2>&1 || need_pip+=('cfn-lint')
if ((${#need_pip[@]})); then
  echo "ensure-tools: pip install ${need_pip[*]}"
  python3 -m pip install --quiet "${need_pip[@]}"
fi

# The seed's bin/trigger_job.sh is tested with a real AWS CLI (v1 from pip or v2 from Debian).
if ! command -v aws >/dev/null 2>&1; then
  echo "ensure-tools: installing the AWS CLI"
  python3 -m pip install --quiet awscli 2>/dev/null ||
    { [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null; } ||
    { echo "ensure-tools: the AWS CLI is required (pip install awscli)" >&2; exit 1; }
fi

if [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: apt-get install openssh-server (for the ssh clone test)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      openssh-server openssh-client >/dev/null || echo "ensure-tools: could not install openssh-server; the ssh test will be skipped" >&2
  else
    echo "ensure-tools: no /usr/sbin/sshd and no root apt-get; the ssh test will be skipped" >&2
  fi
fi

# The CLI's shell completion is tested in the shells it supports; bash is here already.
missing_shells=()
for shell in zsh fish; do command -v "$shell" >/dev/null 2>&1 || missing_shells+=("$shell"); done
if ((${#missing_shells[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-tools: apt-get install ${missing_shells[*]} (for the completion tests)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing_shells[@]}" >/dev/null || echo "ensure-tools: could not install ${missing_shells[*]}; those completion tests will be skipped" >&2
  else
    echo "ensure-tools: no ${missing_shells[*]} and no root apt-get; those completion tests will be skipped" >&2
  fi
fi
