"""The store: the only package that touches SQL or blob files.

Every mutating operation returns change events; callers publish them after commit.
"""
