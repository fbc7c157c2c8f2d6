#!/usr/bin/env bash
# Builds the Debian package: .build/deb/palier_<version>_<arch>.deb (`make deb`).
# The binary is built in release mode with the Swift runtime linked in (--static-swift-stdlib),
# so the box needs no Swift toolchain: only the C libraries it links, which dpkg-shlibdeps
# turns into the package's Depends. Also in the package: the systemd units, the maintainer
# scripts (packaging/), the man page and shell completions generated from the binary itself,
# the docs and the screen's launcher page. Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

# A scratch directory of its own: `swift test` holds .build's lock while the package test runs
# this script, and the static release build shares nothing with the debug one anyway.
build=(swift build -c release --static-swift-stdlib --scratch-path .build/static)
"${build[@]}" --product palier >&2
bin="$("${build[@]}" --show-bin-path)/palier"
version="$("$bin" --version)"
arch="$(dpkg --print-architecture)"
name="palier_${version}_${arch}"
stage=".build/deb/$name"
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"

install -D -m 0755 "$bin" "$stage/usr/bin/palier"
strip --strip-unneeded "$stage/usr/bin/palier"
install -D -m 0644 packaging/palier.service "$stage/lib/systemd/system/palier.service"
doc="$stage/usr/share/doc/palier"
install -D -m 0644 packaging/palier-kiosk.service "$doc/examples/palier-kiosk.service"
install -D -m 0644 examples/screen/launcher.html "$doc/examples/screen/launcher.html"
install -m 0644 README.md docs/*.md "$doc/"
cat > "$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: palier

Files: *
Copyright: 2026 the palier contributors
License: none-chosen-yet
 The palier authors have not chosen a licence yet; until they do, all rights are reserved.
COPYRIGHT

# The manual and the completions come from the binary, so they say what --help says.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
# In English and in French (man shows the one of the reader's locale), whatever this machine's.
mkdir -p "$stage/usr/share/man/man1" "$stage/usr/share/man/fr/man1"
PALIER_LANG=en "$bin" --experimental-dump-help | python3 scripts/man-page.py "$version" en | gzip -9n > "$stage/usr/share/man/man1/palier.1.gz"
PALIER_LANG=fr "$bin" --experimental-dump-help | python3 scripts/man-page.py "$version" fr | gzip -9n > "$stage/usr/share/man/fr/man1/palier.1.gz"
install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
PALIER_LANG=en "$bin" --generate-completion-script bash > "$stage/usr/share/bash-completion/completions/palier"
PALIER_LANG=en "$bin" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_palier"
PALIER_LANG=en "$bin" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/palier.fish"

# Depends: the shared libraries the binary links, as dpkg-shlibdeps names their packages.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: palier\n\nPackage: palier\nArchitecture: any\n' > "$work/debian/control"
depends="$(cd "$work" && dpkg-shlibdeps -O "$OLDPWD/$stage/usr/bin/palier" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

for script in postinst prerm postrm; do install -m 0755 "packaging/$script" "$stage/DEBIAN/$script"; done
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: palier
Version: $version
Architecture: $arch
Maintainer: palier developers <palier@localhost>
Installed-Size: $size
Depends: $depends, passwd
Recommends: avahi-daemon, tor
Suggests: chromium, cage
Section: net
Priority: optional
Description: local-first neighbourhood network for a building's elevator screen
 A palier node runs in each residential building: residents, the landlord, the
 condo board, the lift company, merchants and the city post short signed
 messages, which the node shows on the screen in the building's lift. Nodes
 find neighbouring buildings over mDNS, and buildings on other networks through
 Tor onion services, exchange neighbourhood posts with them and keep everything
 in a SQLite store, with no central server.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$stage" ".build/deb/$name.deb" >&2
echo ".build/deb/$name.deb"
