"""Training runs: data loading, runtime choices, the fit loop (and a fused JAX epoch),
run-folder pictures.
"""
