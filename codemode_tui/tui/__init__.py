"""The playground: a Textual app over the engine (the only package that imports Textual)."""
