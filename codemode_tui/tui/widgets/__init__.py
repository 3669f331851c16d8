"""One widget per module; the App composes them and owns their state."""
