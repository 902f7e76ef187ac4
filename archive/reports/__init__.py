"""What QA managers read: the monthly statistics, trends, and the register as a spreadsheet. Reports read the
register and the record folders (never the search index) and write nothing into the archive root."""
