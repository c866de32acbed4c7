"""Run the AWS durable-execution conformance suite against eventflow on the local service."""
