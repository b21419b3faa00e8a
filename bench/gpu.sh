#!/usr/bin/env bash
# The GPU figures in docs/training.md: run on a machine with JAX and a GPU, no TensorFlow, where
# keras/namex/optree/pydantic wheels sit in .whl/ and MNIST in .devdata/mnist.npz (both
# git-ignored; see docs/training.md, "Training speed against hand-written Keras"). Results land in $OUT (default ./gpu-out).
set -uo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
PY=${PY:-python3}
if [ -z "${SKIP_INSTALL:-}" ]; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site:$PWD/compiler KERAS_BACKEND=jax PYTHONUNBUFFERED=1
DATA=${DATA:-.devdata/mnist.npz}
E1=${E1:-15} E2=${E2:-6} R=${R:-2}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
$PY -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"

# 1. The benchmark: baseline script vs specc train (runtime auto = fused loop on a jax GPU),
#    batch 64, 15 epochs, test accuracy tracked per epoch, alternating, 2 repeats.
$PY bench/train_speed.py --data $DATA --epochs $E1 --batch-size 64 --track --repeats $R \
  --specc-args "${MAIN_ARGS:-}" --json "$OUT/bench_fused.json" 2>&1 | tee "$OUT/bench_fused.log"

# 2. What else was tried: Keras' own fit loop with steps_per_execution 128 (runtime.loop: fit).
$PY bench/train_speed.py --data $DATA --epochs $E2 --batch-size 64 --repeats 1 \
  --specc-args "--loop fit" 2>&1 | tail -4 | tee "$OUT/bench_fit.log"

# 3. The blog spec as written (15 epochs, batch 128), three seeds.
for seed in 1 2 3; do
  $PY -m specc train specs/mnist_cnn.yaml --data $DATA --seed $seed --output-dir /tmp/seed$seed ${SEED_ARGS:-} \
    2>&1 | tail -2
  cp /tmp/seed$seed/metrics.json "$OUT/seed$seed.json"
done
