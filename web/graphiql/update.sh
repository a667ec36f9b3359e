#!/usr/bin/env bash
# Refreshes assets/graphiql/ from the versions pinned in package.json and package-lock.json.
# Needs Node and npm; `cargo build` does not: the copied files are committed and embedded in the binary.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../../assets/graphiql
mkdir -p "$out"
cp node_modules/graphiql/graphiql.min.js node_modules/graphiql/graphiql.min.css "$out/"
cp node_modules/react/umd/react.production.min.js node_modules/react-dom/umd/react-dom.production.min.js "$out/"
for pkg in graphiql react react-dom; do
  printf '%s %s\n' "$pkg" "$(node -p "require('./node_modules/$pkg/package.json').version")"
done > "$out/VERSIONS"
echo "assets/graphiql updated:"; cat "$out/VERSIONS"
