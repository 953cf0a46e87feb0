"""Python runs this at start-up in every child process the tests start (``tests/conftest.py``
puts this folder first on PYTHONPATH): the child gets the same network guard as the suite, and
reports what it tried to the parent's log. Loaded by path: a child need not be able to import
the ``tests`` package."""
import importlib.util
import os

_path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "network_guard.py")
_spec = importlib.util.spec_from_file_location("_cloister_network_guard", _path)
if _spec is not None and _spec.loader is not None:
    _guard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_guard)
    _guard.install()
