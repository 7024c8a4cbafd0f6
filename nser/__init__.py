"""Composition root: the web app, the command line and the process runner."""
