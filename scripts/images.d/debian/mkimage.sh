#!/usr/bin/env bash
# Builds the base image: a `debootstrap --variant=minbase` root filesystem of Debian
# bookworm, brought up to date from bookworm-updates and bookworm-security, made
# slim like the official debian:bookworm-slim (no docs, man pages, translations),
# then `docker import`ed as one layer.
#
#   mkimage.sh IMAGE[:TAG] [--label KEY=VALUE]...
#   mkimage.sh --print-mirrors     (suite and mirrors it would use; an input of the cache hash)
#
# Mirror: DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR, else the ones this host's apt uses,
# else deb.debian.org. The image's apt is pointed at the same mirrors.
set -euo pipefail

image=${1:?usage: mkimage.sh IMAGE[:TAG] [--label KEY=VALUE]... | mkimage.sh --print-mirrors}
shift
changes=(--change 'CMD ["bash"]')
while (($#)); do
  case $1 in
    --label) changes+=(--change "LABEL $2"); shift 2 ;;
    *) echo "mkimage.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

suite=bookworm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The URI of the first apt source of this host whose path ends in /$1 (debian or debian-security).
host_mirror() {
  local want=$1 f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri=$(awk -v w="/$want" 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) { u = $i; sub(/\/+$/, "", u); if (substr(u, length(u) - length(w) + 1) == w) { print u; exit } } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri=$(awk -v w="/$want" '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { u = $i; sub(/\/+$/, "", u); if (substr(u, length(u) - length(w) + 1) == w) { print u; exit } break } }' "$f")
    [[ -n $uri ]] && { echo "$uri"; return; }
  done
  return 0
}
mirror=${DEBIAN_MIRROR:-$(host_mirror debian)}
mirror=${mirror:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-$(host_mirror debian-security)}
security=${security:-http://deb.debian.org/debian-security}
if [[ $image == --print-mirrors ]]; then echo "$suite $mirror $security"; exit 0; fi

if ! command -v debootstrap >/dev/null; then
  echo "debootstrap is missing: installing it (apt-get install debootstrap)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >&2
fi

work=$(mktemp -d /var/tmp/chatapi-debian.XXXXXX)
rootfs=$work/rootfs
cleanup() {
  mountpoint -q "$rootfs/proc" 2>/dev/null && umount "$rootfs/proc"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

echo "debootstrap $suite from $mirror" >&2
debootstrap --variant=minbase --components=main "$suite" "$rootfs" "$mirror" >&2

# apt: the same mirrors as the host, updates and security included (deb822 format).
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Container conventions (as in the official images): no services started by package
# scripts, no package caches kept, no docs/man/translations installed.
install -m 0755 "$here/policy-rc.d" "$rootfs/usr/sbin/policy-rc.d"
install -m 0644 "$here/apt-docker-clean" "$rootfs/etc/apt/apt.conf.d/docker-clean"
install -m 0644 "$here/apt-docker-gzip-indexes" "$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
install -m 0644 "$here/dpkg-docker-slim" "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"

mount -t proc proc "$rootfs/proc"
chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  sh -euxc 'apt-get update -qq; apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade; apt-get clean' >&2
umount "$rootfs/proc"

# Remove what the slim rules would not have installed, and host/run-time leftovers.
(
  cd "$rootfs"
  find usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find usr/share/doc -mindepth 1 -type d -empty -delete
  rm -rf usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* usr/share/linda/*
  find usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  rm -rf var/lib/apt/lists/* var/cache/apt/* var/cache/debconf/*-old var/lib/dpkg/*-old tmp/* var/tmp/*
  find var/log -type f -delete
  : >etc/resolv.conf
  : >etc/machine-id
  echo localhost >etc/hostname
)

echo "docker import -> $image" >&2
tar --numeric-owner --xattrs -C "$rootfs" -c . | docker import "${changes[@]}" - "$image" >/dev/null
