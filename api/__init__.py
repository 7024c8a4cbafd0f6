"""The operator API: a JSON sub-app under ``/v1/`` for licensed operators."""
