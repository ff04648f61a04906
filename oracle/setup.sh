#!/usr/bin/env bash
# gupsim oracle setup: host tools + real Debian kernels for the QEMU oracle.
#
# Idempotent. Quiet on success; on failure prints what went wrong to stderr
# and exits non-zero.
#
#   - installs qemu-system-x86, cpio and gcc (with libc6-dev, for -static) if missing
#   - fetches linux-image-cloud-amd64 from bookworm (6.1.x) and from
#     bookworm-backports (6.12.x), resolving the metapackage to the concrete
#     linux-image-6.x-cloud-amd64 package, downloads the .deb with
#     `apt-get download` and unpacks it with `dpkg-deb -x` into
#       ${GUPSIM_CACHE:-$HOME/.cache/gupsim}/kernels/{6.1,6.12}/
#     (vmlinuz, package.txt recording the exact package name/version/release).
#     Nothing is installed on the host from the kernel packages.
#
# Usage: oracle/setup.sh [6.1] [6.12]     (default: both)
# Environment: GUPSIM_CACHE (cache root), GUPSIM_SETUP_VERBOSE=1 (show output)
set -euo pipefail

CACHE="${GUPSIM_CACHE:-$HOME/.cache/gupsim}"
KDIR="$CACHE/kernels"
LOG="$CACHE/setup.log"
BPO_LIST=/etc/apt/sources.list.d/gupsim-bookworm-backports.sources
META=linux-image-cloud-amd64

mkdir -p "$KDIR"
: >"$LOG"

die() {
  echo "gupsim oracle/setup.sh: $*" >&2
  if [ -s "$LOG" ]; then
    echo "--- last lines of $LOG ---" >&2
    tail -n 20 "$LOG" >&2
  fi
  exit 1
}

# run CMD... with output to the log (or to the terminal when verbose)
run() {
  if [ "${GUPSIM_SETUP_VERBOSE:-0}" = 1 ]; then
    "$@" 2>&1 | tee -a "$LOG"
    return "${PIPESTATUS[0]}"
  else
    "$@" >>"$LOG" 2>&1
  fi
}

SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else SUDO=""; fi
fi

APT_UPDATED=0
apt_update() {
  if [ "$APT_UPDATED" = 0 ]; then
    run $SUDO apt-get update -q || die "apt-get update failed"
    APT_UPDATED=1
  fi
}

# ---- host tools -----------------------------------------------------------
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v cc >/dev/null 2>&1 || need+=(gcc)
# static linking needs libc.a
if ! { [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib64/libc.a ] || [ -e /usr/lib/libc.a ]; }; then
  need+=(libc6-dev)
fi
if [ "${#need[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing ${need[*]} and no apt-get to install them"
  apt_update
  run $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" \
    || die "apt-get install ${need[*]} failed"
fi

# ---- kernels ----------------------------------------------------------------
want=("$@")
[ "${#want[@]}" -gt 0 ] || want=(6.1 6.12)

kernel_ok() { [ -s "$KDIR/$1/vmlinuz" ] && [ -s "$KDIR/$1/package.txt" ]; }

missing=()
for k in "${want[@]}"; do
  case "$k" in 6.1 | 6.12) ;; *) die "unknown kernel '$k' (expected 6.1 or 6.12)" ;; esac
  kernel_ok "$k" || missing+=("$k")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

command -v apt-get >/dev/null 2>&1 || die "apt-get is needed to fetch kernels"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb is needed to unpack kernels"

# bookworm-backports source (for 6.12), same mirror/keyring as the system's debian.sources
if [[ " ${missing[*]} " == *" 6.12 "* ]] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri="http://deb.debian.org/debian"
  keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
  tmp="$(mktemp)"
  cat >"$tmp" <<EOF
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $keyring
EOF
  run $SUDO install -m 0644 "$tmp" "$BPO_LIST" || { rm -f "$tmp"; die "cannot write $BPO_LIST"; }
  rm -f "$tmp"
  APT_UPDATED=0
fi

# the package lists may be missing/old: update if the metapackage is unknown
# or no 6.12 version is visible
madison() { apt-cache madison "$META" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}'; }
if [ -z "$(madison)" ] || { [[ " ${missing[*]} " == *" 6.12 "* ]] && ! madison | grep -q '^6\.12\.'; }; then
  apt_update
fi
versions="$(madison)"
[ -n "$versions" ] || die "apt knows no $META (is a Debian bookworm source configured?)"

# highest version of the metapackage in series $1 (6.1 excludes backports)
pick_version() {
  local series="$1" v best=""
  while read -r v; do
    [ -n "$v" ] || continue
    case "$series" in
      6.1) [[ "$v" == 6.1.* ]] || continue ;;
      6.12) [[ "$v" == 6.12.* ]] || continue ;;
    esac
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best="$v"; fi
  done <<<"$versions"
  echo "$best"
}

for k in "${missing[@]}"; do
  mver="$(pick_version "$k")"
  [ -n "$mver" ] || die "no $META version for kernel series $k (apt-cache madison $META)"
  dep="$(apt-cache show "$META=$mver" 2>/dev/null | awk -F': ' '/^Depends:/{print $2; exit}')"
  # Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)
  pkg="$(echo "$dep" | tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*-cloud-amd64\) *(= *\([^)]*\)).*/\1 \2/p' | head -n1)"
  [ -n "$pkg" ] || die "cannot resolve $META=$mver to a concrete kernel package (Depends: $dep)"
  pname="${pkg% *}"
  pver="${pkg#* }"

  work="$(mktemp -d "$KDIR/.fetch-$k.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && run apt-get download -q "$pname=$pver") || die "apt-get download $pname=$pver failed"
  deb="$(ls "$work"/*.deb 2>/dev/null | head -n1)"
  [ -n "$deb" ] || die "apt-get download $pname=$pver produced no .deb"
  run dpkg-deb -x "$deb" "$work/root" || die "dpkg-deb -x $deb failed"
  vml="$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n1)"
  [ -n "$vml" ] || die "$deb contains no /boot/vmlinuz-*"
  release="${vml##*/vmlinuz-}"

  dest="$KDIR/$k"
  rm -rf "$dest"
  mkdir -p "$dest"
  cp "$vml" "$dest/vmlinuz"
  [ -e "$work/root/boot/config-$release" ] && cp "$work/root/boot/config-$release" "$dest/config"
  {
    echo "package=$pname"
    echo "version=$pver"
    echo "metapackage=$META"
    echo "metapackage_version=$mver"
    echo "release=$release"
    echo "sha256=$(sha256sum "$dest/vmlinuz" | cut -d' ' -f1)"
  } >"$dest/package.txt.tmp"
  mv "$dest/package.txt.tmp" "$dest/package.txt"
  rm -rf "$work"
  trap - EXIT
  kernel_ok "$k" || die "kernel $k not in place after fetch"
done
exit 0
