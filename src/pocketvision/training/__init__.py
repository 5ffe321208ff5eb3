"""Making a bundle from a folder of pictures: stage 7.

    job.py       ``pocketvision train``: split, features, head, novelty, metrics, bundle
    finetune.py  optional: unfreeze the backbone's last blocks (PyTorch, minutes)
    doctor.py    ``pocketvision doctor``: what to fix in the pictures (diagnose)
"""

from pocketvision.training.doctor import Diagnosis, diagnose
from pocketvision.training.job import TrainResult, train

__all__ = ["Diagnosis", "TrainResult", "diagnose", "train"]
