#!/usr/bin/env bash
# What travels to the lent GPU machine must fit 64 MiB (the working tree: tracked and
# untracked-not-ignored files, plus the carried .carry/pack and .carry/whl). The committed tree is
# ~51 MB; the device run needs none of its exported separators or bench reports, so move them out
# of the checkout for the call and back after:
#   bash benchmarks/real/gpu/tree.sh size    # MB that would travel now (and whether it fits)
#   bash benchmarks/real/gpu/tree.sh aside   # move ASIDE_PATHS to $ASIDE (default /tmp/gpu-aside)
#   bash benchmarks/real/gpu/tree.sh back    # move them back (git status is clean again)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ASIDE=${ASIDE:-/tmp/gpu-aside}
ASIDE_PATHS=(benchmarks/real/separators benchmarks/real/results benchmarks/results)
CARRY=(.carry/pack .carry/whl)
LIMIT=$((64 * 1024 * 1024))

size() {
  local tree carry
  # (tracked files moved aside are still listed: du skips them)
  tree=$( (git ls-files -co --exclude-standard -z | xargs -0 -r du -b 2>/dev/null || true) | awk '{s += $1} END {print s + 0}')
  carry=$(du -sb "${CARRY[@]}" 2>/dev/null | awk '{s += $1} END {print s + 0}')
  echo "tree $((tree / 1000000)) MB + carried ${CARRY[*]} $((carry / 1000000)) MB = $(((tree + carry) / 1000000)) MB of $((LIMIT / 1000000)) MB (64 MiB)"
  [ $((tree + carry)) -le $LIMIT ] || { echo "tree.sh: too big to travel: run 'tree.sh aside'" >&2; return 1; }
}

case "${1:-}" in
  size) size ;;
  aside)
    for p in "${ASIDE_PATHS[@]}"; do
      dest="$ASIDE/${p//\//__}"
      [ -e "$dest" ] && { echo "tree.sh: $dest exists: a previous 'aside' not moved back? (tree.sh back)" >&2; exit 1; }
    done
    mkdir -p "$ASIDE"
    for p in "${ASIDE_PATHS[@]}"; do [ -e "$p" ] && mv "$p" "$ASIDE/${p//\//__}" && echo "moved $p to $ASIDE"; done
    size ;;
  back)
    for p in "${ASIDE_PATHS[@]}"; do
      src="$ASIDE/${p//\//__}"
      if [ -e "$src" ]; then
        [ -e "$p" ] && { echo "tree.sh: $p exists here too; left $src in place" >&2; exit 1; }
        mv "$src" "$p" && echo "moved $p back"
      fi
    done ;;
  *) echo "usage: tree.sh size|aside|back" >&2; exit 2 ;;
esac
