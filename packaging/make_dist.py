"""Wrap the PyInstaller folder (``make build``) into offline installers for Linux.

Writes into ``dist/``:

* ``cloister-VERSION-linux-x86_64.tar.gz`` — the app folder, a ``.desktop`` file, the icon,
  ``install.sh`` / ``uninstall.sh`` (``~/.local`` without root, ``/opt`` with ``--system``),
  ``LICENSES/`` and the SBOM;
* ``cloister_VERSION_amd64.deb`` — the same app under ``/opt/cloister``, built with ``dpkg-deb``,
  depending on the system libraries Qt needs (the list ``desktop.platform_check`` checks at start);
* ``cloister-VERSION.cdx.json`` — a CycloneDX SBOM of the bundled Python packages;
* ``SHA256SUMS`` — every artefact above.

Usage: ``python packaging/make_dist.py [--app build/dist/Cloister-VERSION] [--out dist]``.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bundle_licenses import bundled_distributions, write_licenses, write_sbom  # noqa: E402
from glibc_floor import BEFORE_SCAN, glibc_floor  # noqa: E402

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
ICON = ROOT / "resources" / "icons" / "cloister.svg"

# The launcher's Exec= line is added by install.sh (quoted: the folder may hold spaces) and by
# make_deb; the rest of the entry is the same for both.
DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Cloister
GenericName=Private text-classifier training
Comment=Fine-tune text classifiers on your own data, offline and encrypted at rest
Icon=cloister
Terminal=false
Categories=Science;ArtificialIntelligence;
Keywords=machine learning;classifier;privacy;offline;
"""

# Where install.sh puts things and uninstall.sh removes them from: one definition for both.
# Root installs for every user (--system) and only then; a user's own install lives in their
# home. "sudo ./install.sh" without --system would have filled root's home (or, with sudo -E,
# left root-owned files in the user's, which they can then neither upgrade nor remove).
LOCATIONS = r"""me="$(basename "$0")"
system=no
for arg in "$@"; do
  case "$arg" in
    --system) system=yes ;;
    -h|--help) echo "usage: $me [--system]   (--system: for every user, as root)"; exit 0 ;;
    *) echo "$me: unknown option '$arg'; the one option is --system (for every user, as root)" >&2; exit 2 ;;
  esac
done
if [ "$system" = yes ]; then
  [ "$(id -u)" = 0 ] || { echo "$me: --system is for every user and needs root: sudo sh $me --system" >&2; exit 1; }
  prefix=/opt/cloister; bin=/usr/local/bin; apps=/usr/share/applications
  icons=/usr/share/icons/hicolor/scalable/apps
  # The .deb owns /opt/cloister too: two installers writing one folder leave stale files and
  # links to nothing. The package manager keeps that copy.
  if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -S "$prefix" >/dev/null 2>&1; then
    echo "$me: $prefix belongs to the cloister .deb package; use 'sudo apt install ./cloister_VERSION_amd64.deb' to upgrade it or 'sudo apt remove cloister' to remove it" >&2
    exit 1
  fi
else
  [ "$(id -u)" != 0 ] || { echo "$me: as root this would install into root's own home; run it as the person who will use Cloister, or 'sudo sh $me --system' for every user" >&2; exit 1; }
  data="${XDG_DATA_HOME:-${HOME}/.local/share}"  # here: a root --system install may have no HOME
  prefix="${HOME}/.local/opt/cloister"; bin="${HOME}/.local/bin"; apps="$data/applications"
  icons="$data/icons/hicolor/scalable/apps"
fi"""

