"""The terms a spec is written in, below both the language and the layer catalog.

``values`` (numeric and name types with Keras' bounds) and ``objects`` (losses, metrics,
schedules, initializers... by name or ``{type: ...}``): the schema and every layer
declaration use them, so they import neither.
"""
