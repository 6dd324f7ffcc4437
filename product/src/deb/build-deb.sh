#!/bin/bash
# Builds chef-backend_VERSION_all.deb from the assembled distribution (run by `mvn package`; also by PackageIT, to
# make a newer build of the same distribution). Usage: build-deb.sh DIST OUT_DIR VERSION [REPO_ROOT]
#   DIST       product/target/dist (lib/, opensearch/, version-manifest.json)
#   VERSION    the Maven version or a Debian one: 0.1.0-SNAPSHOT becomes 0.1.0~snapshot.YYYYMMDDHHMMSS (UTC), which
#              sorts below the release 0.1.0 and above every earlier snapshot build
# Needs dpkg-deb only (files owned by root through --root-owner-group; no fakeroot).
set -euo pipefail
dist=$(cd "$1" && pwd)
out=$2
version=$3
case $version in *-SNAPSHOT) version="${version%-SNAPSHOT}~snapshot.$(date -u +%Y%m%d%H%M%S)" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
repo=${4:-$(cd "$here/../../.." && pwd)}
[ -f "$dist/lib/chef-backend.jar" ] || { echo "build-deb: no distribution at $dist" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing (Debian's dpkg package)" >&2; exit 1; }

mkdir -p "$out"
stage=$(mktemp -d "$out/deb-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
umask 022
opt=$stage/opt/chef-backend
mkdir -p "$opt/bin" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/chef-backend" \
  "$stage/etc/postgresql-common/createcluster.d" "$stage/usr/share/doc/chef-backend" \
  "$stage/usr/share/lintian/overrides" "$stage/DEBIAN"

# the product: its jars (not the build's class-data archive: postinst builds one for /opt/chef-backend's paths)
cp -a "$dist/lib" "$opt/lib"
rm -f "$opt/lib/ctl.jsa"
cp "$repo/product/src/build/cds-archive.sh" "$opt/lib/cds-archive.sh"
cp -a "$dist/opensearch" "$opt/opensearch"
[ ! -f "$dist/version-manifest.json" ] || cp "$dist/version-manifest.json" "$opt/version-manifest.json"
cp "$repo/bin/chef-backend-ctl" "$opt/bin/chef-backend-ctl"
cp "$repo/README.md" "$opt/README.md"
ln -s /opt/chef-backend/bin/chef-backend-ctl "$stage/usr/bin/chef-backend-ctl"
cp "$here/chef-backend.service" "$stage/lib/systemd/system/chef-backend.service"
cp "$here/createcluster.conf" "$stage/etc/postgresql-common/createcluster.d/chef-backend.conf"
cp "$here/lintian-overrides" "$stage/usr/share/lintian/overrides/chef-backend"
cp "$here/copyright" "$stage/usr/share/doc/chef-backend/copyright"
{
  echo "chef-backend ($version) unstable; urgency=medium"
  echo
  echo "  * Built from the chef-backend repository."
  echo
  echo " -- chef-backend developers <chef-backend@example.org>  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} | gzip -9n > "$stage/usr/share/doc/chef-backend/changelog.gz"

# permissions as Debian wants them: directories and programs 0755, everything else 0644
find "$stage" -path "$stage/DEBIAN" -prune -o -type d -exec chmod 0755 {} +
find "$stage" -path "$stage/DEBIAN" -prune -o -type f -exec chmod 0644 {} +
chmod 0755 "$opt/bin/chef-backend-ctl" "$opt/lib/cds-archive.sh"
find "$opt/opensearch/bin" -type f -exec chmod 0755 {} +

for script in postinst prerm postrm config; do
  install -m 0755 "$here/$script" "$stage/DEBIAN/$script"
done
install -m 0644 "$here/templates" "$stage/DEBIAN/templates"
echo /etc/postgresql-common/createcluster.d/chef-backend.conf > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$here/control" > "$stage/DEBIAN/control"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/conffiles" "$stage/DEBIAN/control"

deb=$out/chef-backend_${version}_all.deb
dpkg-deb --root-owner-group -Zgzip -z6 --build "$stage" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "build-deb: $deb ($(du -h "$deb" | cut -f1))"