INSTALL_SH = r"""#!/bin/sh
# Install Cloister from this folder. No network, no root unless --system.
#   sh install.sh                 -> ~/.local/opt/cloister, launchers in ~/.local/bin, menu entry
#   sudo sh install.sh --system   -> /opt/cloister, /usr/local/bin, /usr/share/applications
# Nothing is replaced until the new copy is complete: a failure (a damaged bundle, a full disk)
# leaves the installed version as it was.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
@LOCATIONS@
case "$prefix" in *[\"\`\$\\%]*)
  echo "$me: the folder $prefix holds a character a menu entry cannot name (\" \` \$ \\ %)" >&2; exit 1 ;;
esac
( cd "$here" && sha256sum -c --quiet --strict MANIFEST.sha256 ) || {
  echo "$me: the files do not match MANIFEST.sha256; copy the bundle again" >&2; exit 1; }
# Files the manifest does not list (a stray library or sitecustomize.py would be loaded) and
# links changed or lost in the copy (a FAT stick or a Windows share drops them) fail it too.
listed="$(sed 's/^[0-9a-f]*  //' "$here/MANIFEST.sha256" | sort)"
found="$(cd "$here" && find app -type f | sort)"
if [ "$(printf '%s\n' "$listed" | grep '^app/')" != "$found" ]; then
  echo "$me: the app folder holds files MANIFEST.sha256 does not list, or lacks some it does; copy the bundle again" >&2; exit 1
fi
# Links too: exactly those listed (a link added to the copy, to a sitecustomize.py elsewhere,
# would be loaded), and nothing but files, folders and links.
listed_links="$(sed 's/ -> .*//' "$here/MANIFEST.links" | sort)"
if [ "$listed_links" != "$(cd "$here" && find app -type l | sort)" ] || \
   [ -n "$(cd "$here" && find app ! -type f ! -type d ! -type l | head -n 1)" ]; then
  echo "$me: the app folder holds links MANIFEST.links does not list, or lacks some it does; copy the bundle again" >&2; exit 1
fi
while IFS= read -r line; do
  link="${line%% -> *}"; target="${line#* -> }"
  [ "$(readlink "$here/$link" 2>/dev/null || true)" = "$target" ] || {
    echo "$me: $link should be a link to $target; copy the bundle again, keeping links (tar, not a FAT stick)" >&2; exit 1; }
done < "$here/MANIFEST.links"
mkdir -p "$(dirname "$prefix")" "$bin" "$apps" "$icons"
need=$(du -sk "$here/app" | cut -f1)
free=$(df -Pk "$(dirname "$prefix")" | awk 'NR == 2 { print $4 }')
if [ "$free" -lt $(( need + need / 20 )) ]; then
  echo "$me: $(dirname "$prefix") has $(( free / 1024 )) MB free and the app needs $(( need / 1024 )) MB; free some space (the installed version, if any, stays until the new one is complete)" >&2
  exit 1
fi
# Whatever stops it (a full disk, Ctrl-C), the installed version is back in place at the end.
trap 'rm -rf "$prefix.new"; [ -e "$prefix" ] || [ ! -e "$prefix.old" ] || mv "$prefix.old" "$prefix"' EXIT
trap 'exit 1' INT TERM HUP
rm -rf "$prefix.new" "$prefix.old" && cp -R "$here/app" "$prefix.new"
cp "$here/uninstall.sh" "$prefix.new/uninstall.sh"
if [ "$system" = yes ]; then
  # Owned by root and readable by all, whoever unpacked the tarball and whatever their umask.
  chown -R root:root "$prefix.new"
  chmod -R u+rwX,go+rX,go-w "$prefix.new"
  : > "$prefix.new/.installed-by-install-sh"
else
  chmod -R u+rwX "$prefix.new"
fi
if [ -e "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
mv "$prefix.new" "$prefix"
rm -rf "$prefix.old"
command -v restorecon >/dev/null 2>&1 && restorecon -R "$prefix" 2>/dev/null || true
ln -sf "$prefix/cloister" "$bin/cloister"
ln -sf "$prefix/Cloister" "$bin/cloister-desktop"
{ cat "$here/cloister.desktop.in"; printf 'Exec="%s"\n' "$prefix/Cloister"; } > "$apps/.cloister.desktop.new"
chmod 0644 "$apps/.cloister.desktop.new" && mv "$apps/.cloister.desktop.new" "$apps/cloister.desktop"
cp "$here/cloister.svg" "$icons/.cloister.svg.new"
chmod 0644 "$icons/.cloister.svg.new" && mv "$icons/.cloister.svg.new" "$icons/cloister.svg"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" 2>/dev/null || true
echo "Cloister installed in $prefix; run 'cloister' (command line) or 'cloister-desktop', or pick it from the menu."
echo "To remove it: $( [ "$system" = yes ] && echo 'sudo ' )sh \"$prefix/uninstall.sh\"$( [ "$system" = yes ] && echo ' --system' )"
case ":$PATH:" in *":$bin:"*) ;; *) echo "Note: $bin is not on your PATH." ;; esac
""".replace("@LOCATIONS@", LOCATIONS)

