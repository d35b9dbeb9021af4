#!/bin/sh
# The demo's deploy script: "publishes" message.txt as a one-page site.
# Arguments: the site directory (set in the registry, which the branch cannot change), then the
# branch iwomp is deploying (iwomp always appends it). iwomp also sets IWOMP_PROJECT,
# IWOMP_BRANCH and IWOMP_COMMIT.
set -eu
site="$1"
branch="$2"
commit="${IWOMP_COMMIT:-unknown}"

echo "building the site from branch $branch at $commit"
mkdir -p "$site"
{
  echo "<!doctype html><title>iwomp demo</title>"
  echo "<h1>$(cat message.txt)</h1>"
  echo "<p>Deployed by iwomp from branch $branch at commit $commit.</p>"
} > "$site/index.html.tmp"
mv "$site/index.html.tmp" "$site/index.html"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $branch $commit" >> "$site/deploys.log"
echo "published $site/index.html"
