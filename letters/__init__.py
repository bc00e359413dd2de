"""Everything that leaves the store or comes back: templates, PDFs, mail, the recipients' page.

Never imports Textual (a test enforces it).
"""
