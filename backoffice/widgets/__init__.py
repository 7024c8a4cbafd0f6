"""Widgets and helpers the back-office screens share."""
