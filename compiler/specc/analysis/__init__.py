"""Static analysis: the resolved graph (names, shapes, parameters as Keras computes them)
and the cross-field checks; ``pipeline`` runs load -> schema -> graph -> checks.
"""
