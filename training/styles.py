"""The style paintings: names, titles and where the pictures are.

The bundled styles' paintings are kept in `training/styles/` (copies of the public-domain paintings); a style
can also be given as a path to any picture.
"""
from __future__ import annotations

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STYLE_DIRS = [os.path.join(REPO, "training", "styles"), os.path.join(os.path.dirname(REPO), "shared", "styles")]

TITLES = {
    "starry_night": "The Starry Night (van Gogh, 1889)",
    "wave": "The Great Wave off Kanagawa (Hokusai, c.1831)",
    "the_scream": "The Scream (Munch, 1893)",
    "composition_vii": "Composition VII (Kandinsky, 1913)",
    "udnie": "Udnie (Picabia, 1913)",
    "shipwreck": "The Shipwreck of the Minotaur (Turner, c.1810)",
    "woman_with_hat": "Woman with a Hat (Matisse, 1905)",
}


SHORT = {
    "starry_night": "The Starry Night",
    "wave": "The Great Wave",
    "the_scream": "The Scream",
    "composition_vii": "Composition VII",
    "udnie": "Udnie",
    "shipwreck": "The Shipwreck",
    "woman_with_hat": "Woman with a Hat",
}


def short_title(name_or_path: str) -> str:
    n = style_name(name_or_path)
    return SHORT.get(n, n.replace("_", " ").title())


def style_path(name_or_path: str) -> str:
    if os.path.isfile(name_or_path):
        return name_or_path
    for d in STYLE_DIRS:
        for ext in (".jpg", ".jpeg", ".png"):
            p = os.path.join(d, name_or_path + ext)
            if os.path.isfile(p):
                return p
    raise FileNotFoundError(f"style '{name_or_path}': no picture in {', '.join(STYLE_DIRS)} and not a file")


def style_name(name_or_path: str) -> str:
    return os.path.splitext(os.path.basename(name_or_path))[0]


def style_title(name_or_path: str) -> str:
    n = style_name(name_or_path)
    return TITLES.get(n, n.replace("_", " ").title())
