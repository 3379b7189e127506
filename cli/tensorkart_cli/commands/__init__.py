"""One module per `tensorkart` command (group); heavy imports stay inside the functions."""
