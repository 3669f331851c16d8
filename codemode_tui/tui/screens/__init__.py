"""Modal screens: forms, confirmations and detail views on top of the main screen."""
