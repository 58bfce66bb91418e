"""Catalog service: products and stock."""
