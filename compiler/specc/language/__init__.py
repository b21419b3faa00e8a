"""The spec language: YAML read with positions, the Pydantic schema and value types,
Keras objects by name or configured, error messages, the published JSON Schema.
"""
