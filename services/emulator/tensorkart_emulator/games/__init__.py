"""Per-game tables of named RDRAM addresses (JSON), each address with its source."""
