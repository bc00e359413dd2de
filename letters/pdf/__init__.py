"""Letters and AR as PDF: jinja2 templates rendered by weasyprint."""
