"""MobileNetV2 from keras.applications, untrained (inverted residual blocks: Add merges).

Source: keras-team/keras keras/src/applications/mobilenet_v2.py, called as users call it:
        ``keras.applications.MobileNetV2(weights=None)`` (224x224x3, alpha 1.0, 1000 classes).
Copied: the call. keras.applications does not compile its models; ``build`` returns it
uncompiled. ``weights=None``: nothing is downloaded.
"""

import keras


def build() -> keras.Model:
    return keras.applications.MobileNetV2(weights=None)
