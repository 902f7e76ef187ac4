"""The web face of the archive: the same services as the CLI behind roles, masking and an access register.

`app.create_app(root)` builds the Starlette application; `archive serve` runs it. Pages live in `pages/`, one
module per family, each route declared with the action it needs (`permissions.ACTIONS`)."""
