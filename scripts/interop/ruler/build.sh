#!/usr/bin/env bash
# Builds ruler (github.com/sensepost/ruler) offline, outside this repository,
# with Debian's golang-go and golang-*-dev packages (GO111MODULE=off, a GOPATH).
#
#   scripts/interop/ruler/build.sh <ruler checkout or bare git dir> <go-ntlm checkout or bare git dir> <out-dir>
#
# Prints the path of the built binary. Needs: golang-go, golang-github-urfave-cli-dev,
# golang-github-howeyc-gopass-dev, golang-golang-x-net-dev, golang-gopkg-yaml.v2-dev
# (their sources live in /usr/share/gocode/src). A file that a bare mirror lacks
# (ruler's committed webdav/webdav binary) is skipped: the build does not need it.
set -eu
ruler_src="${1:?usage: $0 <ruler checkout> <go-ntlm checkout> <out-dir>}"
ntlm_src="${2:?usage: $0 <ruler checkout> <go-ntlm checkout> <out-dir>}"
out="${3:?usage: $0 <ruler checkout> <go-ntlm checkout> <out-dir>}"

# export_tree SRC DST: a working tree is copied; a bare git dir is written file by file from HEAD.
export_tree() {
  local src="$1" dst="$2" f
  rm -rf "$dst"; mkdir -p "$dst"
  if [ -e "$src/HEAD" ] && [ ! -d "$src/.git" ]; then
    git -C "$src" ls-tree -r --name-only HEAD | while IFS= read -r f; do
      mkdir -p "$dst/$(dirname "$f")"
      git -C "$src" show "HEAD:$f" >"$dst/$f" 2>/dev/null || rm -f "$dst/$f"
    done
  else
    cp -a "$src/." "$dst/"
  fi
}

export_tree "$ruler_src" "$out/src/github.com/sensepost/ruler"
export_tree "$ntlm_src" "$out/src/github.com/staaldraad/go-ntlm"
export GOPATH="$out:/usr/share/gocode" GO111MODULE=off GOFLAGS= GOCACHE="$out/.cache"
go build -o "$out/ruler" github.com/sensepost/ruler >&2
echo "$out/ruler"
