# shellcheck shell=bash
# Shared helpers for images/*/build. Source it; do not run it.
#
# Images are assembled from Debian packages only: `apt-get download` into a
# shared cache (images/.cache/debs) and `dpkg-deb -x` into a scratch root.
# No maintainer scripts run, nothing else is downloaded.

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEB_CACHE=${MINIDOCK_DEB_CACHE:-$IMAGES_DIR/.cache/debs}
export LC_ALL=C
umask 022

log() { printf '%s: %s\n' "${IMAGE_NAME:-images}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root for: $*"; fi
}

# True if $1 exists and is newer than every other argument.
up_to_date() {
  local out=$1 f; shift
  [[ -s $out ]] || return 1
  for f in "$@"; do [[ $out -nt $f ]] || return 1; done
}

# `apt-get update` unless the package lists were refreshed within a day.
apt_update_if_stale() {
  local lists=/var/lib/apt/lists
  if compgen -G "$lists/*_Packages*" >/dev/null &&
     [[ -n $(find "$lists" -maxdepth 1 -mmin -1440 \( -name '*_Packages*' -o -name partial \) -print -quit) ]]; then
    return 0
  fi
  log "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
}

# resolve_closure EXCLUDES -- ROOTS...
# Prints (sorted) ROOTS plus their Depends/Pre-Depends closure. For each
# dependency, alternatives/virtual providers are tried in apt's order; a
# package already chosen wins, then the first non-excluded one. Excluded
# packages are never entered, so their own dependencies are not pulled in.
resolve_closure() {
  local -A seen=() excl=() deps=()
  local p
  while [[ $# -gt 0 && $1 != -- ]]; do excl[$1]=1; shift; done
  [[ ${1:-} == -- ]] && shift
  # One apt-cache call (it can be slow when apt's binary cache is disabled):
  # every reachable package's dependency groups, as "pkg<TAB>cand cand...".
  local pkg cands
  while IFS=$'\t' read -r pkg cands; do
    deps[$pkg]+=$cands$'\n'
  done < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
             --no-breaks --no-replaces --no-enhances "$@" | awk '
    function flush() { if (grp != "") print pkg "\t" substr(grp, 2); grp = ""; open = 0 }
    /^[^ ]/ { flush(); pkg = $1; skip = 0; next }
    /^ [ |][A-Za-z-]+: / {
      if (!open) flush()
      skip = ($1 !~ /^\|?(Pre)?Depends:$/)
      open = (substr($0, 2, 1) == "|") && !skip
      if (skip) next
      n = $2; sub(/:any$/, "", n)
      if (n !~ /^</) grp = grp " " n
      next
    }
    /^    [^ ]/ { if (!skip) { n = $1; sub(/:any$/, "", n); grp = grp " " n } }
    END { flush() }')
  local queue=("$@") group c pick
  for p in "$@"; do seen[$p]=1; done
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    while read -r -a group; do
      ((${#group[@]})) || continue
      pick=
      for c in "${group[@]}"; do [[ -n ${seen[$c]:-} ]] && { pick=$c; break; }; done
      [[ -n $pick ]] && continue
      for c in "${group[@]}"; do [[ -z ${excl[$c]:-} ]] && { pick=$c; break; }; done
      [[ -z $pick ]] && continue
      seen[$pick]=1; queue+=("$pick")
    done <<<"${deps[$p]:-}"
  done
  printf '%s\n' "${!seen[@]}" | sort
}

_hash_ok() { # file ALGO:hex
  local tool
  case ${2%%:*} in
    SHA256) tool=sha256sum ;; SHA512) tool=sha512sum ;; SHA1) tool=sha1sum ;; MD5Sum) tool=md5sum ;;
    *) return 0 ;;
  esac
  [[ $($tool "$1" | cut -d' ' -f1) == "${2#*:}" ]]
}

