"""Pictures -> feature vectors: the frozen backbone as a cached ONNX graph, and the
feature cache keyed by image content (stage 3, after backbones/).

    graph.py       a backbone's ONNX graph, built once per set of weights (PyTorch,
                   about a second) and run by onnxruntime: pretrained_extractor,
                   bundle_extractor
    extraction.py  features of images, computed once per content hash and kept on
                   disk: sample_features, extract_features
"""

from pocketvision.features.extraction import FeatureCache, extract_features, sample_features
from pocketvision.features.graph import FeatureExtractor, bundle_extractor, pretrained_extractor

__all__ = ["FeatureCache", "FeatureExtractor", "bundle_extractor", "extract_features",
           "pretrained_extractor", "sample_features"]
