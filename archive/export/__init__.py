"""Sinks that hand records to someone outside the archive: the inspector's dossier (a PDF and a BagIt bag)."""
