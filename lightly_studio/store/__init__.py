"""The only code that writes SQL over our schema: one module per entity, one write path each.

Callers pass the connection (``db.get_connection()``) and own the transaction
(``db.transaction()``); store functions run statements and return polars frames, ids or
plain values. Nothing above this layer executes SQL (``query/`` compiles the DSL into SQL
fragments that store runs). See docs/architecture.md.
"""
