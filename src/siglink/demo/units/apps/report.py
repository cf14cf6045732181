"""A report printer: wraps a paragraph into 40-column lines and titles it with a slug."""

import importlib.metadata

import textkit

TEXT = "Signature based linking lets a fix reach every application at its next start."

print(f"report: textkit {importlib.metadata.version('textkit')}")
print(f"  [{textkit.slugify('Quarterly Report')}]")
for line in textkit.wrap(TEXT, 40):
    print(f"  {line}")
