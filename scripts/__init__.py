"""Build pipeline: read -> validate -> check provenance -> load -> index -> publish.

`python -m scripts.build` is the one entry point; each step is a module of small functions.
"""
