#!/bin/bash
# Builds dist/lib/ctl.jsa, an application class-data-sharing archive for chef-backend-ctl (run by `mvn package`).
# A short command spends most of its time loading and verifying picocli's, Jackson's and our classes; from the
# archive they are mapped ready to use. The classes are those a few typical commands load, run against a scratch
# root with no agent. bin/chef-backend-ctl uses the archive only when it exists and still matches the jars; a
# failure here leaves no archive and changes nothing else.
set -u
dist=$1
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/etc/chef-backend"
# nothing listens on port 1: status finds no agent, quickly
printf "publish_address '127.0.0.1'\nleaderl.http_port = 1\n" > "$work/root/etc/chef-backend/chef-backend.rb"
run() {
  CHEF_BACKEND_ROOT="$work/root" "$java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:off \
    -XX:DumpLoadedClassList="$work/$1.lst" -Dchefbackend.dist="$dist" -cp "$dist/lib/*" \
    org.chefbackend.ctl.ChefBackendCtl "${@:2}" > /dev/null 2>&1
}
run version version
run show-config show-config
run status status
run cluster-status cluster-status --json
run help --help
cat "$work"/*.lst | sort -u > "$work/all.lst"
rm -f "$dist/lib/ctl.jsa"
if "$java" -Xshare:dump -XX:SharedClassListFile="$work/all.lst" -XX:SharedArchiveFile="$work/ctl.jsa" \
    -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$dist/lib/*" > "$work/dump.log" 2>&1 \
  && CHEF_BACKEND_ROOT="$work/root" "$java" -Xshare:on -XX:SharedArchiveFile="$work/ctl.jsa" -XX:TieredStopAtLevel=1 \
    -XX:+UseSerialGC -cp "$dist/lib/*" org.chefbackend.ctl.ChefBackendCtl --version >> "$work/dump.log" 2>&1; then
  # only an archive this JVM just loaded is installed, and in one rename: a torn archive would crash the JVM
  mv "$work/ctl.jsa" "$dist/lib/ctl.jsa"
  echo "cds-archive: $dist/lib/ctl.jsa ($(wc -l < "$work/all.lst") classes)"
else
  echo "cds-archive: no archive (chef-backend-ctl starts without it): $(tail -1 "$work/dump.log")"
fi
exit 0
