"""Getting pictures in: stage 1 of the data flow.

    dataset.py        a folder -> labelled samples, split by capture burst (load_split)
    grouping.py       which files are one capture burst, so a split never cuts one
    class_names.py    the one rule for class names (train, collect and the studio)
    images.py         any image file -> upright 8-bit RGB; what counts as an image
    preprocessing.py  the preprocessing spec every bundle carries, for Python
    bundled.py        the sample pictures shipped in the package
"""

from pocketvision.data.bundled import sample_data_dir
from pocketvision.data.dataset import Sample, Split, labelled_images, load_split, scan_folder
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import Preprocessing

__all__ = ["Preprocessing", "Sample", "Split", "labelled_images", "load_rgb", "load_split",
           "sample_data_dir", "scan_folder"]
