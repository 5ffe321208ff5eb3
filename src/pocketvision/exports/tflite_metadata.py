"""Standard TFLite model metadata, the kind Google's own clients read.

MediaPipe Tasks ``ImageClassifier`` (Android, iOS, web, Python) and the TFLite
Task Library load an image classifier with default options only when the model
says, in the ``TFLITE_METADATA`` entry, that its input is an RGB image and how to
normalize pixels to it, and names its label file. Ours takes pixels divided by
255 (normalization to the backbone's mean/std is inside the graph), so the input
carries NormalizationOptions mean 0, std 255.

The document is built with the TFLite metadata schema bindings MediaPipe ships
(``metadata_schema_py_generated``). MediaPipe's higher-level metadata writers
are not used: in the wheels that install beside numpy 2 they import a native
module the wheel does not contain.
"""

from __future__ import annotations

from pocketvision.config import NOVELTY_THRESHOLD

METADATA_NAME = "TFLITE_METADATA"  # the metadata entry name every TFLite client looks for
FILE_IDENTIFIER = b"M001"
MIN_PARSER_VERSION = "1.0.0"  # NormalizationOptions and label files are in every version


def model_metadata(labels: list[str], backbone: str | None, labels_file: str,
                   with_novelty: bool = False) -> bytes:
    """The packed ModelMetadata flatbuffer for a classifier over ``labels`` (and,
    ``with_novelty``, a second output: one score, how unlike the training images)."""
    import flatbuffers
    from mediapipe.tasks.metadata import metadata_schema_py_generated as schema

    model = schema.ModelMetadataT()
    model.name = "pocketvision image classifier"
    model.description = f"Classifies a picture as one of: {', '.join(labels)}."
    model.version = "1"
    model.author = "pocketvision"
    model.license = (f"Trained head: yours. Backbone ({backbone}): the licence of its "
                     "ImageNet weights.")
    model.minParserVersion = MIN_PARSER_VERSION
    graph = schema.SubGraphMetadataT()
    graph.inputTensorMetadata = [_image_input(schema)]
    graph.outputTensorMetadata = [_probabilities(schema, labels_file)]
    if with_novelty:  # clients that list every output see a second head of one score
        graph.outputTensorMetadata.append(_novelty(schema))
    model.subgraphMetadata = [graph]
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


def _image_input(schema):
    tensor = schema.TensorMetadataT()
    tensor.name = "image"
    tensor.description = ("RGB picture, resized (shorter side) and centre-cropped to the input "
                          "size; pixels / 255 (the rest of the normalization is in the graph).")
    tensor.content = schema.ContentT()
    tensor.content.contentPropertiesType = schema.ContentProperties.ImageProperties
    tensor.content.contentProperties = schema.ImagePropertiesT()
    tensor.content.contentProperties.colorSpace = schema.ColorSpaceType.RGB
    normalization = schema.NormalizationOptionsT()
    normalization.mean, normalization.std = [0.0], [255.0]
    unit = schema.ProcessUnitT()
    unit.optionsType = schema.ProcessUnitOptions.NormalizationOptions
    unit.options = normalization
    tensor.processUnits = [unit]
    tensor.stats = _range(schema, 0.0, 1.0)
    return tensor


def _probabilities(schema, labels_file: str):
    tensor = _scores(schema, "probability",
                     "Probability of each class, in the order of the label file.")
    labels = schema.AssociatedFileT()
    labels.name = labels_file
    labels.description = "Class names, one per line, in output order."
    labels.type = schema.AssociatedFileType.TENSOR_AXIS_LABELS
    tensor.associatedFiles = [labels]
    return tensor


def _novelty(schema):
    return _scores(schema, "novelty", f"How unlike the training images the picture is, 0 "
                                      f"to 1; above {NOVELTY_THRESHOLD} it is none of the classes.")


def _scores(schema, name: str, description: str):
    """An output tensor of scores from 0 to 1."""
    tensor = schema.TensorMetadataT()
    tensor.name, tensor.description = name, description
    tensor.content = schema.ContentT()
    tensor.content.contentPropertiesType = schema.ContentProperties.FeatureProperties
    tensor.content.contentProperties = schema.FeaturePropertiesT()
    tensor.stats = _range(schema, 0.0, 1.0)
    return tensor


def _range(schema, low: float, high: float):
    stats = schema.StatsT()
    stats.min, stats.max = [low], [high]
    return stats
