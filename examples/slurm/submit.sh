#!/bin/bash
# Submit the training array, then the report job that depends on it. Arguments go to run_all.py in both:
#   examples/slurm/submit.sh --output-dir /scratch/$USER/cnn-outputs
#   SBATCH_ARRAY_INX=1-16 examples/slurm/submit.sh   # 16 shares instead of the script's 8
set -euo pipefail
cd "$(dirname "$0")/../.."
train=$(sbatch --parsable examples/slurm/train.sbatch "$@")
sbatch --dependency=afterany:"${train%%;*}" examples/slurm/report.sbatch "$@"
