"""The closed loop: Dask-distributed evaluations, a durable SQLite ledger, resume, report."""
