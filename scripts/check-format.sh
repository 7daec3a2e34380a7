#!/usr/bin/env bash
# Fails when a C file differs from what clang-format (with the committed
# .clang-format) would write. `scripts/check-format.sh --fix` rewrites them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mapfile -t files < <(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  echo "check-format: formatted ${#files[@]} files"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "check-format: the files above differ from .clang-format; run scripts/check-format.sh --fix" >&2
  exit 1
fi
# .editorconfig basics that clang-format does not cover, for every text file we own.
bad=$(git ls-files -co --exclude-standard | grep -vE '^(LICENSE|samples/.*\.jsonl|tests/fixtures/.*)$' |
  xargs -d '\n' grep -lIE '[[:blank:]]+$' -- 2>/dev/null | grep -vE '\.md$' || true)
if [[ -n "$bad" ]]; then
  echo "check-format: trailing whitespace in:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "check-format: ${#files[@]} C files match .clang-format"
