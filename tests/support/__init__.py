"""Helpers shared by the tests (imported, unlike fixtures, which live in ``conftest.py``)."""
