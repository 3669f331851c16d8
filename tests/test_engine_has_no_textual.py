"""The engine must import without Textual (it is also a library and a server)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import pkgutil, importlib, sys
import codemode_tui
for mod in pkgutil.walk_packages(codemode_tui.__path__, "codemode_tui."):
    if mod.name.startswith("codemode_tui.tui") or mod.name == "codemode_tui.__main__":
        continue
    importlib.import_module(mod.name)
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print(",".join(loaded))
"""


def test_engine_does_not_import_textual() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