UNINSTALL_SH = r"""#!/bin/sh
# Remove what install.sh put in place. Your workspace (datasets, runs, models) and settings are
# NOT touched: delete those folders yourself if you mean to (the message below names them).
set -eu
@LOCATIONS@
if [ ! -d "$prefix" ] && [ ! -d "$prefix.new" ]; then
  echo "$me: Cloister is not installed in $prefix; nothing removed" >&2; exit 1
fi
# Only what install.sh made: a 'cloister' in the same folder from elsewhere (pip, a checkout)
# is someone else's.
for link in "$bin/cloister" "$bin/cloister-desktop"; do
  case "$(readlink "$link" 2>/dev/null || true)" in "$prefix"/*) rm -f "$link" ;; esac
done
grep -qF "$prefix/Cloister" "$apps/cloister.desktop" 2>/dev/null && rm -f "$apps/cloister.desktop" "$icons/cloister.svg"
rm -rf "$prefix" "$prefix.new" "$prefix.old"
echo "Cloister removed from $prefix."
echo "Kept, for each user who used it: the workspace (datasets, runs, models; where Settings or CLOISTER_WORKSPACE put it, by default ~/.local/share/Cloister/workspace) and the settings (~/.config/Cloister, with the record of the workspace's newest copy)."
""".replace("@LOCATIONS@", LOCATIONS)

# A .deb over a tarball's system install would leave the old version's stray files beside its
# own, and that install's uninstall.sh would then delete files dpkg owns.
DEB_PREINST = """#!/bin/sh
set -e
if [ "$1" = install ] && [ -e /opt/cloister/.installed-by-install-sh ]; then
  echo "cloister: /opt/cloister holds a copy installed by the tarball's install.sh; remove it first with 'sudo sh /opt/cloister/uninstall.sh --system' (workspaces are kept)" >&2
  exit 1
fi
"""

def deb_depends(glibc: str = BEFORE_SCAN) -> list[str]:
    """The Debian packages of every system library the Qt platform check looks for, and the
    glibc the bundle needs."""
    from desktop.platform_check import XCB_LIBRARIES

    return sorted({debian for debian, _fedora in XCB_LIBRARIES.values()} | {f"libc6 (>= {glibc})"})


def deb_control(installed_kib: int, glibc: str = BEFORE_SCAN) -> str:
    return (f"Package: cloister\nVersion: {VERSION}\nSection: science\nPriority: optional\n"
            f"Architecture: amd64\nMaintainer: Cloister team <cloister@localhost>\n"
            f"Installed-Size: {installed_kib}\nDepends: {', '.join(deb_depends(glibc))}\n"
            f"Description: {PROJECT['description']}\n"
            " Fine-tune, evaluate and run text classifiers on this workstation, offline, with\n"
            " every dataset and model encrypted at rest. Bundles its Python runtime, PyTorch\n"
            " and the MiniLM-L6 base model: nothing is downloaded, ever.\n")


def _as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root, readable by all, whoever built it and whatever their umask: a system
    install restores what the tarball says."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    if info.isdir() or (info.isfile() and info.mode & 0o111):
        info.mode = 0o755
    elif info.isfile():
        info.mode = 0o644
    return info


