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

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION = PROJECT["version"]
ICON = ROOT / "resources" / "icons" / "cloister.svg"

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=Cloister
GenericName=Private text-classifier training
Comment=Fine-tune text classifiers on your own data, offline and encrypted at rest
Exec={exec_path}
Icon=cloister
Terminal=false
Categories=Science;Development;
Keywords=machine learning;classifier;privacy;offline;
"""

# Where install.sh puts things and uninstall.sh removes them from: one definition for both.
LOCATIONS = r"""if [ "${1:-}" = "--system" ]; then
  prefix=/opt/cloister; bin=/usr/local/bin; apps=/usr/share/applications
  icons=/usr/share/icons/hicolor/scalable/apps
else
  prefix="${HOME}/.local/opt/cloister"; bin="${HOME}/.local/bin"; apps="${HOME}/.local/share/applications"
  icons="${HOME}/.local/share/icons/hicolor/scalable/apps"
fi"""

INSTALL_SH = r"""#!/bin/sh
# Install Cloister from this folder. No network, no root unless --system.
#   ./install.sh            -> ~/.local/opt/cloister, launcher in ~/.local/bin, menu entry
#   sudo ./install.sh --system -> /opt/cloister, /usr/local/bin, /usr/share/applications
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
@LOCATIONS@
( cd "$here" && sha256sum -c --quiet MANIFEST.sha256 ) || { echo "install.sh: the files do not match MANIFEST.sha256; copy the bundle again" >&2; exit 1; }
mkdir -p "$prefix" "$bin" "$apps" "$icons"
rm -rf "$prefix.new" && cp -a "$here/app" "$prefix.new"
rm -rf "$prefix" && mv "$prefix.new" "$prefix"
ln -sf "$prefix/cloister" "$bin/cloister"
ln -sf "$prefix/Cloister" "$bin/cloister-desktop"
sed "s#@EXEC@#$prefix/Cloister#" "$here/cloister.desktop.in" > "$apps/cloister.desktop"
cp "$here/cloister.svg" "$icons/cloister.svg"
echo "Cloister installed in $prefix; run 'cloister' (command line) or 'cloister-desktop', or pick it from the menu."
case ":$PATH:" in *":$bin:"*) ;; *) echo "Note: $bin is not on your PATH." ;; esac
""".replace("@LOCATIONS@", LOCATIONS)

UNINSTALL_SH = r"""#!/bin/sh
# Remove what install.sh put in place. Your workspace (datasets, runs) is NOT touched:
# it lives in ~/.local/share/Cloister/workspace; delete that folder yourself if you mean to.
set -eu
@LOCATIONS@
rm -rf "$prefix" "$bin/cloister" "$bin/cloister-desktop" "$apps/cloister.desktop" "$icons/cloister.svg"
echo "Cloister removed from $prefix (workspace kept)."
""".replace("@LOCATIONS@", LOCATIONS)


def deb_depends() -> list[str]:
    """The Debian packages of every system library the Qt platform check looks for."""
    from desktop.platform_check import XCB_LIBRARIES

    return sorted({debian for debian, _fedora in XCB_LIBRARIES.values()} | {"libc6 (>= 2.28)"})


def deb_control(installed_kib: int) -> str:
    return (f"Package: cloister\nVersion: {VERSION}\nSection: science\nPriority: optional\n"
            f"Architecture: amd64\nMaintainer: Cloister team <cloister@localhost>\n"
            f"Installed-Size: {installed_kib}\nDepends: {', '.join(deb_depends())}\n"
            f"Description: {PROJECT['description']}\n"
            " Fine-tune, evaluate and run text classifiers on this workstation, offline, with\n"
            " every dataset and model encrypted at rest. Bundles its Python runtime, PyTorch\n"
            " (CPU) and the MiniLM-L6 base model: nothing is downloaded, ever.\n")


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
    (top / "cloister.desktop.in").write_text(DESKTOP_ENTRY.format(exec_path="@EXEC@"))
    shutil.copy(ICON, top / "cloister.svg")
    for script, text in (("install.sh", INSTALL_SH), ("uninstall.sh", UNINSTALL_SH)):
        (top / script).write_text(text)
        (top / script).chmod(0o755)
    manifest = sorted(p for p in (top / "app").rglob("*") if p.is_file() and not p.is_symlink())
    (top / "MANIFEST.sha256").write_text(
        "".join(f"{_sha256(p)}  {p.relative_to(top)}\n" for p in manifest))
    target = out / f"{name}.tar.gz"
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(top, arcname=name)
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
    (apps / "cloister.desktop").write_text(DESKTOP_ENTRY.format(exec_path="/opt/cloister/Cloister"))
    icons = stage / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps"
    icons.mkdir(parents=True)
    shutil.copy(ICON, icons / "cloister.svg")
    docs = stage / "usr" / "share" / "doc" / "cloister"
    shutil.copytree(extras / "LICENSES", docs / "LICENSES")
    shutil.copy(extras / f"cloister-{VERSION}.cdx.json", docs)
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(deb_control(_folder_kib(stage)))
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
    print(f"{'artefact':<48}{'size':>12}")
    for p in map(Path, artefacts):
        print(f"{p.name:<48}{p.stat().st_size / 2**20:>10.1f} MB")
    print(f"app folder: {_folder_kib(args.app) / 1024:.0f} MB unpacked; checksums in {args.out / 'SHA256SUMS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
