"""The playground: a Textual app over the engine (the only package that imports Textual).

Design rules for this package:

- ``app.py`` keeps what outlives a screen (settings, themes, keymap, the engine load); ``MainScreen`` is the hub.
- A compound widget owns its concern, state and workers (``ToolsPane``, ``ServersPane``); state goes down by
  ``data_bind``, requests go up as messages nested on the widget that posts them.
- ``keys.COMMANDS`` is the one source of keys, footer labels, the palette and the help; closed sets are
  ``Literal`` types in ``ui_types`` and their dispatch ends with ``assert_never``.
- Code runs only through ``Workspace.run`` (it records the history); the sandbox state is pushed by the executor.
- Nothing here imports the engine before the first frame: engine types only under ``TYPE_CHECKING``.
- Text from outside (sandbox output, values, tool results, agents' code, server logs) passes
  ``formatting.safe`` before a widget shows it: Textual sends an escape character in widget text to the terminal.
- A screen's own state is ``var`` (a ``reactive`` on a screen repaints all of it on every change); lists redrawn
  per key press render on the line API (``ToolList``).
"""
