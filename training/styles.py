"""The style paintings: names, titles and where the pictures are.

The bundled styles' paintings are kept in `training/styles/` (copies of the public-domain paintings); a style
can also be given as a path to any picture.
"""
from __future__ import annotations

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STYLE_DIRS = [os.path.join(REPO, "training", "styles"), os.path.join(os.path.dirname(REPO), "shared", "styles")]

# The bundled paintings (all public domain; copies in training/styles/): name -> (title, artist, year).
# Exported packs carry them in their manifest ("title", "artist", "year"); user-facing lists show the title.
PAINTINGS = {
    "starry_night": ("The Starry Night", "Vincent van Gogh", "1889"),
    "wave": ("The Great Wave off Kanagawa", "Katsushika Hokusai", "c. 1831"),
    "the_scream": ("The Scream", "Edvard Munch", "1893"),
    "composition_vii": ("Composition VII", "Wassily Kandinsky", "1913"),
    "udnie": ("Udnie", "Francis Picabia", "1913"),
    "shipwreck": ("The Shipwreck", "J. M. W. Turner", "1805"),
    "woman_with_hat": ("Woman with a Hat", "Henri Matisse", "1905"),
}


def painting(name_or_path: str) -> dict:
    """{"title", "artist", "year"} of a bundled painting; only a title (from the file name) for other pictures."""
    n = style_name(name_or_path)
    if n in PAINTINGS:
        return dict(zip(("title", "artist", "year"), PAINTINGS[n]))
    return {"title": n.replace("_", " ").title()}


def short_title(name_or_path: str) -> str:
    return painting(name_or_path)["title"]


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
    """"Title (Artist, year)" for descriptions and figure captions."""
    p = painting(name_or_path)
    return f"{p['title']} ({p['artist']}, {p['year']})" if "artist" in p else p["title"]
