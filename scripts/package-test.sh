#!/bin/sh
# The .deb on a host without Swift: unpacked in a fresh root with dpkg -x (no maintainer
# scripts, no dpkg database: nothing of the host's is touched) and run from there with an
# empty environment. Checks: the control file, no library from the Swift toolchain,
# `warden --version`, `warden check` on the installed defaults (shipped rules + a local
# override), and the daemon judging a few posts dropped into its inbox.
# Usage: scripts/package-test.sh DEB VERSION COMMIT
set -eu
deb=$1 version=$2 commit=$3
work=$(mktemp -d /tmp/warden-package-test.XXXXXX)
daemon=""
cleanup() { [ -n "$daemon" ] && kill "$daemon" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { echo "package-test: $*"; }

root=$work/root
dpkg-deb -x "$deb" "$root"
warden=$root/usr/bin/warden
# What a program run by systemd or cron gets: no LD_LIBRARY_PATH, no PATH into /opt/swift.
run() { env -i PATH=/usr/bin:/bin HOME="$work" "$warden" "$@"; }

step "control file and contents"
control=$(dpkg-deb -f "$deb")
echo "$control" | grep -q "^Version: $version$" || fail "control Version is not $version"
for dep in libpcre2-8-0 libsqlite3-0 libc6; do
  echo "$control" | grep "^Depends:" | grep -q "$dep" || fail "Depends lacks $dep"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/warden/warden.yaml || fail "warden.yaml is not a conffile"
for f in usr/bin/warden usr/lib/systemd/system/warden.service usr/lib/systemd/system/warden-console.service usr/lib/sysusers.d/warden.conf usr/lib/tmpfiles.d/warden.conf \
         usr/share/warden/rules/profanity.yaml usr/share/warden/rules/wordlists etc/warden/warden.yaml etc/warden/rules.d \
         usr/share/man/man1/warden.1.gz usr/share/doc/warden/OPS.md usr/share/bash-completion/completions/warden \
         usr/share/zsh/vendor-completions/_warden usr/share/fish/vendor_completions.d/warden.fish; do
  [ -e "$root/$f" ] || fail "the package has no /$f"
done
gzip -t "$root/usr/share/man/man1/warden.1.gz" || fail "man page is not gzip"
grep -q "^ExecStart=/usr/bin/warden run" "$root/usr/lib/systemd/system/warden.service" || fail "unit ExecStart is not /usr/bin/warden"
grep -q "^ExecStart=/usr/bin/warden console .*--listen 127.0.0.1:" "$root/usr/lib/systemd/system/warden-console.service" || fail "console unit does not run /usr/bin/warden console on loopback"
if grep -rq "@[A-Z]*DIR@" "$root/usr/lib" "$root/etc"; then fail "unsubstituted @…@ path in the installed files"; fi
grep -q "rules" "$root/usr/share/bash-completion/completions/warden" || fail "bash completion does not know --rules"
if grep -v "^#" "$root/usr/lib/tmpfiles.d/warden.conf" | grep -q " /etc"; then fail "tmpfiles still writes under /etc"; fi

step "shared libraries (ldd)"
libs=$(env -i ldd "$warden")
echo "$libs" | sed 's/^/  /'
if echo "$libs" | grep -Eq "/opt/swift|libswift|libFoundation|not found"; then fail "the binary needs the Swift toolchain or a missing library"; fi
file "$warden" 2>/dev/null | grep -q "not stripped" && fail "the binary is not stripped"

step "warden --version"
out=$(run --version) || fail "--version exited $?"
echo "  $out"
[ "$out" = "warden $version (commit $commit)" ] || fail "--version printed '$out', wanted 'warden $version (commit $commit)'"

step "warden check on the installed defaults, with a local override"
mkdir -p "$work/home" "$root/var/lib/warden"
cat > "$root/etc/warden/rules.d/50-switch.yaml" <<'YAML'
guideline: profanity
rules:
  - id: profanity.strong
    mode: shadow
YAML
out=$(cd "$work/home" && run check 2>&1) || fail "check exited $?: $out"
echo "$out" | sed 's/^/  /' | tail -4
echo "$out" | grep -q "using the installed rules $root/usr/share/warden/rules" || fail "check did not say it uses the installed rules"
echo "$out" | grep -q "profanity.strong .*switched to shadow locally" || fail "check does not show the local switch"
echo "$out" | grep -q "^ok: " || fail "check did not say ok"
rm "$root/etc/warden/rules.d/50-switch.yaml"

step "warden run on a few posts"
(cd "$work/home" && exec env -i PATH=/usr/bin:/bin "$warden" run --no-sync --log-level info) 2> "$work/daemon.log" &
daemon=$!
inbox=$root/var/lib/warden/inbox
for i in $(seq 1 300); do [ -d "$inbox" ] && break; sleep 0.2; done
[ -d "$inbox" ] || { cat "$work/daemon.log"; fail "the daemon did not create its inbox"; }
post() { printf '{"id":"%s","author":{"id":"u%s","name":"Sam"},"text":"%s"}' "$1" "$1" "$2" > "$inbox/.$1.tmp"; mv "$inbox/.$1.tmp" "$inbox/$1.json"; }
post p1 "what the fuck is going on with my delivery"
post p2 "Thanks, the parcel arrived today"
post p3 "When does the shop open on Sunday?"
for i in $(seq 1 100); do
  [ "$(ls "$root/var/lib/warden/done" 2>/dev/null | wc -l)" -ge 3 ] && break
  sleep 0.2
done
kill -TERM "$daemon"; status=0; wait "$daemon" || status=$?; daemon=""
sed 's/^/  log: /' "$work/daemon.log" | head -20
[ "$status" -eq 0 ] || fail "the daemon exited $status"
[ "$(ls "$root/var/lib/warden/done" | wc -l)" -ge 3 ] || fail "the daemon did not finish the 3 posts"
[ -f "$root/var/lib/warden/outbox/p1.json" ] || fail "no action file for the profane post"
grep -q '"delete"' "$root/var/lib/warden/outbox/p1.json" || fail "the profane post was not deleted"
grep -q "version=$version commit=$commit" "$work/daemon.log" || grep -q "commit=$commit .*version=$version" "$work/daemon.log" || fail "the start-up log does not carry version and commit"
if grep -q "fuck" "$work/daemon.log"; then fail "a post's text reached the log"; fi

step "ok: $(basename "$deb") installs and runs without a Swift toolchain"
