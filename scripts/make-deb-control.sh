#!/bin/sh
# Writes DEBIAN/ into a staging root made by `make install PREFIX=/usr DESTDIR=ROOT`:
# control (Depends from what the binary really loads), conffiles, maintainer scripts.
# Usage: scripts/make-deb-control.sh ROOT VERSION BINARY
set -eu
root=$1 version=$2 binary=$3
mkdir -p "$root/DEBIAN"

# Every shared library the binary needs, mapped to its Debian package. A library from the
# Swift toolchain here means the runtime was not linked statically: refuse to build.
depends=""
for lib in $(ldd "$binary" | awk '/=>/ { print $3 } !/=>/ && /^\t\// { print $1 }'); do
  case "$lib" in
    /opt/swift*|*libswift*|*libFoundation*|*lib_Foundation*) echo "make-deb-control: $binary loads $lib from the Swift toolchain" >&2; exit 1 ;;
  esac
  real=$(readlink -f "$lib")
  package=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true)
  package=${package%%:*}
  [ -n "$package" ] || { echo "make-deb-control: no Debian package owns $lib" >&2; exit 1; }
  case " $depends " in *" $package "*) ;; *) depends="$depends $package" ;; esac
done
# libpcre2-8-0 and libsqlite3-0 by name (the brief of the package); the others as found
# (libc6, libgcc-s1, libstdc++6 on Debian 12), each at least the version built against.
list=""
for package in $depends; do
  v=$(dpkg-query -W -f='${Version}' "$package" | sed 's/-[^-]*$//')
  case "$package" in
    libc6) entry="libc6 (>= $(echo "$v" | cut -d. -f1-2))" ;;
    *) entry="$package (>= $v)" ;;
  esac
  list="${list:+$list, }$entry"
done
for required in libpcre2-8-0 libsqlite3-0; do
  case "$list" in *"$required"*) ;; *) echo "make-deb-control: $binary does not load $required?" >&2; exit 1 ;; esac
done

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: warden
Version: $version
Architecture: amd64
Maintainer: Warden maintainers <warden@example.org>
Installed-Size: $size
Depends: $list
Recommends: systemd
Section: net
Priority: optional
Homepage: https://example.org/warden
Description: moderation rules daemon for social media pages
 Warden judges posts dropped into a spool directory against community
 guidelines (YAML rules, PCRE2 patterns, word lists) and writes the action to
 take with the message to the poster. Shipped guidelines are in
 /usr/share/warden/rules; local changes go in /etc/warden/rules.d.
CONTROL

# Everything under /etc is a conffile: dpkg keeps the admin's version on upgrade.
(cd "$root" && find etc -type f | sed 's|^|/|') > "$root/DEBIAN/conffiles"

cat > "$root/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  systemd-sysusers warden.conf >/dev/null 2>&1 || true
  systemd-tmpfiles --create warden.conf >/dev/null 2>&1 || true
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
    # An upgrade restarts a running daemon on the new binary and shipped rules; a first
    # install does not start it: `systemctl enable --now warden` once configured.
    systemctl try-restart warden.service || true
  fi
fi
SCRIPT
cat > "$root/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop warden.service || true
fi
SCRIPT
cat > "$root/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
# The state (/var/lib/warden: spool, ledger, decisions) is kept even on purge: it is the
# organisation's record of moderation decisions. Remove it by hand if that is what you want.
SCRIPT
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
