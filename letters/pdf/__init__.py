"""Letters and AR as PDF: jinja2 templates rendered by weasyprint, signed by pyHanko."""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# cryptography 51 deprecates DSA, which pyHanko 0.38 imports at load (our keys are never DSA):
# its warning was printed by every command that signs, across the export's progress line.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning
)
