"""Validation against experiment: declared sets of known electrolytes (``sets``), the skill
scores (``skill``, pure functions) and ``sse-driver validate`` (``run``)."""