# fetch_debs PKG... -> prints the cached .deb paths (candidate versions).
# Cached files are checked against the archive's hash on every call.
fetch_debs() {
  mkdir -p "$DEB_CACHE"
  exec 9>"$DEB_CACHE/.lock"
  flock 9
  local uris missing=() have=0 url file _size hash
  uris=$(apt-get download --print-uris "$@" 2>&1) || die "apt-get download --print-uris failed: $uris"
  local paths=()
  while read -r url file _size hash; do
    [[ $url == \'* ]] || continue
    paths+=("$DEB_CACHE/$file")
    if [[ -f $DEB_CACHE/$file ]] && _hash_ok "$DEB_CACHE/$file" "$hash"; then
      have=$((have + 1))
    else
      rm -f "$DEB_CACHE/$file"; missing+=("${file%%_*}")
    fi
  done <<<"$uris"
  [[ ${#paths[@]} -eq $# ]] || die "expected $# packages from apt, got ${#paths[@]}"
  log "packages: $# ($have cached, ${#missing[@]} to download)"
  if ((${#missing[@]})); then
    local tmp; tmp=$(mktemp -d "$DEB_CACHE/.dl.XXXXXX")
    local sandbox=(); [[ $EUID -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)
    if ! (cd "$tmp" && apt-get download -q "${sandbox[@]}" "${missing[@]}" </dev/null >"$tmp/.log" 2>&1); then
      cat "$tmp/.log" >&2; rm -rf "$tmp"; die "apt-get download failed"
    fi
    mv "$tmp"/*.deb "$DEB_CACHE"/
    rm -rf "$tmp"
  fi
  exec 9>&-
  printf '%s\n' "${paths[@]}"
}

# extract_debs ROOT DEB... ; writes "package version" lines to ROOT.manifest
# and the newest packaged file's mtime (the clamp for pack_rootfs) to ROOT.epoch
extract_debs() {
  local root=$1 deb; shift
  for deb in "$@"; do
    dpkg-deb -x "$deb" "$root"
    # shellcheck disable=SC2016
    dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$root.manifest"
  done
  sort -o "$root.manifest" "$root.manifest"
  find "$root" -type f -printf '%T@\n' | sort -n | tail -1 | cut -d. -f1 >"$root.epoch"
}

# Remove documentation and other files a container rootfs does not use.
strip_rootfs() {
  local root=$1 d
  for d in doc doc-base man info locale lintian bug bash-completion initramfs-tools gdb; do
    rm -rf "${root:?}/usr/share/$d"
  done
  # drop directories left empty by the above (never the top-level ones)
  find "$root/usr/share" -mindepth 1 -depth -type d -empty -delete 2>/dev/null || true
  find "$root/usr/share" -maxdepth 0 -type d -empty -delete 2>/dev/null || true
}

# /etc basics and the empty top-level directories a container expects.
add_base_files() {
  local root=$1
  mkdir -p "$root"/{proc,sys,dev,tmp,root,etc,var,run,home}
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
  cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
  chmod 0644 "$root"/etc/{passwd,group,hosts,nsswitch.conf}
}

# One symlink -> /bin/busybox per applet, where nothing else provides the path.
add_busybox_links() {
  local root=$1 applet n=0
  [[ -x $root/bin/busybox ]] || die "no /bin/busybox in rootfs"
  while read -r applet; do
    [[ $applet == bin/busybox || -z $applet ]] && continue
    [[ -e $root/$applet || -L $root/$applet ]] && continue
    [[ $applet != */* || -d $root/${applet%/*} ]] || mkdir -p "$root/${applet%/*}"
    ln -s /bin/busybox "$root/$applet"
    n=$((n + 1))
  done < <("$root/bin/busybox" --list-full | sort)
  log "busybox applet links: $n"
}

# Fail if an ELF object in ROOT needs a shared library ROOT does not contain.
check_needed_libs() {
  local root=$1 f lib missing=()
  command -v readelf >/dev/null || { log "readelf not found; skipping library check"; return 0; }
  local -A have=() need=()
  while IFS= read -r f; do have[${f##*/}]=1; done < <(find "$root"/{lib,lib64,usr/lib,usr/lib64} \( -type f -o -type l \) -name '*.so*' 2>/dev/null)
  while read -r lib; do need[$lib]=1; done < <(
    { find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
        xargs -0 -r readelf -d 2>/dev/null || true; } | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
  for lib in "${!need[@]}"; do [[ -n ${have[$lib]:-} ]] || missing+=("$lib"); done
  ((${#missing[@]} == 0)) || die "missing shared libraries: ${missing[*]}"
}

# pack_rootfs ROOT OUT.tar : reproducible tar (sorted names, root owner,
# mtimes clamped to the newest packaged file, or $SOURCE_DATE_EPOCH).
pack_rootfs() {
  local root=$1 out=$2 epoch
  epoch=${SOURCE_DATE_EPOCH:-$(cat "$root.epoch")}
  local top=()
  mapfile -t top < <(find "$root" -mindepth 1 -maxdepth 1 -printf '%P\n' | sort)
  tar -C "$root" --create --file "$out.tmp" --format=gnu --sort=name \
      --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --clamp-mtime \
      -- "${top[@]}"
  mv -f "$out.tmp" "$out"
}

# new_root OUTDIR : sets ROOTFS to a fresh scratch rootfs directory inside
# OUTDIR (same filesystem as the output), removed when the script exits or is
# interrupted. Holds a lock on OUTDIR until exit, so one build at a time per
# image, and clears scratch left by a build that was killed.
new_root() {
  mkdir -p "$1"
  exec 8>"$1/.lock"
  flock 8
  rm -rf "$1"/.build.* "$1"/*.tar.tmp
  _SCRATCH=$(mktemp -d "$1/.build.XXXXXX")
  trap 'rm -rf "$_SCRATCH"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
  trap 'exit 141' PIPE
  ROOTFS=$_SCRATCH/rootfs
  mkdir "$ROOTFS"
}