def _normal_modes(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(0o755 if path.is_dir() or mode & 0o111 else 0o644)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_kib(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) // 1024


def make_tarball(app: Path, out: Path, extras: Path) -> Path:
    name = f"cloister-{VERSION}-linux-x86_64"
    stage = out / f".{name}"
    shutil.rmtree(stage, ignore_errors=True)
    (stage / name).mkdir(parents=True)
    top = stage / name
    shutil.copytree(app, top / "app", symlinks=True)
    shutil.copytree(extras / "LICENSES", top / "LICENSES")
    shutil.copy(extras / f"cloister-{VERSION}.cdx.json", top)
    (top / "cloister.desktop.in").write_text(DESKTOP_ENTRY)
    shutil.copy(ICON, top / "cloister.svg")
    for script, text in (("install.sh", INSTALL_SH), ("uninstall.sh", UNINSTALL_SH)):
        (top / script).write_text(text)
        (top / script).chmod(0o755)
    # Every file of the bundle but the manifest itself and install.sh (which reads it), and
    # every link with its target: install.sh refuses a copy that differs in any of them.
    files = sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink()
                   and p.name not in ("MANIFEST.sha256", "MANIFEST.links", "install.sh"))
    (top / "MANIFEST.sha256").write_text(
        "".join(f"{_sha256(p)}  {p.relative_to(top)}\n" for p in files))
    links = sorted(p for p in (top / "app").rglob("*") if p.is_symlink())
    (top / "MANIFEST.links").write_text(
        "".join(f"{p.relative_to(top)} -> {os.readlink(p)}\n" for p in links))
    target = out / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(top, arcname=name, filter=_as_root)
    shutil.rmtree(stage)
    return target


def make_deb(app: Path, out: Path, extras: Path) -> Path:
    stage = out / ".deb-root"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(app, stage / "opt" / "cloister", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    os.symlink("/opt/cloister/cloister", stage / "usr" / "bin" / "cloister")
    os.symlink("/opt/cloister/Cloister", stage / "usr" / "bin" / "cloister-desktop")
    apps = stage / "usr" / "share" / "applications"
    apps.mkdir(parents=True)
    (apps / "cloister.desktop").write_text(DESKTOP_ENTRY + "Exec=/opt/cloister/Cloister\n")
    icons = stage / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy(ICON, icons / "cloister.svg")
    docs = stage / "usr" / "share" / "doc" / "cloister"
    shutil.copytree(extras / "LICENSES", docs / "LICENSES")
    shutil.copy(extras / f"cloister-{VERSION}.cdx.json", docs)
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(deb_control(_folder_kib(stage), glibc_floor(app)))
    (stage / "DEBIAN" / "preinst").write_text(DEB_PREINST)
    (stage / "DEBIAN" / "preinst").chmod(0o755)
    _normal_modes(stage)  # dpkg-deb refuses a DEBIAN folder a umask of 027 left at 0750
    target = out / f"cloister_{VERSION}_amd64.deb"
    # gzip: every dpkg reads it, and it packs the 1 GB folder several times faster than xz.
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(stage), str(target)],
                   check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(stage)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=ROOT / "build" / "dist" / f"Cloister-{VERSION}")
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    if not (args.app / "cloister").is_file():
        print(f"make_dist: {args.app} has no frozen 'cloister': run 'make build' first", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    extras = args.out / ".extras"
    shutil.rmtree(extras, ignore_errors=True)
    extras.mkdir()
    dists = bundled_distributions(args.app)
    write_licenses(dists, extras / "LICENSES")
    sbom = write_sbom(dists, extras / f"cloister-{VERSION}.cdx.json", version=VERSION)
    artefacts = [make_tarball(args.app, args.out, extras), make_deb(args.app, args.out, extras)]
    artefacts.append(shutil.copy(sbom, args.out / sbom.name))
    shutil.rmtree(extras)
    sums = "".join(f"{_sha256(Path(p))}  {Path(p).name}\n" for p in artefacts)
    (args.out / "SHA256SUMS").write_text(sums)
    check = hashlib.sha256(sums.encode()).hexdigest()
    print(f"{'artefact':<48}{'size':>12}")
    for p in map(Path, artefacts):
        print(f"{p.name:<48}{p.stat().st_size / 2**20:>10.1f} MB")
    print(f"app folder: {_folder_kib(args.app) / 1024:.0f} MB unpacked; checksums in {args.out / 'SHA256SUMS'}")
    print(f"SHA256SUMS itself: {check}  (send this to the site by a second channel)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
