"""Put this folder on PYTHONPATH (the test command does) to guard every Python process against network use.

Loads ``course_utils/netguard.py`` by path so that the guard costs nothing else at interpreter start.
"""
import os

if os.environ.get("COURSE_NETGUARD") == "1":
    import importlib.util
    import pathlib

    _path = pathlib.Path(__file__).resolve().parents[2] / "course_utils" / "netguard.py"
    _spec = importlib.util.spec_from_file_location("_course_netguard", _path)
    _mod = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_mod)
    _mod.install()
