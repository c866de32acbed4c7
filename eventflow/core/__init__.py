"""The sans-I/O core: replay, operation plans and checkpoint batching. Nothing in here does I/O.

Operation logic is written once, as generator *plans* that yield effects (`effects.py`); the sync
front-end (`eventflow.context`) and the asyncio one (`eventflow.aio`) each interpret those effects.
"""
