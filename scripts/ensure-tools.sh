#!/usr/bin/env bash
# Installs the real parts the tests run against, where this machine lacks them:
# moto's server (AWS wire protocol) and cfn-lint come from pip; git from the system.
set -euo pipefail

need_pip=()
python3 -c 'import moto.server, flask' 2>/dev/null || need_pip+=('moto[server]')
command -v cfn-lint >/dev/null 2>&1 || python3 -c 'import cfnlint' 2>/dev/null || need_pip+=('cfn-lint')
if ((${#need_pip[@]})); then
  echo "ensure-tools: pip install ${need_pip[*]}"
  python3 -m pip install --quiet "${need_pip[@]}"
fi
command -v git >/dev/null 2>&1 || { echo "ensure-tools: git is required (apt-get install git)" >&2; exit 1; }
