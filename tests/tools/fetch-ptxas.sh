#!/usr/bin/env bash
# Fetches NVIDIA's ptxas (the PTX assembler) without installing the CUDA toolkit or touching the system's apt
# configuration: downloads Debian bookworm's non-free `nvidia-cuda-toolkit` package into a private apt state, unpacks it
# and keeps only ptxas (it needs only libc). Prints the path of the ptxas binary on stdout.
# Cached in ${VAE_PTXAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vae/ptxas}; a second call is instant.
# Exit status 0 with the path, or non-zero with the reason on stderr (no network, no apt-get, ...).
set -euo pipefail
cache="${VAE_PTXAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vae/ptxas}"
if [ -x "$cache/ptxas" ] && "$cache/ptxas" --version >/dev/null 2>&1; then echo "$cache/ptxas"; exit 0; fi
command -v apt-get >/dev/null 2>&1 || { echo "fetch-ptxas: apt-get not found (Debian/Ubuntu only)" >&2; exit 1; }
command -v dpkg-deb >/dev/null 2>&1 || { echo "fetch-ptxas: dpkg-deb not found" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/unpacked" "$cache"
echo "deb http://deb.debian.org/debian bookworm main contrib non-free" > "$work/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$work/lists"
          -o "Dir::Cache::Archives=$work/archives" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
          -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
echo "fetch-ptxas: downloading nvidia-cuda-toolkit (about 84 MB, once) into $cache" >&2
if ! apt-get "${apt_opts[@]}" -qq update >"$work/log" 2>&1; then
  cat "$work/log" >&2; echo "fetch-ptxas: apt-get update failed (network?)" >&2; exit 1
fi
( cd "$work" && apt-get "${apt_opts[@]}" -qq download nvidia-cuda-toolkit >"$work/log" 2>&1 ) || {
  cat "$work/log" >&2; echo "fetch-ptxas: apt-get download nvidia-cuda-toolkit failed" >&2; exit 1; }
dpkg-deb -x "$work"/nvidia-cuda-toolkit_*.deb "$work/unpacked"
ptxas=$(find "$work/unpacked" -type f -name ptxas | head -n 1)
[ -n "$ptxas" ] || { echo "fetch-ptxas: the package holds no ptxas" >&2; exit 1; }
cp "$ptxas" "$cache/ptxas.tmp" && chmod +x "$cache/ptxas.tmp" && mv "$cache/ptxas.tmp" "$cache/ptxas"
"$cache/ptxas" --version >/dev/null
echo "$cache/ptxas"
