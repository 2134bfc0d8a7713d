#!/bin/bash
# Submit the training array, then the report job that depends on it. Arguments go to run_all.py in both:
#   examples/slurm/submit.sh --output-dir /scratch/$USER/cnn-outputs
#   SBATCH_ARRAY_INX=1-16 examples/slurm/submit.sh   # 16 shares instead of the script's 8
# The array gets as many tasks as there are experiments to share, at most 8 (run_all.py --count-shards): no task
# starts, and holds a GPU, for an empty share.
set -euo pipefail
cd "$(dirname "$0")/../.."
shares=$(python run_all.py --profile full --output-dir outputs "$@" --count-shards)
array=${SBATCH_ARRAY_INX:-1-$((shares < 8 ? shares : 8))}
train=$(sbatch --parsable --array="$array" examples/slurm/train.sbatch "$@")
report=$(sbatch --parsable --dependency=afterany:"${train%%;*}" examples/slurm/report.sbatch "$@")
echo "Submitted the array ${train%%;*} ($array: $shares experiments to share) and the report job ${report%%;*}"
