"""The local Argilla deployment: our SQL search backend, the ASGI app that registers it, and bootstrap."""
