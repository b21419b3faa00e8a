"""What a resolved spec becomes: a Keras model, a standalone script (Jinja), the summary
table; and the way back, a saved Keras model imported as a spec.
"""
