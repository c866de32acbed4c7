"""One module per durable construct, each a generator plan over `ExecutionState` (see `core.effects`)."""
