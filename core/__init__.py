"""NSER domain: models, services, crypto, settings and errors.

Imports none of the channels (``ussd``, ``sms``, ``backoffice``), Starlette or Textual;
the import-linter contracts in ``pyproject.toml`` enforce it.
"""
