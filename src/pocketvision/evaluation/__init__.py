"""Measuring a bundle honestly: stage 6.

    job.py      ``pocketvision evaluate``: classify labelled images, compare (evaluate)
    metrics.py  accuracy, per class, confusion, calibration, AUROC (no model needed)
    report.py   the pictures: confusion matrix, misclassified gallery, calibration,
                and the doctor's findings
"""

from pocketvision.evaluation.job import Evaluation, evaluate, evaluate_samples
from pocketvision.evaluation.metrics import summarize
from pocketvision.evaluation.report import write_findings, write_report

__all__ = ["Evaluation", "evaluate", "evaluate_samples", "summarize", "write_findings",
           "write_report"]
