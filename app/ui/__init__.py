"""Qt widgets: they show state and emit intents, no product rules inside."""
