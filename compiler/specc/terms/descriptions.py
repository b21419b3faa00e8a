"""What each layer, Keras object and argument is, in one line, for the JSON Schema.

Editors show these on hover (yaml-language-server reads ``description``). They are kept
here, one table, rather than on every declaration: most arguments mean the same in every
layer that takes them (``padding``, ``kernel_initializer``, ``seed``), and the Keras
objects are declared as tables too. Read only when the JSON Schema is built (``specc
schema``), never by ``specc validate``. A test walks the published schema and fails on any
argument without a description, any type without a one-line summary, and any entry here
that describes nothing.

Arguments are looked up most specific first: ``KIND.Type.argument``, ``KIND.argument``,
``argument``, where KIND is ``layers``, ``optimizers``, ``callbacks``, a Keras object
module (``losses``, ``metrics``, ``initializers``, ``regularizers``, ``constraints``,
``optimizers.schedules``) or ``spec`` (the spec's own sections).
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

POOL_STRIDES = "Step of the window (null: pool_size, so windows do not overlap)."

SUMMARIES: dict[str, str] = {
    # ------------------------------------------------------------------------- layers
    "layers.Dense": "Fully connected layer: activation(x @ kernel + bias) on the last axis.",
    "layers.EinsumDense": "A kernel contracted with the input by an einsum equation.",
    "layers.Embedding": "Maps integer token ids to learned dense vectors of size output_dim.",
    "layers.Identity": "Passes its input through unchanged (a placeholder).",
    "layers.Activation": "Applies an activation function elementwise.",
    "layers.ReLU": "Rectified linear unit, with an optional cap, threshold and leak.",
    "layers.LeakyReLU": "ReLU that lets negative inputs through scaled by negative_slope.",
    "layers.ELU": "Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise.",
    "layers.Softmax": "Softmax along an axis: outputs are positive and sum to 1.",
    "layers.PReLU": "Leaky ReLU whose negative slopes are learned.",
    "layers.Conv1D": "1D convolution over steps (temporal convolution).",
    "layers.Conv2D": "2D convolution over images (spatial convolution).",
    "layers.Conv3D": "3D convolution over volumes (spatial convolution over depth too).",
    "layers.Conv1DTranspose": "Transposed 1D convolution: upsamples steps by its strides.",
    "layers.Conv2DTranspose": "Transposed 2D convolution (deconvolution): upsamples images.",
    "layers.Conv3DTranspose": "Transposed 3D convolution: upsamples volumes.",
    "layers.DepthwiseConv1D": "1D convolution applied to each input channel separately.",
    "layers.DepthwiseConv2D": "2D convolution applied to each input channel separately.",
    "layers.SeparableConv1D": "Depthwise 1D convolution, then a pointwise (1x1) one to filters.",
    "layers.SeparableConv2D": "Depthwise 2D convolution, then a pointwise (1x1) one to filters.",
    "layers.MaxPooling1D": "Maximum over windows of steps (downsamples by pool_size).",
    "layers.AveragePooling1D": "Average over windows of steps (downsamples by pool_size).",
    "layers.MaxPooling2D": "Maximum over windows of rows and columns (downsamples images).",
    "layers.AveragePooling2D": "Average over windows of rows and columns (downsamples images).",
    "layers.MaxPooling3D": "Maximum over 3D windows (downsamples volumes).",
    "layers.AveragePooling3D": "Average over 3D windows (downsamples volumes).",
    "layers.GlobalMaxPooling1D": "Maximum over all steps: one value per channel.",
    "layers.GlobalAveragePooling1D": "Average over all steps: one value per channel.",
    "layers.GlobalMaxPooling2D": "Maximum over all rows and columns: one value per channel.",
    "layers.GlobalAveragePooling2D": "Average over all rows and columns: one value per channel.",
    "layers.GlobalMaxPooling3D": "Maximum over the whole volume: one value per channel.",
    "layers.GlobalAveragePooling3D": "Average over the whole volume: one value per channel.",
    "layers.BatchNormalization": "Normalises each feature with batch statistics in training, "
    "moving averages at inference.",
    "layers.LayerNormalization": "Normalises each sample over its features (axis).",
    "layers.GroupNormalization": "Normalises each sample over groups of channels.",
    "layers.UnitNormalization": "Scales each sample to unit L2 norm along axis.",
    "layers.RMSNormalization": "Divides each sample by its root mean square along axis, then "
    "multiplies by a learned scale.",
    "layers.Dropout": "Sets a random fraction rate of inputs to 0 in training.",
    "layers.SpatialDropout1D": "Dropout of whole channels of a sequence, in training.",
    "layers.SpatialDropout2D": "Dropout of whole feature maps of an image, in training.",
    "layers.SpatialDropout3D": "Dropout of whole feature maps of a volume, in training.",
    "layers.GaussianNoise": "Adds zero-centred Gaussian noise in training (a regulariser).",
    "layers.GaussianDropout": "Multiplies inputs by 1-centred Gaussian noise in training.",
    "layers.AlphaDropout": "Dropout that keeps the mean and variance of SELU activations.",
    "layers.ActivityRegularization": "Adds an L1/L2 penalty on its input to the loss; "
    "passes the input on.",
    "layers.Flatten": "Flattens all non-batch axes into one.",
    "layers.Reshape": "Reshapes the non-batch axes to target_shape.",
    "layers.Permute": "Reorders the non-batch axes.",
    "layers.RepeatVector": "Repeats a vector n times, adding a steps axis.",
    "layers.UpSampling1D": "Repeats each step size times.",
    "layers.UpSampling2D": "Upsamples images by repeating (or interpolating) rows and columns.",
    "layers.UpSampling3D": "Upsamples volumes by repeating along each spatial axis.",
    "layers.ZeroPadding1D": "Adds zeros at the start and end of the steps axis.",
    "layers.ZeroPadding2D": "Adds rows and columns of zeros around images.",
    "layers.ZeroPadding3D": "Adds zeros around volumes along each spatial axis.",
    "layers.Cropping1D": "Removes steps at the start and end of sequences.",
    "layers.Cropping2D": "Removes rows and columns at the edges of images.",
    "layers.Cropping3D": "Removes slices at the edges of volumes.",
    "layers.SimpleRNN": "Fully connected recurrent layer: the output is fed back as input.",
    "layers.LSTM": "Long short-term memory recurrent layer (Hochreiter and Schmidhuber, 1997).",
    "layers.GRU": "Gated recurrent unit layer (Cho et al., 2014).",
    "layers.ConvLSTM1D": "LSTM whose input and recurrent transforms are 1D convolutions.",
    "layers.ConvLSTM2D": "LSTM whose input and recurrent transforms are 2D convolutions.",
    "layers.Bidirectional": "Runs a recurrent layer forwards and backwards and merges both.",
    "layers.TimeDistributed": "Applies a layer to every time step (axis 1) of its input.",
    "layers.MultiHeadAttention": "Multi-head attention (Vaswani et al., 2017): query, value "
    "and optional key inputs.",
    "layers.Attention": "Dot-product (Luong) or additive (Bahdanau) attention over a query "
    "and a value input.",
    "layers.Add": "Elementwise sum of its inputs (a residual connection).",
    "layers.Subtract": "Elementwise difference of its two inputs: first minus second.",
    "layers.Multiply": "Elementwise product of its inputs.",
    "layers.Average": "Elementwise mean of its inputs.",
    "layers.Maximum": "Elementwise maximum of its inputs.",
    "layers.Minimum": "Elementwise minimum of its inputs.",
    "layers.Concatenate": "Joins its inputs along an axis.",
    "layers.Dot": "Dot product of two inputs along the given axes.",
    "layers.CustomScaleLayer": "InceptionResNetV2's scaled residual: the first input plus "
    "the second times scale (a Keras-internal class).",
    "layers.Rescaling": "Scales and shifts its input: x * scale + offset (pixels to [0, 1]).",
    "layers.Resizing": "Resizes images to height x width.",
    "layers.CenterCrop": "Crops the central height x width window of images.",
    "layers.RandomCrop": "Crops a random height x width window in training.",
    "layers.RandomFlip": "Flips images at random in training (data augmentation).",
    "layers.RandomRotation": "Rotates images by a random angle in training.",
    "layers.RandomZoom": "Zooms images in or out at random in training.",
    "layers.RandomTranslation": "Shifts images by a random offset in training.",
    "layers.RandomContrast": "Changes the contrast of images by a random factor in training.",
    "layers.Normalization": "Standardises features: (x - mean) / sqrt(variance).",
    "layers.StringLookup": "Maps strings to indices in a vocabulary (or to one-hot, "
    "multi-hot, count or tf-idf vectors).",
    "layers.IntegerLookup": "Maps integers to indices in a vocabulary (or to one-hot, "
    "multi-hot, count or tf-idf vectors).",
    "layers.TextVectorization": "Turns text into token indices or multi-hot, count or tf-idf "
    "vectors (standardise, split, n-grams, look up).",
    "layers.Hashing": "Hashes strings or integers into num_bins bins.",
    "layers.HashedCrossing": "Crosses two categorical features and hashes each pair into "
    "num_bins bins.",
    "layers.CategoryEncoding": "Encodes integer indices below num_tokens as one-hot, multi-hot "
    "or count vectors.",
    "layers.Discretization": "Buckets numbers by bin boundaries (given, or learned by adapt) "
    "into indices or one-hot vectors.",
    "layers.Sequential": "A stack of layers used as one layer.",
    # ------------------------------------------------------ layers of keras.applications
    "layers.LayerScale": "Multiplies each channel by a learned scale (ConvNeXt; Keras keeps it "
    "in keras.src.applications.convnext).",
    "layers.StochasticDepth": "Drops a residual branch for whole samples in training "
    "(ConvNeXt; keras.src.applications.convnext).",
    # --------------------------------------------------------------------- operations
    "ops.Add": "x1 + x2, elementwise; operands broadcast (a residual sum; x + 3.0).",
    "ops.Subtract": "x1 - x2, elementwise (1.0 - gate: a constant on the left).",
    "ops.Multiply": "x1 * x2, elementwise (a gate; x * (1 / 6)).",
    "ops.Divide": "keras.ops.divide(x1, x2), elementwise.",
    "ops.TrueDivide": "x1 / x2, elementwise: the operation Python's / records.",
    "ops.Power": "x1 ** x2, elementwise.",
    "ops.Maximum": "The larger of x1 and x2, elementwise.",
    "ops.Minimum": "The smaller of x1 and x2, elementwise.",
    "ops.Negative": "-x, elementwise.",
    "ops.Clip": "x limited to [x_min, x_max], elementwise.",
    "ops.Relu": "max(x, 0), elementwise.",
    "ops.Relu6": "min(max(x, 0), 6), elementwise (MobileNets).",
    "ops.Sigmoid": "1 / (1 + exp(-x)), elementwise.",
    "ops.HardSigmoid": "A piecewise linear sigmoid, elementwise.",
    "ops.HardSilu": "Hard swish, x * hard_sigmoid(x) (MobileNetV3); also op: hard_swish.",
    "ops.Silu": "Swish, x * sigmoid(x); also op: swish.",
    "ops.Gelu": "Gaussian error linear unit (tanh approximation unless approximate: false).",
    "ops.Tanh": "Hyperbolic tangent, elementwise.",
    "ops.Softmax": "Softmax along axis: positive values that sum to 1.",
    "ops.Mean": "The mean over axis (axis: [1, 2] is a global average pool).",
    "ops.Sum": "The sum over axis.",
    "ops.Max": "The largest value over axis.",
    "ops.Min": "The smallest value over axis.",
    "ops.Concatenate": "Tensors joined along an existing axis: keras.ops.concatenate([a, b], axis).",
    "ops.Stack": "Tensors of one shape joined along a new axis.",
    "ops.Split": "A tensor cut along axis into pieces: several outputs (split.0, split.1, ...).",
    "ops.Reshape": "The values in a new shape, the batch axis included (one -1 takes the rest).",
    "ops.Transpose": "The axes in a new order.",
    "ops.ExpandDims": "A new axis of size 1.",
    "ops.Squeeze": "Axes of size 1 removed.",
    "ops.Matmul": "The matrix product over the last two axes; the axes before them broadcast.",
    "ops.Einsum": "Einstein summation over the inputs ('bij,bjk->bik').",
    "ops.ExtractPatches": "keras.ops.image.extract_patches: the image cut into patches, each "
    "flattened into channels (ViT).",
    "ops.Resize": "keras.ops.image.resize: images to a new height and width.",
    "ops.GetItem": "x[key]: items, slices and new axes of a tensor ('[:, 0]', '[..., ::-1]').",
    "ops.Cast": "keras.ops.cast(x, dtype): the values in another dtype.",
    "ops.Square": "x * x, elementwise.",
    "ops.Sqrt": "The square root, elementwise.",
    "ops.Exp": "e ** x, elementwise.",
    "ops.Log": "The natural logarithm, elementwise.",
    "ops.Absolute": "|x|, elementwise; also op: abs.",
    "ops.Sign": "-1, 0 or 1 by the sign of x, elementwise.",
    "ops.Floor": "The largest integer not above x, elementwise.",
    "ops.Round": "x rounded to decimals places, elementwise.",
    "ops.Erf": "The error function, elementwise (keras.ops.erf).",
    "ops.LogSoftmax": "log(softmax(x)) along axis, computed stably.",
    "ops.Argmax": "The index of the largest value along axis: int32 indices.",
    "ops.Argmin": "The index of the smallest value along axis: int32 indices.",
    "ops.Flip": "The values in reverse order along axis (every axis when none).",
    "ops.Cumsum": "Running sums along axis (of all values flattened when none).",
    "ops.Normalize": "x divided by its norm along axis (L2 by default): unit vectors.",
    "ops.OnesLike": "Ones in the operand's shape (positions from token ids, with cumsum).",
    # ------------------------------------------------------------------------- losses
    "losses.BinaryCrossentropy": "Cross-entropy for binary (0/1) labels.",
    "losses.BinaryFocalCrossentropy": "Binary cross-entropy that down-weights easy examples "
    "(focal loss).",
    "losses.CategoricalCrossentropy": "Cross-entropy for one-hot labels.",
    "losses.CategoricalFocalCrossentropy": "Categorical cross-entropy that down-weights easy "
    "examples (focal loss).",
    "losses.SparseCategoricalCrossentropy": "Cross-entropy for integer class labels.",
    "losses.CategoricalHinge": "Hinge loss for one-hot labels (multi-class SVM).",
    "losses.Hinge": "Hinge loss: mean of max(1 - y_true * y_pred, 0), labels -1/1.",
    "losses.SquaredHinge": "Mean of the squared hinge max(1 - y_true * y_pred, 0)^2.",
    "losses.CosineSimilarity": "Negative cosine similarity of labels and predictions.",
    "losses.Huber": "Quadratic for small errors, linear beyond delta (robust to outliers).",
    "losses.KLDivergence": "Kullback-Leibler divergence of predictions from labels.",
    "losses.LogCosh": "Mean of log(cosh(error)): like MSE for small errors, MAE for large.",
    "losses.Poisson": "Poisson loss: mean of y_pred - y_true * log(y_pred).",
    "losses.MeanAbsoluteError": "Mean of the absolute errors.",
    "losses.MeanAbsolutePercentageError": "Mean absolute error as a percentage of the label.",
    "losses.MeanSquaredError": "Mean of the squared errors.",
    "losses.MeanSquaredLogarithmicError": "Mean squared error of log(1 + value).",
    "losses.Dice": "Dice loss: 1 - Dice coefficient (overlap), for segmentation.",
    "losses.Tversky": "Tversky loss: a Dice loss weighting false positives and negatives.",
    # ------------------------------------------------------------------------ metrics
    "metrics.Accuracy": "How often predictions equal labels exactly.",
    "metrics.BinaryAccuracy": "How often thresholded predictions match binary labels.",
    "metrics.CategoricalAccuracy": "How often the top prediction matches a one-hot label.",
    "metrics.SparseCategoricalAccuracy": "How often the top prediction matches an integer label.",
    "metrics.TopKCategoricalAccuracy": "How often the one-hot label is among the top k "
    "predictions.",
    "metrics.SparseTopKCategoricalAccuracy": "How often the integer label is among the top k "
    "predictions.",
    "metrics.AUC": "Area under the ROC or precision-recall curve.",
    "metrics.Precision": "Fraction of predicted positives that are positive.",
    "metrics.Recall": "Fraction of positives that are predicted positive.",
    "metrics.TruePositives": "Count of true positives.",
    "metrics.TrueNegatives": "Count of true negatives.",
    "metrics.FalsePositives": "Count of false positives.",
    "metrics.FalseNegatives": "Count of false negatives.",
    "metrics.F1Score": "F1 score: harmonic mean of precision and recall.",
    "metrics.FBetaScore": "F-beta score: precision and recall weighted by beta.",
    "metrics.BinaryCrossentropy": "Mean binary cross-entropy, as a metric.",
    "metrics.CategoricalCrossentropy": "Mean categorical cross-entropy, as a metric.",
    "metrics.SparseCategoricalCrossentropy": "Mean sparse categorical cross-entropy, as a metric.",
    "metrics.MeanAbsoluteError": "Mean absolute error, as a metric.",
    "metrics.MeanAbsolutePercentageError": "Mean absolute percentage error, as a metric.",
    "metrics.MeanSquaredError": "Mean squared error, as a metric.",
    "metrics.MeanSquaredLogarithmicError": "Mean squared logarithmic error, as a metric.",
    "metrics.RootMeanSquaredError": "Square root of the mean squared error.",
    "metrics.LogCoshError": "Mean of log(cosh(error)), as a metric.",
    "metrics.CosineSimilarity": "Mean cosine similarity of labels and predictions.",
    "metrics.Hinge": "Mean hinge loss, as a metric.",
    "metrics.SquaredHinge": "Mean squared hinge loss, as a metric.",
    "metrics.CategoricalHinge": "Mean categorical hinge loss, as a metric.",
    "metrics.KLDivergence": "Mean Kullback-Leibler divergence, as a metric.",
    "metrics.Poisson": "Mean Poisson loss, as a metric.",
    "metrics.R2Score": "Coefficient of determination (R^2) of a regression.",
    "metrics.PearsonCorrelation": "Pearson correlation of labels and predictions.",
    "metrics.ConcordanceCorrelation": "Concordance correlation coefficient of labels and "
    "predictions.",
    # ------------------------------------------------------------ learning-rate schedules
    "optimizers.schedules.ExponentialDecay": "Learning rate times decay_rate every "
    "decay_steps steps.",
    "optimizers.schedules.InverseTimeDecay": "Learning rate / (1 + decay_rate * step / "
    "decay_steps).",
    "optimizers.schedules.PiecewiseConstantDecay": "A constant learning rate per interval of "
    "steps.",
    "optimizers.schedules.CosineDecay": "Learning rate following a cosine curve down to alpha, "
    "after an optional warm-up.",
    "optimizers.schedules.CosineDecayRestarts": "Cosine decay that restarts, with longer "
    "periods (SGDR).",
    "optimizers.schedules.PolynomialDecay": "Learning rate decaying polynomially to "
    "end_learning_rate.",
    # --------------------------------------------------------------------- initializers
    "initializers.Zeros": "Every weight starts at 0.",
    "initializers.Ones": "Every weight starts at 1.",
    "initializers.Constant": "Every weight starts at value.",
    "initializers.GlorotNormal": "Truncated normal with stddev sqrt(2 / (fan_in + fan_out)) "
    "(Xavier).",
    "initializers.GlorotUniform": "Uniform within +-sqrt(6 / (fan_in + fan_out)) (Xavier).",
    "initializers.HeNormal": "Truncated normal with stddev sqrt(2 / fan_in), for ReLU.",
    "initializers.HeUniform": "Uniform within +-sqrt(6 / fan_in), for ReLU.",
    "initializers.LecunNormal": "Truncated normal with stddev sqrt(1 / fan_in), for SELU.",
    "initializers.LecunUniform": "Uniform within +-sqrt(3 / fan_in).",
    "initializers.RandomNormal": "Normal distribution with the given mean and stddev.",
    "initializers.TruncatedNormal": "Normal distribution, values beyond 2 stddev redrawn.",
    "initializers.RandomUniform": "Uniform distribution between minval and maxval.",
    "initializers.Orthogonal": "A random orthogonal matrix (times gain).",
    "initializers.Identity": "The identity matrix (times gain), for 2D weights.",
    "initializers.VarianceScaling": "Distribution scaled to the weight's fan-in/fan-out.",
    # ----------------------------------------------------------- regularizers, constraints
    "regularizers.L1": "Adds l1 * sum(abs(w)) to the loss.",
    "regularizers.L2": "Adds l2 * sum(w^2) to the loss (weight decay).",
    "regularizers.L1L2": "Adds l1 * sum(abs(w)) + l2 * sum(w^2) to the loss.",
    "regularizers.OrthogonalRegularizer": "Pushes the weight's rows or columns to be orthogonal.",
    "constraints.MaxNorm": "Rescales each weight vector whose norm exceeds max_value.",
    "constraints.MinMaxNorm": "Keeps each weight vector's norm within [min_value, max_value].",
    "constraints.NonNeg": "Sets negative weights to 0.",
    "constraints.UnitNorm": "Rescales each weight vector to unit norm.",
    # ----------------------------------------------------------- optimizers, callbacks
    "optimizers.SGD": "Stochastic gradient descent, with optional (Nesterov) momentum.",
    "optimizers.RMSprop": "Divides the gradient by a moving root mean square of gradients.",
    "optimizers.Adam": "Adam: adaptive moment estimation (Kingma and Ba, 2014).",
    "optimizers.AdamW": "Adam with decoupled weight decay (Loshchilov and Hutter, 2017).",
    "optimizers.Adamax": "Adam variant based on the infinity norm.",
    "optimizers.Nadam": "Adam with Nesterov momentum.",
    "optimizers.Adagrad": "Per-parameter learning rates scaled by past squared gradients.",
    "optimizers.Adadelta": "Adagrad variant with a moving window of gradient updates.",
    "callbacks.EarlyStopping": "Stops training when a monitored quantity stops improving.",
    "callbacks.ReduceLROnPlateau": "Reduces the learning rate when a monitored quantity stops "
    "improving.",
    # -------------------------------------------------------------------- spec sections
    "spec.Spec": "A specc model spec: the model, its data, and how to compile and train it.",
    "spec.Model": "The model: its input(s), its layers in order, and its outputs.",
    "spec.Compile": "model.compile: optimizer, loss and metrics.",
    "spec.Training": "model.fit: epochs, batch size, validation and callbacks.",
    "spec.Data": "The dataset and how its arrays are prepared for training.",
    "spec.Runtime": "How training is run (backend, XLA, loop); never what it computes.",
    "spec.Regularizer": "A regularizer as {l1: ..., l2: ...} (L1L2).",
    "spec.ReshapeStep": "Reshapes each image, e.g. {reshape: [28, 28, 1]}.",
    "spec.CastStep": "Converts the images to a float type, e.g. {cast: float32}.",
    "spec.DivideStep": "Divides the pixel values, e.g. {divide: 255}.",
    "spec.PadStep": "Pads or cuts word-id lists to one length, e.g. {pad: 200}.",
    "spec.OneHotStep": "One-hot encodes integer labels, e.g. {one_hot: 10}.",
}
"""``KIND.Type`` -> what the type is, in one line."""


ARGUMENTS: dict[str, str] = {
    # --------------------------------------------------------- every layer, every object
    "layers.name": "The layer's name in the model (Keras' default: the class name in "
    "snake_case, numbered).",
    "layers.trainable": "false freezes the layer's weights (they count as non-trainable).",
    "name": "The name Keras reports it under in logs and the training history.",
    "ops.op": "The keras.ops function this entry calls (Keras records it as a node).",
    "ops.name": "The operation's name in the model (Keras' default: its class name in "
    "snake_case, numbered with the layers').",
    "ops.value": "A constant last operand: {op: add, value: 3.0} is x + 3.0.",
    "ops.Clip.x_min": "The least value kept; smaller values become x_min.",
    "ops.Clip.x_max": "The largest value kept; larger values become x_max.",
    "ops.Gelu.approximate": "true: the tanh approximation; false: the exact erf form.",
    "ops.Softmax.axis": "The axis whose values sum to 1.",
    "ops.LogSoftmax.axis": "The axis whose exponentials sum to 1.",
    "ops.GetItem.key": "The index as Python writes it, brackets included: integers, slices "
    "(1:3, ::-1), ... and None, split by commas ('[:, 0]', '[..., 2]').",
    "ops.Cast.dtype": "The dtype of the result (int32 for indices, float32 for images).",
    "ops.Cumsum.dtype": "The dtype of the sums (none: the input's).",
    "ops.Argmax.axis": "The axis to search (the batch axis is 0); none: all values flattened.",
    "ops.Argmin.axis": "The axis to search (the batch axis is 0); none: all values flattened.",
    "ops.Flip.axis": "The axis, or list of axes, to reverse; none: every axis.",
    "ops.Cumsum.axis": "The axis to sum along; none: all values flattened into one axis.",
    "ops.Normalize.axis": "The axis whose norm becomes 1.",
    "ops.Normalize.order": "The norm's order (2: Euclidean, 1: sum of absolute values).",
    "ops.Normalize.epsilon": "Smallest norm divided by (none: Keras' epsilon).",
    "ops.Round.decimals": "Decimal places kept (negative: tens, hundreds).",
    "ops.Mean.axis": "The axis, or list of axes, to average over (the batch axis is 0); "
    "none: every axis, a scalar.",
    "ops.Sum.axis": "The axis, or list of axes, to sum over (the batch axis is 0); none: every "
    "axis, a scalar.",
    "ops.Max.axis": "The axis, or list of axes, to take the largest value over (the batch axis "
    "is 0); none: every axis.",
    "ops.Min.axis": "The axis, or list of axes, to take the smallest value over (the batch "
    "axis is 0); none: every axis.",
    "ops.keepdims": "Keep each reduced axis, with size 1, instead of dropping it.",
    "ops.Max.initial": "A floor under every result (none: no floor).",
    "ops.Min.initial": "A ceiling over every result (none: no ceiling).",
    "ops.Concatenate.axis": "The axis the sizes add up on (Keras' default 0 is the batch "
    "axis; -1: channels).",
    "ops.Stack.axis": "Where the new axis goes (Keras' default 0 is before the batch axis).",
    "ops.Split.indices_or_sections": "A number of equal sections, or the increasing indices to "
    "cut at.",
    "ops.Split.axis": "The axis to cut along (Keras' default 0 is the batch axis).",
    "ops.Reshape.newshape": "The new shape, the batch axis included: [-1, 64, 32] (one -1 takes "
    "what is left).",
    "ops.Transpose.axes": "Every axis (the batch axis is 0) in its new place; none reverses them.",
    "ops.ExpandDims.axis": "Where the new axis (or axes) of size 1 goes in the output.",
    "ops.Squeeze.axis": "The axis, or axes, of size 1 to remove; none: every axis of size 1.",
    "ops.Einsum.subscripts": "One term of letters per input, then -> and the output's letters: "
    "'bij,bjk->bik'; a-z and ....",
    "ops.ExtractPatches.size": "A patch's height and width: one int for both, or [h, w] (three "
    "sizes: 3D patches).",
    "ops.ExtractPatches.strides": "The step between patches; none: size (patches that do not "
    "overlap).",
    "ops.ExtractPatches.dilation_rate": "Spacing of a patch's pixels; above 1 needs strides 1.",
    "ops.padding": "valid: only whole patches; same: zeros around the image so every pixel "
    "starts one.",
    "ops.data_format": "channels_last (batch, height, width, channels) or channels_first; "
    "none: Keras' setting.",
    "ops.Resize.size": "The output's [height, width].",
    "ops.dtype": "The output's data type (none: the operand's).",
    # ------------------------------------------------------------- kernels and biases
    "units": "Size of the output's last axis (number of neurons).",
    "layers.activation": "Activation applied to the output (null: none, linear).",
    "layers.Activation.activation": "The activation function applied elementwise.",
    "use_bias": "Whether the layer adds a learned bias.",
    "kernel_initializer": "Initializer of the kernel weights.",
    "bias_initializer": "Initializer of the bias.",
    "kernel_regularizer": "Penalty on the kernel weights added to the loss, e.g. {l2: 0.01}.",
    "bias_regularizer": "Penalty on the bias added to the loss.",
    "activity_regularizer": "Penalty on the layer's output added to the loss.",
    "kernel_constraint": "Constraint applied to the kernel after each update, e.g. max_norm.",
    "bias_constraint": "Constraint applied to the bias after each update.",
    "equation": "Einsum equation of input, kernel and output: ab,bc->ac, ...b,bc->...c or "
    "ab...,bc->ac....",
    "layers.EinsumDense.output_shape": "Output sizes without the batch axis (and the axes "
    "... stands for); null: a size taken from the input.",
    "bias_axes": "Output letters of the equation that get a bias (null: no bias).",
    "input_dim": "Vocabulary size: token ids run from 0 to input_dim - 1.",
    "output_dim": "Size of each token's vector.",
    "embeddings_initializer": "Initializer of the embedding vectors.",
    "embeddings_regularizer": "Penalty on the embedding vectors added to the loss.",
    "embeddings_constraint": "Constraint applied to the embedding vectors after each update.",
    "mask_zero": "Treat id 0 as padding: later layers (RNNs) skip those steps; input_dim "
    "must then count it.",
    # ------------------------------------------------------------------ activations
    "max_value": "Largest output value (null: no cap).",
    "layers.ReLU.negative_slope": "Slope below threshold (0: plain ReLU).",
    "layers.LeakyReLU.negative_slope": "Slope for negative inputs: f(x) = negative_slope * x.",
    "threshold": "Inputs below it are set to 0 (or leak with negative_slope).",
    "layers.ELU.alpha": "Scale of the negative part: alpha * (exp(x) - 1) for x < 0.",
    "layers.Softmax.axis": "The axis the softmax normalises over.",
    "alpha_initializer": "Initializer of the learned slopes.",
    "alpha_regularizer": "Penalty on the learned slopes added to the loss.",
    "alpha_constraint": "Constraint applied to the learned slopes after each update.",
    "shared_axes": "Axes that share one slope, e.g. [1, 2]: one slope per channel of an image.",
    # ----------------------------------------------------------------- convolutions
    "filters": "Number of output channels (filters).",
    "kernel_size": "Size of the convolution window: one int for every axis, or one per axis.",
    "strides": "Step of the window: one int for every axis, or one per axis.",
    "layers.padding": "valid: no padding, the output shrinks; same: zero padding so the output "
    "is input / strides (rounded up).",
    "layers.Conv1DTranspose.padding": "valid or same: same makes the output input x strides; "
    "valid adds max(kernel_size - strides, 0).",
    "layers.Conv2DTranspose.padding": "valid or same: same makes the output input x strides; "
    "valid adds max(kernel_size - strides, 0).",
    "layers.Conv3DTranspose.padding": "valid or same: same makes the output input x strides; "
    "valid adds max(kernel_size - strides, 0).",
    "dilation_rate": "Spacing of the kernel's taps (atrous convolution); above 1 needs strides 1.",
    "groups": "Number of groups the input channels are split into, each convolved separately; "
    "it must divide filters and the input channels.",
    "output_padding": "Extra size added to one side of each output axis, less than the stride "
    "(null: inferred).",
    "depth_multiplier": "Output channels per input channel in the depthwise step.",
    "depthwise_initializer": "Initializer of the depthwise kernel.",
    "depthwise_regularizer": "Penalty on the depthwise kernel added to the loss.",
    "depthwise_constraint": "Constraint applied to the depthwise kernel after each update.",
    "pointwise_initializer": "Initializer of the pointwise (1x1) kernel.",
    "pointwise_regularizer": "Penalty on the pointwise (1x1) kernel added to the loss.",
    "pointwise_constraint": "Constraint applied to the pointwise (1x1) kernel after each update.",
    # ---------------------------------------------------------------------- pooling
    "pool_size": "Size of the pooling window: one int for every axis, or one per axis.",
    "layers.MaxPooling1D.strides": POOL_STRIDES,
    "layers.MaxPooling2D.strides": POOL_STRIDES,
    "layers.MaxPooling3D.strides": POOL_STRIDES,
    "layers.AveragePooling1D.strides": POOL_STRIDES,
    "layers.AveragePooling2D.strides": POOL_STRIDES,
    "layers.AveragePooling3D.strides": POOL_STRIDES,
    "keepdims": "Keep the pooled axes, with size 1, instead of dropping them.",
    # ---------------------------------------------------------------- normalization
    "layers.BatchNormalization.axis": "The features axis: one mean and variance per index on it "
    "(-1: channels last).",
    "layers.LayerNormalization.axis": "The axis or axes each sample is normalised over "
    "(-1: its features).",
    "layers.GroupNormalization.axis": "The channels axis, split into groups.",
    "layers.GroupNormalization.groups": "Number of groups of channels; it must divide the "
    "channels (-1: one per channel, instance normalisation).",
    "layers.UnitNormalization.axis": "The axis or axes along which each sample is scaled to "
    "unit L2 norm.",
    "layers.RMSNormalization.axis": "The axis the root mean square is taken over, with one "
    "learned scale per index on it.",
    "layers.RMSNormalization.epsilon": "Small value added to the mean square to avoid dividing "
    "by zero.",
    "layers.Concatenate.axis": "The axis the inputs are joined along; their other sizes must "
    "match.",
    "layers.Normalization.axis": "The axis or axes with their own mean and variance "
    "(-1: per feature; null: one for all).",
    "layers.momentum": "Momentum of the moving mean and variance used at inference.",
    "layers.epsilon": "Small value added to the variance to avoid dividing by zero.",
    "center": "Learn an offset (beta) added after normalising.",
    "layers.scale": "Learn a factor (gamma) multiplied after normalising.",
    "beta_initializer": "Initializer of the offset beta.",
    "gamma_initializer": "Initializer of the scale gamma.",
    "beta_regularizer": "Penalty on the offset beta added to the loss.",
    "gamma_regularizer": "Penalty on the scale gamma added to the loss.",
    "beta_constraint": "Constraint applied to the offset beta after each update.",
    "gamma_constraint": "Constraint applied to the scale gamma after each update.",
    "mean": "The mean to subtract: one value, or one per index of axis (null: learned by "
    "adapt on the training data).",
    "variance": "The variance to divide by (its square root): one value, or one per index of "
    "axis (null: learned by adapt).",
    "invert": "Undo the normalisation instead: x * sqrt(variance) + mean.",
    # ---------------------------------------------------------------------- lookup
    "layers.StringLookup.invert": "Map indices back to tokens instead (output_mode int only).",
    "layers.IntegerLookup.invert": "Map indices back to tokens instead (output_mode int only).",
    "layers.StringLookup.vocabulary": "The tokens, as a list or the path of a UTF-8 file of "
    "one token a line (relative to the spec's folder; read when the spec is validated); null: "
    "learned by adapt on the training data.",
    "layers.IntegerLookup.vocabulary": "The integer tokens, as a list or the path of a file "
    "of one a line (relative to the spec's folder); null: learned by adapt on the training "
    "data.",
    "layers.TextVectorization.vocabulary": "The words (or n-grams), as a list or the path of "
    "a UTF-8 file of one a line (relative to the spec's folder); null: learned by adapt.",
    "layers.max_tokens": "Most indices the vocabulary may make, the OOV and mask indices "
    "included (null: no limit); the width of the output with pad_to_max_tokens.",
    "layers.num_oov_indices": "Indices for tokens not in the vocabulary (hashed among them); "
    "0 makes an unknown token an error.",
    "layers.StringLookup.mask_token": "A token that means padding: index 0 in int mode "
    "(null: none).",
    "layers.IntegerLookup.mask_token": "An integer that means padding: index 0 in int mode "
    "(null: none).",
    "layers.StringLookup.oov_token": "The token an out-of-vocabulary index maps back to "
    "when inverting.",
    "layers.IntegerLookup.oov_token": "The integer an out-of-vocabulary index maps back to "
    "when inverting.",
    "layers.vocabulary_dtype": "The dtype of the integer tokens (Keras takes int64 only).",
    "layers.idf_weights": "Inverse document frequency of each vocabulary token, for "
    "output_mode tf_idf.",
    "layers.StringLookup.output_mode": "int: one index a token; one_hot, multi_hot, count, "
    "tf_idf: a vector as wide as the vocabulary.",
    "layers.IntegerLookup.output_mode": "int: one index a token; one_hot, multi_hot, count, "
    "tf_idf: a vector as wide as the vocabulary.",
    "layers.TextVectorization.output_mode": "int: a sequence of token indices; multi_hot, "
    "count, tf_idf: one vector as wide as the vocabulary per text.",
    "layers.Hashing.output_mode": "int: the bin index; one_hot, multi_hot, count: a vector of "
    "num_bins.",
    "layers.HashedCrossing.output_mode": "int: the bin index; one_hot: a vector of num_bins.",
    "layers.CategoryEncoding.output_mode": "one_hot: a vector per index; multi_hot: one per "
    "sample, 1 where an index occurs; count: how often each occurs.",
    "layers.Discretization.output_mode": "int: the bucket index; one_hot, multi_hot, count: "
    "a vector of the buckets.",
    "layers.pad_to_max_tokens": "Make a vector output max_tokens wide whatever the vocabulary "
    "size (the only way an adapted layer's width is known before training).",
    "layers.sparse": "Return a sparse tensor (TensorFlow back end only).",
    "layers.oov_method": "How out-of-vocabulary tokens share the OOV indices: floormod of "
    "the token, or its farmhash.",
    "layers.salt": "A seed for the hash (an integer, or a pair of them); null: unsalted.",
    "layers.encoding": "The text encoding of the strings (utf-8).",
    "layers.adapt_samples": "specc only: adapt on the first N training samples (default: the "
    "whole training split) when no vocabulary or bins are given.",
    "layers.TextVectorization.standardize": "How text is cleaned before splitting (null: "
    "not at all).",
    "layers.TextVectorization.split": "Split into words at whitespace, into characters, or "
    "not at all (null).",
    "layers.ngrams": "Also make n-grams up to this length, or of the lengths listed (null: "
    "words only).",
    "layers.output_sequence_length": "Pad or cut each text's indices to this length (null: "
    "the longest in the batch); int mode only.",
    "layers.ragged": "Return ragged sequences of indices instead of padded ones (int mode).",
    "layers.Hashing.num_bins": "The number of hash bins (the mask value, if any, takes bin 0).",
    "layers.HashedCrossing.num_bins": "The number of hash bins the crossed pairs fall into.",
    "layers.Discretization.num_bins": "The number of buckets adapt learns boundaries for "
    "(quantiles); give this or bin_boundaries.",
    "layers.mask_value": "A value that means padding, hashed to bin 0 (null: none).",
    "layers.num_tokens": "The number of distinct indices: inputs must lie in [0, num_tokens).",
    "layers.bin_boundaries": "Increasing boundaries: n of them make n + 1 buckets (null: "
    "learned by adapt, num_bins of them).",
    "layers.Discretization.epsilon": "The error tolerance of the quantiles adapt computes.",
    # --------------------------------------------------------------- regularization
    "layers.Dropout.rate": "Fraction of the inputs set to 0 in training (the rest are scaled by "
    "1 / (1 - rate)).",
    "layers.SpatialDropout1D.rate": "Fraction of the channels dropped, whole, in training.",
    "layers.SpatialDropout2D.rate": "Fraction of the feature maps dropped, whole, in training.",
    "layers.SpatialDropout3D.rate": "Fraction of the feature maps dropped, whole, in training.",
    "layers.GaussianDropout.rate": "Drop probability: the noise's stddev is "
    "sqrt(rate / (1 - rate)).",
    "layers.AlphaDropout.rate": "Fraction of the inputs dropped in training.",
    "layers.noise_shape": "Shape of the random mask, one entry per input axis: null takes the "
    "input's size, 1 shares one mask value along the axis ([null, 1, 1, 1]: whole samples).",
    "layers.GaussianNoise.stddev": "Standard deviation of the noise added in training.",
    "layers.seed": "Seed of the layer's randomness, for reproducible runs (null: random).",
    "layers.ActivityRegularization.l1": "L1 factor of the penalty on the input added to the loss.",
    "layers.ActivityRegularization.l2": "L2 factor of the penalty on the input added to the loss.",
    # -------------------------------------------------------------------- reshaping
    "target_shape": "The new shape without the batch axis; one -1 is inferred from the size.",
    "dims": "The new order of the non-batch axes, numbered from 1: [2, 1] swaps two axes.",
    "n": "How many times the input is repeated.",
    "layers.size": "Upsampling factor: one int for every axis, or one per axis.",
    "layers.UpSampling2D.interpolation": "nearest repeats rows and columns; bilinear (and "
    "others) interpolate.",
    "layers.ZeroPadding1D.padding": "Zeros added: one int for both ends, or [start, end].",
    "layers.ZeroPadding2D.padding": "Zeros added: one int for every side, [rows, cols], or "
    "[[top, bottom], [left, right]].",
    "layers.ZeroPadding3D.padding": "Zeros added: one int for every side, one per axis, or "
    "[before, after] per axis.",
    "layers.Cropping1D.cropping": "Steps removed: one int for both ends, or [start, end].",
    "cropping": "Amount removed: one int for both ends of every axis, one per axis, or "
    "[start, end] per axis.",
    # -------------------------------------------------------------------- recurrent
    "layers.SimpleRNN.units": "Size of the hidden state (the output's last axis).",
    "layers.LSTM.units": "Size of the hidden and cell states (the output's last axis).",
    "layers.GRU.units": "Size of the hidden state (the output's last axis).",
    "layers.SimpleRNN.activation": "Activation of the new state (tanh).",
    "layers.LSTM.activation": "Activation of the cell input and output (tanh).",
    "layers.GRU.activation": "Activation of the candidate state (tanh).",
    "layers.ConvLSTM1D.activation": "Activation of the cell input and output (tanh).",
    "layers.ConvLSTM2D.activation": "Activation of the cell input and output (tanh).",
    "recurrent_activation": "Activation of the gates (sigmoid).",
    "recurrent_initializer": "Initializer of the recurrent kernel (state to state).",
    "recurrent_regularizer": "Penalty on the recurrent kernel added to the loss.",
    "layers.dropout": "Fraction of the inputs dropped in training.",
    "layers.MultiHeadAttention.use_causal_mask": "An argument of the call, not the "
    "constructor: each position attends only to itself and those before it (a decoder's "
    "self-attention).",
    "layers.MultiHeadAttention.dropout": "Fraction of the attention weights dropped in training.",
    "layers.Attention.dropout": "Fraction of the attention weights dropped in training.",
    "recurrent_dropout": "Fraction of the recurrent state dropped in training (rules out the "
    "cuDNN kernel).",
    "return_sequences": "Output the state at every step, not only the last.",
    "return_state": "Also output the final state(s) after the output (LSTM: h and c).",
    "go_backwards": "Process the sequence backwards (and return the reversed sequence).",
    "stateful": "Carry each sample's final state into the next batch (needs a fixed batch size).",
    "unroll": "Unroll the loop: faster for short sequences, more memory; needs a known length.",
    "unit_forget_bias": "Add 1 to the forget gate's bias at initialisation.",
    "reset_after": "Apply the reset gate after the recurrent matrix product (true: the cuDNN "
    "form).",
    "use_cudnn": "Use the cuDNN kernel: auto where the arguments allow it, true to require it.",
    "layers.ConvLSTM1D.filters": "Number of channels of the state and output.",
    "layers.ConvLSTM2D.filters": "Number of channels of the state and output.",
    "layers.Bidirectional.layer": "The recurrent layer (SimpleRNN, LSTM, GRU) to run both ways.",
    "layers.TimeDistributed.layer": "The layer applied to each time step.",
    "merge_mode": "How the two directions' outputs combine: concat, sum, mul, ave (null: "
    "both, as a list).",
    "layers.Sequential.layers": "The layers of the stack, in order.",
    # -------------------------------------------------------------------- attention
    "num_heads": "Number of attention heads.",
    "key_dim": "Size of each head's query and key projections.",
    "value_dim": "Size of each head's value projection (null: key_dim).",
    "layers.MultiHeadAttention.output_shape": "Size(s) of the output's last axes (null: the "
    "query's last size).",
    "attention_axes": "Axes attention runs over (null: all but batch, heads and features).",
    "sliding_window": "Each query attends only to keys within sliding_window - 1 positions "
    "(null: all).",
    "flash_attention": "Use flash attention: true, false, or null (where the backend can).",
    "use_gate": "Add a gating branch: a sigmoid projection of the query scales the output.",
    "use_scale": "Learn a scalar that scales the attention scores.",
    "score_mode": "dot: dot-product scores (Luong); concat: tanh of their sum (Bahdanau).",
    # ---------------------------------------------------------------------- merging
    "axes": "The axis (or one axis per input) multiplied and summed over.",
    "layers.CustomScaleLayer.scale": "Factor the second input (the residual) is multiplied "
    "by before it is added to the first.",
    "normalize": "L2-normalise both inputs along axes first (the result is the cosine similarity).",
    # ---------------------------------------------------------------- preprocessing
    "layers.Rescaling.scale": "Factor the input is multiplied by (1/255 scales bytes to "
    "[0, 1]); a list: one per channel.",
    "offset": "Value added after scaling; a list: one per channel.",
    "height": "Height of the output, in pixels.",
    "width": "Width of the output, in pixels.",
    "interpolation": "How pixels are resampled: bilinear, nearest, ...",
    "crop_to_aspect_ratio": "Crop to the output's aspect ratio first, instead of distorting.",
    "pad_to_aspect_ratio": "Pad to the output's aspect ratio first, instead of distorting.",
    "layers.Resizing.fill_mode": "How the padding of pad_to_aspect_ratio is filled (constant).",
    "fill_mode": "How points outside the input are filled: reflect, wrap, constant or nearest.",
    "fill_value": "The value of points outside the input with fill_mode constant.",
    "antialias": "Use an antialiasing filter when downsampling.",
    "layers.RandomFlip.mode": "Which flips: horizontal, vertical or horizontal_and_vertical.",
    "layers.RandomRotation.factor": "Largest rotation as a fraction of a full turn (0.1: up to "
    "+-36 degrees); [low, high] for a range.",
    "height_factor": "Vertical shift as a fraction of the height: x for [-x, x], or [low, high].",
    "layers.RandomZoom.height_factor": "Vertical zoom as a fraction of the height: x for "
    "[-x, x] (negative zooms in), or [low, high].",
    "layers.RandomZoom.width_factor": "Horizontal zoom as a fraction of the width (null: the "
    "same as height, keeping the aspect ratio).",
    "width_factor": "Horizontal shift as a fraction of the width: x for [-x, x], or [low, high].",
    "layers.RandomContrast.factor": "Contrast is scaled by a random factor in "
    "[1 - factor, 1 + factor]; [lower, upper] for [1 - lower, 1 + upper].",
    "value_range": "The [min, max] of the input's pixel values (the output is clipped to it).",
    # ----------------------------------------------------- layers of keras.applications
    "init_values": "The value every scale starts at (ConvNeXt uses 1e-6).",
    "projection_dim": "Number of scales: the size of the input's last axis (or 1).",
    "drop_path_rate": "Probability of dropping the branch for a sample in training (kept "
    "samples are scaled by 1 / (1 - rate)).",
    # ------------------------------------------------------------------ optimizers
    "optimizers.learning_rate": "Step size: a number, or a schedule such as "
    "{type: ExponentialDecay, ...}.",
    "optimizers.weight_decay": "Decoupled weight decay applied to the weights at each step "
    "(null: none).",
    "clipnorm": "Clip each weight's gradient to this L2 norm.",
    "clipvalue": "Clip each gradient element to [-clipvalue, clipvalue].",
    "global_clipnorm": "Clip all gradients together to this global L2 norm.",
    "optimizers.SGD.momentum": "Momentum: the fraction of the previous update kept (0: plain SGD).",
    "nesterov": "Use Nesterov momentum.",
    "optimizers.RMSprop.rho": "Discount factor of the moving average of squared gradients.",
    "optimizers.RMSprop.momentum": "Momentum of the update (0: none).",
    "optimizers.epsilon": "Small constant added to the denominator for numerical stability.",
    "centered": "Divide by the gradients' estimated variance (centred) rather than their "
    "second moment.",
    "beta_1": "Decay rate of the moving average of gradients (first moment).",
    "beta_2": "Decay rate of the moving average of squared gradients (second moment).",
    "amsgrad": "Use the AMSGrad variant (the maximum of past second moments).",
    "initial_accumulator_value": "Starting value of the per-weight sums of squared gradients.",
    "optimizers.Adadelta.rho": "Decay rate of the moving averages of squared gradients and "
    "updates.",
    # ------------------------------------------------------------------- callbacks
    "monitor": "The logged quantity watched, e.g. val_loss or val_accuracy.",
    "min_delta": "Smallest change that counts as an improvement.",
    "callbacks.EarlyStopping.patience": "Epochs without improvement before training stops.",
    "callbacks.ReduceLROnPlateau.patience": "Epochs without improvement before the learning "
    "rate is reduced.",
    "callbacks.mode": "Whether improvement is a decrease (min) or increase (max); auto: from "
    "the monitored name.",
    "restore_best_weights": "At the end, restore the weights of the best epoch.",
    "start_from_epoch": "Epochs of warm-up before improvement is watched.",
    "callbacks.ReduceLROnPlateau.factor": "Factor the learning rate is multiplied by: "
    "new_lr = lr * factor.",
    "cooldown": "Epochs to wait after a reduction before watching again.",
    "min_lr": "Lowest learning rate it reduces to.",
    # -------------------------------------------------------------------- losses
    "from_logits": "Whether predictions are logits (no final sigmoid or softmax) rather than "
    "probabilities.",
    "label_smoothing": "Smooth the labels towards uniform by this fraction.",
    "losses.axis": "The axis of the classes (-1: the last).",
    "losses.Dice.axis": "The axes the overlap is summed over (null: all).",
    "losses.Tversky.axis": "The axes the overlap is summed over (null: all).",
    "losses.CosineSimilarity.axis": "The axis of the vectors compared.",
    "reduction": "How per-sample losses are reduced: sum_over_batch_size (the mean), sum, "
    "mean, mean_with_sample_weight or none.",
    "apply_class_balancing": "Weight positive examples by alpha and negative ones by 1 - alpha.",
    "losses.BinaryFocalCrossentropy.alpha": "Weight of the positive class with "
    "apply_class_balancing.",
    "losses.CategoricalFocalCrossentropy.alpha": "Weighting factor of the classes.",
    "gamma": "Focusing parameter: easy examples are down-weighted by (1 - p)^gamma.",
    "ignore_class": "A label whose samples are left out of the loss, e.g. padding (null: none).",
    "delta": "The error size where the loss turns from quadratic to linear.",
    "losses.Tversky.alpha": "Weight of false positives.",
    "losses.Tversky.beta": "Weight of false negatives.",
    # -------------------------------------------------------------------- metrics
    "metrics.BinaryAccuracy.threshold": "Predictions above it count as 1.",
    "k": "The label counts as found when among the k highest predictions.",
    "from_sorted_ids": "Predictions are already sorted top class ids, not scores.",
    "num_thresholds": "Number of thresholds used to approximate the curve.",
    "curve": "ROC (receiver operating characteristic) or PR (precision-recall).",
    "summation_method": "How the area is approximated: interpolation, minoring (lower bound) "
    "or majoring (upper bound).",
    "metrics.AUC.thresholds": "Explicit thresholds in [0, 1] (instead of num_thresholds).",
    "thresholds": "Threshold(s) above which a prediction counts as positive (null: 0.5).",
    "multi_label": "Multi-label data: one curve per label, then averaged.",
    "num_labels": "Number of labels with multi_label (null: from the first batch).",
    "top_k": "Only the k highest predictions count as positive (null: all above threshold).",
    "class_id": "Compute the metric for this one class (null: all classes).",
    "average": "How the per-class scores combine: micro, macro or weighted (null: one per class).",
    "metrics.F1Score.threshold": "Predictions above it count as 1 (null: the top class per "
    "sample).",
    "metrics.FBetaScore.threshold": "Predictions above it count as 1 (null: the top class per "
    "sample).",
    "metrics.FBetaScore.beta": "Weight of recall against precision (above 1 favours recall).",
    "class_aggregation": "How per-output scores combine: uniform_average or "
    "variance_weighted_average (null: one per output).",
    "num_regressors": "Number of independent variables, for the adjusted R^2 (0: plain R^2).",
    "metrics.axis": "The axis the metric is computed along (-1: the last).",
    # ----------------------------------------------------- learning-rate schedules
    "initial_learning_rate": "The learning rate at step 0.",
    "decay_steps": "Number of steps the decay is spread over.",
    "optimizers.schedules.ExponentialDecay.decay_rate": "Factor the rate is multiplied by "
    "every decay_steps steps.",
    "optimizers.schedules.InverseTimeDecay.decay_rate": "rate = initial / (1 + decay_rate * "
    "step / decay_steps).",
    "staircase": "Decay in steps (step // decay_steps) rather than smoothly.",
    "boundaries": "Steps at which the learning rate changes, increasing.",
    "values": "The learning rate of each interval: one more than boundaries.",
    "optimizers.schedules.alpha": "Lowest learning rate, as a fraction of initial_learning_rate.",
    "warmup_target": "Learning rate reached by a linear warm-up (null: no warm-up).",
    "warmup_steps": "Steps of linear warm-up before the decay.",
    "first_decay_steps": "Steps of the first decay period.",
    "t_mul": "Each period is t_mul times longer than the one before.",
    "m_mul": "Each restart begins at m_mul times the previous starting rate.",
    "end_learning_rate": "The learning rate after decay_steps.",
    "power": "Exponent of the polynomial (1: linear decay).",
    "cycle": "Past decay_steps, restart with a longer period instead of staying at the end rate.",
    # ---------------------------------------------------------------- initializers
    "value": "The value every weight starts at.",
    "initializers.mean": "Mean of the distribution.",
    "initializers.stddev": "Standard deviation of the distribution.",
    "minval": "Lower bound of the distribution.",
    "maxval": "Upper bound of the distribution.",
    "gain": "Factor the matrix is multiplied by.",
    "initializers.scale": "Factor the variance is multiplied by.",
    "initializers.mode": "Which size divides the variance: fan_in, fan_out or fan_avg.",
    "distribution": "The random distribution: truncated_normal, untruncated_normal or uniform.",
    "initializers.seed": "Seed of the random values (null: a new draw each time).",
    # ------------------------------------------------------ regularizers, constraints
    "l1": "L1 factor: adds l1 * sum(abs(w)) to the loss.",
    "l2": "L2 factor: adds l2 * sum(w^2) to the loss.",
    "regularizers.factor": "Strength of the penalty.",
    "regularizers.mode": "Which vectors are pushed to be orthogonal: rows or columns.",
    "constraints.max_value": "Largest norm allowed for each weight vector.",
    "min_value": "Smallest norm allowed for each weight vector.",
    "constraints.rate": "How far norms are moved to the range at each step (1: all the way).",
    "constraints.axis": "The axis (or axes) norms are computed along (Dense: 0, per unit).",
    # -------------------------------------------------------------------- sections
    "specc": "Version of the spec language (1).",
    "spec.Spec.description": "Free text about the spec.",
    "data": "The dataset and its preparation (for train and emit-code).",
    "model": "The model: input(s), layers and outputs.",
    "compile": "How the model is compiled: optimizer, loss, metrics.",
    "training": "How the model is trained: epochs, batch size, callbacks.",
    "runtime": "How training is run: backend, XLA, loop.",
    "layers": "The model's layers in order: each takes the output of the one before unless "
    "its inputs say otherwise.",
    "optimizer": "The optimizer, by name or as {type: Adam, ...}.",
    "weighted_metrics": "Metrics weighted by sample weights; for several outputs a mapping "
    "output name -> list.",
    "epochs": "Number of passes over the training data.",
    "validation_split": "Fraction of the training data held out for validation (the last "
    "samples, before shuffling).",
    "shuffle": "Shuffle the training data before each epoch.",
    "spec.seed": "Seeds Python, NumPy and the backend (keras.utils.set_random_seed) for a "
    "repeatable run.",
    "callbacks": "Callbacks run during training (EarlyStopping, ReduceLROnPlateau).",
    "dataset": "mnist or fashion_mnist (Keras' downloads), or npz: a local file given by path.",
    "preprocessing": "Steps applied to the arrays before training.",
    "reshape": "The new shape of each image, without the sample axis.",
    "cast": "The float type the images are converted to.",
    "divide": "The divisor of the pixel values (255 scales bytes to [0, 1]).",
    "spec.Mirrored.strategy": "mirrored: one replica per device of this machine "
    "(tf.distribute.MirroredStrategy).",
    "spec.MultiWorkerMirrored.strategy": "multi_worker_mirrored: replicas across machines "
    "(tf.distribute.MultiWorkerMirroredStrategy).",
    "spec.DataParallel.strategy": "data_parallel: one replica per device on the jax backend "
    "(keras.distribution.DataParallel).",
}
"""``KIND.Type.argument``, ``KIND.argument`` or ``argument`` -> what it is, in one line."""


def kind_and_key(cls: type) -> tuple[str, str]:
    """``(KIND, KIND.Type)`` of a declaration: ``("layers", "layers.Conv2D")``."""
    from specc.terms.objects import LOSS_AS_METRIC, KerasObject

    field = getattr(cls, "model_fields", {}).get("type")
    tags = typing.get_args(field.annotation) if field is not None else ()
    tag = tags[0] if len(tags) == 1 and isinstance(tags[0], str) else None
    if issubclass(cls, KerasObject):
        kind = cls.MODULE or "losses"  # a loss used as a metric: type losses.Name
        if tag and tag.startswith(LOSS_AS_METRIC):
            tag = tag[len(LOSS_AS_METRIC) :]
    else:  # a layer declaration says "layers" (LayerSpec.KIND), a section "spec"
        kind = getattr(cls, "KIND", "spec")
    return kind, f"{kind}.{tag or cls.__name__}"


def argument(kind: str, key: str, name: str) -> str | None:
    """The description of argument ``name`` of ``key``, most specific first."""
    for candidate in (f"{key}.{name}", f"{kind}.{name}", name):
        if candidate in ARGUMENTS:
            return ARGUMENTS[candidate]
    return None


def _keras_class(cls: type, kind: str, key: str) -> str:
    if kind == "layers":
        return "keras." + cls.KERAS_PATH  # type: ignore[attr-defined]  # every layer class declares KERAS_PATH (layers/base.py)
    return "keras." + key


def describe(schema: dict[str, Any], cls: type) -> None:
    """Fill in the summary of ``cls``'s JSON Schema and the descriptions of its arguments
    (what the declaration already says is kept), in place."""
    kind, key = kind_and_key(cls)
    if key in SUMMARIES:
        schema["description"] = SUMMARIES[key]
    elif cls.__doc__:  # a section: its docstring's first paragraph, on one line
        first = inspect.cleandoc(cls.__doc__).split("\n\n")[0]
        schema["description"] = " ".join(first.replace("``", "").split())
    for name, prop in schema.get("properties", {}).items():
        if "description" in prop:
            continue
        if name == "type" and "const" in prop:
            prop["description"] = f"The Keras class: {_keras_class(cls, kind, key)}."
            continue
        text = argument(kind, key, name)
        if text is not None:
            prop["description"] = text


def json_schema(cls: type, core_schema: Any, handler: Any) -> Any:
    """``__get_pydantic_json_schema__`` of the declarations: Pydantic's schema, described."""
    schema = handler(core_schema)
    describe(handler.resolve_ref_schema(schema), cls)
    return schema
