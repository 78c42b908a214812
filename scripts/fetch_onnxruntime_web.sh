#!/usr/bin/env bash
# Re-fetch the onnxruntime-web files the live views run on (app/browser/vendor/onnxruntime-web/), at the pinned
# version, with `npm pack`. A maintainer's step only: the app itself needs no Node, no npm and no network, so the
# files are committed, and this script checks that it reproduces them byte for byte (SHA256SUMS).
#
#   scripts/fetch_onnxruntime_web.sh            # fetch, copy, check against SHA256SUMS
#   scripts/fetch_onnxruntime_web.sh --update   # after changing VERSION: fetch, copy, rewrite SHA256SUMS
#
# Why 1.18.0: the last release that ships a single-threaded SIMD build (ort-wasm-simd.wasm; from 1.19 on only the
# multi-threaded one), and it runs the shipped IR-10, opset-20 files. A Streamlit component's iframe is not
# cross-origin isolated, so threads would not be used anyway. The npm tarball has no LICENSE file: the MIT license
# beside the files is the onnxruntime repository's.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.18.0
DEST=app/browser/vendor/onnxruntime-web
FILES=(ort.wasm-core.min.js ort-wasm-simd.wasm)

command -v npm >/dev/null || { echo "npm is needed to fetch onnxruntime-web (not to run the app)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# npm pack checks the tarball against the registry's integrity hash before writing it.
(cd "$tmp" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null && tar xzf "onnxruntime-web-$VERSION.tgz")
mkdir -p "$DEST"
for f in "${FILES[@]}"; do
    cp "$tmp/package/dist/$f" "$DEST/$f"
done
echo "$VERSION" > "$DEST/VERSION"
if [ "${1:-}" = "--update" ]; then
    (cd "$DEST" && sha256sum "${FILES[@]}" > SHA256SUMS)
    echo "wrote $DEST/SHA256SUMS for onnxruntime-web $VERSION"
else
    (cd "$DEST" && sha256sum --check --quiet SHA256SUMS)
    echo "onnxruntime-web $VERSION: $DEST matches SHA256SUMS"
fi
du -ch "${FILES[@]/#/$DEST/}" | tail -1
