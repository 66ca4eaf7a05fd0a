"""Per-kind rules of the API: defaulting, validation, immutability, deletion, table columns."""
