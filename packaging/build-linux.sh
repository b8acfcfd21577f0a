#!/usr/bin/env bash
# Build the Linux onedir bundle: dist/switchboard/ (run from anywhere).
#
#   packaging/build-linux.sh            # uses $PYTHON or python3 with PyInstaller installed
#   PYTHON=/tmp/venv/bin/python packaging/build-linux.sh --tar
#
# Checks the desktop file and the AppStream metadata when the validators are installed
# (desktop-file-utils, appstream), builds with packaging/switchboard.spec, lays out the
# freedesktop files under dist/switchboard/share/, and prints the size and build time.
# --tar also writes dist/switchboard-<version>-linux-<arch>.tar.gz.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"
make_tar=0
for arg in "$@"; do
  case "$arg" in
    --tar) make_tar=1 ;;
    *) echo "usage: $0 [--tar]" >&2; exit 2 ;;
  esac
done

cd "$root"
if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  echo "PyInstaller is missing: $python -m pip install pyinstaller" >&2
  exit 1
fi

if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate packaging/linux/switchboard.desktop
else
  echo "note: desktop-file-validate not installed (apt-get install desktop-file-utils)"
fi
if command -v appstreamcli >/dev/null; then
  appstreamcli validate --no-net packaging/linux/fi.switchboard.Switchboard.metainfo.xml
else
  echo "note: appstreamcli not installed (apt-get install appstream)"
fi

start=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$root/dist" --workpath "$root/build/pyinstaller" \
  packaging/switchboard.spec
end=$(date +%s)

out="$root/dist/switchboard"
install -Dm644 packaging/linux/switchboard.desktop "$out/share/applications/switchboard.desktop"
install -Dm644 packaging/linux/fi.switchboard.Switchboard.metainfo.xml \
  "$out/share/metainfo/fi.switchboard.Switchboard.metainfo.xml"
install -Dm644 resources/icons/switchboard.svg \
  "$out/share/icons/hicolor/scalable/apps/switchboard.svg"

# The bundle must start without the build machine's Python: ask it for its version.
"$out/switchboard" --version

size=$(du -sh "$out" | cut -f1)
echo "built $out: $size in $((end - start)) s"

if [ "$make_tar" = 1 ]; then
  version=$("$out/switchboard" --version | awk '{print $2}')
  tarball="$root/dist/switchboard-$version-linux-$(uname -m).tar.gz"
  tar -C "$root/dist" -czf "$tarball" switchboard
  echo "wrote $tarball ($(du -sh "$tarball" | cut -f1))"
fi
