"""Verbatim's answerer and HTTP service."""
