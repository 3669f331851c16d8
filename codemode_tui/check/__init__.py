"""Type checks of user code against the generated bindings, before anything runs.

So far this holds the warm language-server client (:mod:`.lsp`) that the checker
is built on: one server process kept running, asked for the diagnostics of an
in-memory document after each edit.
"""
