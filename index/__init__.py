"""Verbatim's indexing pipeline: load, clean, split, chunk, embed and store articles."""
