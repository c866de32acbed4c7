"""Side-by-side benchmarks of eventflow and the official AWS durable-execution Python SDK.

Run everything with ``python -m benchmarks`` (``--quick`` for a fast pass, ``--help`` for options); profile
eventflow's hot paths with ``python -m benchmarks.profile``. Both SDKs run the same workflows in one
process, their repetitions interleaved so that machine noise hits both alike, against services that cost
(almost) nothing, so what is measured is the SDK itself.

The official SDK (``aws-durable-execution-sdk-python`` and its testing library) is optional: install the
``bench`` extra to compare against it; without it the eventflow side still runs.
"""
