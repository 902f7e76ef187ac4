"""Personal data of complainants: what is personal, and how it is shown to those without the right to see it."""
