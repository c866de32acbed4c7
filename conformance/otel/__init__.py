"""The OpenTelemetry and telemetry-record conformance suites, run locally like the core suite."""
