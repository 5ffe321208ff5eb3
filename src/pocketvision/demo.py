"""``pocketvision demo``: the whole job on the bundled sample images, offline."""

from __future__ import annotations

from pathlib import Path

from pocketvision.config import TrainConfig
from pocketvision.data.bundled import sample_data_dir
from pocketvision.evaluation.job import evaluate_samples
from pocketvision.evaluation.report import write_report
from pocketvision.inference.prediction import predict
from pocketvision.inference.predictor import load_predictor
from pocketvision.training.job import train


def run_demo(out: Path = Path("pocketvision-demo"), config: TrainConfig = TrainConfig()) -> dict:
    """Train on the sample, evaluate on its held-out split, write pictures, and
    classify a few validation images; return what was made and where."""
    out = Path(out)
    result = train(sample_data_dir(), out / "model.pvb", config)
    bundle = load_predictor(result.bundle)
    evaluation = evaluate_samples(bundle, result.split.val)
    report = write_report(evaluation, out / "report")
    examples = predict(bundle, [s.path for s in result.split.val[:: max(1, len(result.split.val) // 3)][:3]])
    return {"data": str(sample_data_dir()), "bundle": str(result.bundle),
            "train": result.to_json(), "evaluation": evaluation.to_json(),
            "report": {k: str(v) for k, v in report.items()}, "examples": examples}
