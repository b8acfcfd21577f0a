"""Rules of the product: pure Python, no Qt, no pjsua2."""
