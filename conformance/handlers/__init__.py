"""One eventflow handler per conformance requirement, grouped by the suite's categories."""
