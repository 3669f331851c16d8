"""Type checks of user code against the generated bindings, before anything runs.

:class:`~.checker.CodeChecker` keeps one ty language server warm (:mod:`.lsp`)
and asks it for the diagnostics of an in-memory document after each edit;
:mod:`.calls` adds the bindings' own checks (missing required arguments, the
right name for a wrong keyword) from :mod:`.bindings_index`; every finding is a
:class:`~.diagnostic.Diagnostic` with 1-based positions of the code as written.
"""
