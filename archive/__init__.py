"""Complaint records archive: controlled, signed, searchable complaint files under SOP GL-004."""

__version__ = "0.1.0"
