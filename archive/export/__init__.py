"""What leaves the archive for a reader outside it: dossier PDFs, bags, and the signatures on them."""
