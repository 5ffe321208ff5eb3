"""Running a bundle on pictures: stage 5.

    predictor.py   a bundle without PyTorch: its cached graph + NumPy head (load_predictor)
    prediction.py  classify files or folders (predict, predict_imagenet)
    bulk.py        label many images into a resumable Parquet or CSV file (predict_to_file)
    ray_engine.py  the same reading and network on a Ray cluster (RayEngine)
"""

from pocketvision.inference.bulk import predict_to_file
from pocketvision.inference.prediction import predict, predict_imagenet
from pocketvision.inference.predictor import Predictor, as_predictor, load_predictor

__all__ = ["Predictor", "as_predictor", "load_predictor", "predict", "predict_imagenet",
           "predict_to_file"]
