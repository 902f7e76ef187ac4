"""The web page's users: their passwords (a memory-hard hash) and the store they live in (users/users.json)."""
