#!/usr/bin/env bash
# Refreshes assets/explorer/vendor/ from the versions pinned in package.json and package-lock.json.
# Needs Node and npm; `cargo build` does not: the copied files are committed and embedded in the binary.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../../assets/explorer/vendor
mkdir -p "$out"
cp node_modules/cytoscape/dist/cytoscape.min.js "$out/"
cp node_modules/layout-base/layout-base.js node_modules/cose-base/cose-base.js "$out/"
cp node_modules/cytoscape-fcose/cytoscape-fcose.js "$out/"
for pkg in cytoscape layout-base cose-base cytoscape-fcose; do
  printf '%s %s\n' "$pkg" "$(node -p "require('./node_modules/$pkg/package.json').version")"
done > "$out/VERSIONS"
echo "assets/explorer/vendor updated:"; cat "$out/VERSIONS"
