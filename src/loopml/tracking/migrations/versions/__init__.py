"""Revisions of the tracking store's schema, oldest first (``0001_initial``, ...)."""
