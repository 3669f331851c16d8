"""Saved snippets, run history and Agent Skills export.

Code that worked once is kept as a named, parameterised snippet (one readable
``.py`` file each), every run is recorded in the history, and a snippet can be
exported as an Agent Skill folder that an agent framework loads and runs.
"""

from .analysis import ToolUse, free_names, used_tools
from .history import RunHistory, RunRecord
from .model import Snippet, SnippetError, SnippetParam, check_description, check_name, suggest_name
from .skills import export_skill, import_skill
from .store import SnippetStore

__all__ = [
    "RunHistory",
    "RunRecord",
    "Snippet",
    "SnippetError",
    "SnippetParam",
    "SnippetStore",
    "ToolUse",
    "check_description",
    "check_name",
    "export_skill",
    "free_names",
    "import_skill",
    "suggest_name",
    "used_tools",
]
