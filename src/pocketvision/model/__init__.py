"""The trained model and its file: stage 4.

    head.py         the linear head on the features (NumPy)
    lbfgs.py        the optimizer that fits it (the phone's too)
    novelty.py      how unlike the training images a picture is (unknown detection)
    bundle_meta.py  what a bundle says about itself (its checked JSON header)
    bundle.py       the .pvb file: write, read, load into PyTorch (load_bundle)
    classifier.py   backbone + head as one PyTorch module (exports, fine-tuning)
"""

from pocketvision.model.bundle import Bundle, load_bundle, read_meta, save_bundle, write_bundle
from pocketvision.model.bundle_meta import BundleMeta
from pocketvision.model.head import LinearHead, fit_linear_head
from pocketvision.model.novelty import NoveltyModel

__all__ = ["Bundle", "BundleMeta", "LinearHead", "NoveltyModel", "fit_linear_head",
           "load_bundle", "read_meta", "save_bundle", "write_bundle"]
