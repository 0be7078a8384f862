"""Figures as the articles state them: number parsing, provenance checks and drafting.

Pure Python, no Dagster: the schemas, the loader and the command line all use it.
"""
