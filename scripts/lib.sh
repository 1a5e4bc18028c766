# Shared by the wrapper scripts: locate the project and build jars on first use.
# shellcheck shell=bash
RSU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RSU_VERSION="0.1.0"

# ensure_built MODULE: builds MODULE (and what it needs) when its jar is missing or older than its sources.
ensure_built() {
  local module="$1"
  local jar="$RSU_ROOT/$module/target/$module-$RSU_VERSION.jar"
  local stale=""
  if [ -f "$jar" ] && [ -d "$RSU_ROOT/$module/target/lib" ]; then
    stale=$(find "$RSU_ROOT"/agent-protocol/src/main "$RSU_ROOT"/agent-hal/src/main "$RSU_ROOT"/test-fixtures/src/main "$RSU_ROOT/$module/src/main" \
      "$RSU_ROOT/pom.xml" "$RSU_ROOT/$module/pom.xml" -newer "$jar" -type f 2>/dev/null | head -1)
    [ -z "$stale" ] && return 0
  fi
  echo "building $module (first use or sources changed) ..." >&2
  if ! (cd "$RSU_ROOT" && mvn -B -ntp -q -DskipTests -pl "$module" -am install) >&2; then
    echo "$(basename "$0"): build of $module failed; run 'mvn -B -pl $module -am install' to see why" >&2
    exit 70
  fi
  # Maven leaves a jar whose contents did not change untouched (reproducible builds), so it would look stale forever.
  touch "$jar"
}

# classpath MODULE: the module jar and its runtime libraries.
classpath() {
  local module="$1"
  echo "$RSU_ROOT/$module/target/$module-$RSU_VERSION.jar:$RSU_ROOT/$module/target/lib/*"
}

# unsigned_classpath MODULE: as classpath, with the runtime libraries copied without jar signatures
# into MODULE/target/lib-unsigned (refreshed when target/lib is newer) by the package's own build step,
# agent-packaging's StripJarSignatures (run from its source: no build of agent-packaging needed).
# Why: a signed jar's per-class manifest digests go on the heap and every class of it is verified as
# it loads (the BouncyCastle jars: heap, RSS, time; docs/benchmarks.md, Footprint).
unsigned_classpath() {
  local module="$1"
  local lib="$RSU_ROOT/$module/target/lib" out="$RSU_ROOT/$module/target/lib-unsigned"
  local tool="$RSU_ROOT/agent-packaging/src/main/java/rsuota/packaging/build/StripJarSignatures.java"
  stale_unsigned() { [ ! -f "$out/.done" ] || [ -n "$(find "$lib" "$tool" -newer "$out/.done" 2>/dev/null | head -1)" ]; }
  if stale_unsigned; then
    # Built under a name of this process's own, so that launchers started together (the lab starts
    # several units) never see a half-written directory; the last one to finish swaps its copy in.
    local tmp="$out.$$.tmp"
    rm -rf "$tmp"
    java "$tool" "$lib" "$tmp" >/dev/null \
      || { rm -rf "$tmp"; echo "$(basename "$0"): cannot copy $lib unsigned (StripJarSignatures failed)" >&2; exit 70; }
    touch "$tmp/.done"
    if stale_unsigned; then
      [ -d "$out" ] && mv "$out" "$out.$$.old"
      mv -T "$tmp" "$out" 2>/dev/null || true
    fi
    rm -rf "$tmp" "$out.$$.old"
  fi
  echo "$RSU_ROOT/$module/target/$module-$RSU_VERSION.jar:$out/*"
}
