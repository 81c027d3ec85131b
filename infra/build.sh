#!/bin/sh
# Compiles the runtime code into $1 (default dist) and copies the other files the
# code reads beside itself at run time (the queue's Lua scripts, the dashboard's
# HTML, ...), keeping their paths. The Dockerfile and the build test both run
# this, so they cannot drift apart.
set -eu
out="${1:-dist}"
npx tsc -p tsconfig.build.json --outDir "$out"
find shared functions runner -type f ! -name '*.ts' | while read -r file; do
  mkdir -p "$out/$(dirname "$file")"
  cp "$file" "$out/$file"
done
