"""sinternal: the domain logic of the safety-verification pipeline.

Nothing in this package imports dagster: every stage is plain functions over polars frames,
files and DuckDB, so it can be tested and reused from a notebook. `dagster_project` wires it.
"""
