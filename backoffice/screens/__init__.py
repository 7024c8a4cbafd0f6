"""The back-office screens, one module each."""
