"""Checkpoint converters (mmdet's tools/model_converters convention)."""
