"""Measurements the notebooks report that are neither models nor figures (e.g. :mod:`.cost`)."""
