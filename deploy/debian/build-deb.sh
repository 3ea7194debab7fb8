#!/usr/bin/env bash
# Builds chgate's Debian package from a built binary, with dpkg-deb:
#
#   deploy/debian/build-deb.sh [BINARY] [OUTDIR]
#
# BINARY defaults to build-release/chgate (deploy/run.sh builds it); OUTDIR to
# the current directory. Prints the path of the .deb. The package holds
#   /usr/bin/chgate                     the binary
#   /etc/chgate/chgate.yaml             config/chgate.yaml (a conffile), storage in /var/lib/chgate
#   /lib/systemd/system/chgate.service  deploy/debian/chgate.service, sandboxed
#   /usr/share/man/man1/chgate.1.gz     from chgate --help (manpage.py)
#   /usr/share/doc/chgate/              README.md, the docs, copyright
# and its scripts make a `chgate` system user and /var/lib/chgate (postinst),
# stop the service on removal (prerm), and remove both on purge (postrm).
# Depends: the Debian packages of the libraries the binary links (dpkg -S).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
binary="$(realpath "${1:-$root/build-release/chgate}")"
outdir="$(realpath "${2:-.}")"
[[ -x "$binary" ]] || { echo "build-deb.sh: no binary at $binary (build it first)" >&2; exit 1; }

version="$("$binary" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"

install -D -m 755 "$binary" "$stage/usr/bin/chgate"
strip --strip-unneeded "$stage/usr/bin/chgate" 2>/dev/null || true
# The shipped configuration, with the state directory the package makes.
config="$stage/etc/chgate/chgate.yaml"
install -D -m 644 "$root/config/chgate.yaml" "$config"
grep -q '"${CHGATE_STORAGE_DIR:-var/chgate}"' "$config" ||
    { echo "build-deb.sh: config/chgate.yaml's storage.dir line changed; update this script" >&2; exit 1; }
sed -i 's|"${CHGATE_STORAGE_DIR:-var/chgate}"|"${CHGATE_STORAGE_DIR:-/var/lib/chgate}"|' "$config"
install -D -m 644 "$root/deploy/debian/chgate.service" "$stage/lib/systemd/system/chgate.service"
mkdir -p "$stage/usr/share/man/man1"
python3 "$root/deploy/debian/manpage.py" "$binary" | gzip -9n >"$stage/usr/share/man/man1/chgate.1.gz"
doc="$stage/usr/share/doc/chgate"
install -D -m 644 "$root/README.md" "$doc/README.md"
for f in "$root"/docs/*.md; do install -m 644 "$f" "$doc/"; done
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: chgate
Files: *
Copyright: the chgate authors
License: see the source repository
COPYRIGHT
printf 'chgate (%s) unstable; urgency=medium\n\n  * Built by deploy/debian/build-deb.sh.\n\n -- chgate <chgate@localhost>  %s\n' \
    "$version" "$(date -R)" | gzip -9n >"$doc/changelog.Debian.gz"

# Depends: the package of each shared library the binary links directly
# (its NEEDED entries, found where ldd resolves them).
depends="$(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}' | while read -r soname; do
    lib="$(ldd "$binary" | awk -v n="$soname" '$1 == n {print $3}')"
    [[ -n "$lib" ]] || { echo "build-deb.sh: $soname is not found" >&2; exit 1; }
    dpkg -S "$lib" 2>/dev/null || dpkg -S "$(realpath "$lib")" 2>/dev/null ||
        { echo "build-deb.sh: no Debian package has $lib" >&2; exit 1; }
done | cut -d: -f1 | sort -u | paste -sd, | sed 's/,/, /g')"
depends="${depends:+$depends, }adduser"

mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: chgate
Version: $version
Architecture: $arch
Maintainer: chgate <chgate@localhost>
Depends: $depends
Section: database
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Description: HTTP ingestion gateway for ClickHouse
 Apps POST JSON events to chgate; it batches them per table, as each table's
 YAML strategy says, and sends each batch to ClickHouse as one compressed
 INSERT, with write-ahead logs so that an acknowledged event survives a crash.
CONTROL
echo /etc/chgate/chgate.yaml >"$stage/DEBIAN/conffiles"
for script in postinst prerm postrm; do
    install -m 755 "$root/deploy/debian/$script" "$stage/DEBIAN/$script"
done
deb="$outdir/chgate_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
