"""Known-materials knowledge base: ingestion, normalization, logic checks, novelty."""
