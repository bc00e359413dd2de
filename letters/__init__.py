"""Everything that leaves the store or comes back: templates, PDFs, mail, the recipients' page.

Never imports Textual (a test enforces it).
"""

from pathlib import Path

# Shared by the rooms: the PDF letters, the e-mails and the page.
PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
FONTS_DIR = PACKAGE_DIR / "fonts"
