"""Phase field: DOLFINx Cahn-Hilliard with reaction, stability metrics, degradation model."""
