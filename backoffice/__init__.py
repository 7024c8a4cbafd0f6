"""Regulator back-office (Textual). Built by a later issue."""
