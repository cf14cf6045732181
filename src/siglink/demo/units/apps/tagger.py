"""A tagger: turns titles into tags and counts their words."""

import importlib.metadata

from textkit import count_words, slugify

TITLES = ["Hello, World", "Signature based linking"]

print(f"tagger: textkit {importlib.metadata.version('textkit')}")
for title in TITLES:
    print(f"  {slugify(title, sep='_')} ({count_words(title)} words)")
