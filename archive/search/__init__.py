"""Full-text search over the archive. Callers use `engine.SearchIndex`; Whoosh stays behind it."""
