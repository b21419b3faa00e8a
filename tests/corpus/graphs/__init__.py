"""Published Keras models that branch or merge (residuals, U-Net skips, two inputs)."""
