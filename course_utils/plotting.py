"""Matplotlib with Hangul: register a Korean font so labels do not turn into boxes (chapters 00, 10).

``koreanize-matplotlib`` bundles NanumGothic but imports ``distutils`` and so fails on Python 3.12+. We never
import it: we locate its font file (or Debian's ``fonts-nanum``) and register that file with matplotlib.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

SYSTEM_FONT_DIRS = (Path("/usr/share/fonts/truetype/nanum"), Path("/usr/share/fonts/opentype/nanum"),
                    Path("/Library/Fonts"), Path("C:/Windows/Fonts"))


def find_korean_font() -> Path | None:
    """Path of a NanumGothic (or Malgun Gothic on Windows) font file, or ``None``."""
    spec = importlib.util.find_spec("koreanize_matplotlib")
    candidates = []
    if spec is not None and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            candidates.append(Path(loc) / "fonts" / "NanumGothic.ttf")
    for d in SYSTEM_FONT_DIRS:
        candidates += [d / "NanumGothic.ttf", d / "malgun.ttf"]
    return next((c for c in candidates if c.is_file()), None)


def setup_korean_font() -> str:
    """Register the Korean font with matplotlib and make it the default; returns the font's family name."""
    import matplotlib as mpl
    from matplotlib import font_manager

    path = find_korean_font()
    if path is None:
        raise RuntimeError(
            "한글 폰트를 찾지 못했습니다. 설치: pip install koreanize-matplotlib  (또는 Debian/Ubuntu: "
            "sudo apt-get install fonts-nanum)"
        )
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    mpl.rcParams["font.family"] = name
    mpl.rcParams["axes.unicode_minus"] = False  # NanumGothic has no U+2212 minus sign
    return name
