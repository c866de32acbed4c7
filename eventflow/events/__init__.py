"""Wire models of the durable-execution API, history events, and the invocation's event log."""
