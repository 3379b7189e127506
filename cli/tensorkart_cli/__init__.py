"""The `tensorkart` command line: one entry point for the whole system."""
