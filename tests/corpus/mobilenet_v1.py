"""MobileNet (v1) from keras.applications, untrained (a plain chain of depthwise blocks).

Source: keras-team/keras keras/src/applications/mobilenet.py, called as users call it:
        ``keras.applications.MobileNet(weights=None)`` (224x224x3, alpha 1.0, 1000 classes).
Copied: the call. keras.applications does not compile its models; ``build`` returns it
uncompiled. ``weights=None``: nothing is downloaded.
"""

import keras


def build() -> keras.Model:
    return keras.applications.MobileNet(weights=None)
