"""A corpus of real published Keras models, each rebuilt by the code its source publishes.

One module per model, each with ``build() -> keras.Model``; ``graphs/`` holds the models that
branch or merge. ``make_expected`` writes what Keras says of each (``expected/``).
"""
