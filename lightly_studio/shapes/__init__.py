"""Pure, database-free shape helpers: the row-wise RLE codec and the box/polygon size rules.

Anyone may import these (services, store, core); they touch neither the database nor core.
"""
