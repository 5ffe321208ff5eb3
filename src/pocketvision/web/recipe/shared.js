// Written by `python -m pocketvision.exports.shared_values` from the Python
// constants (see that module): do not edit; a test fails when this file and
// the Python side differ.

export const NEIGHBOURS = 5;
export const FOLDS = 5;
export const ACCEPTED = 0.95;
export const MAX_BANK = 4000;
export const BANK = "novelty.bank";
export const UNKNOWN = "unknown";
export const NOVELTY_THRESHOLD = 0.5;
export const UNSURE_BELOW = 0.6;
export const TRAINING_DEFAULTS = Object.freeze({"val_fraction": 0.2, "seed": 0, "weight_decay": 0.05, "std_floor": 1.0, "max_iterations": 200});
export const FORMAT = "pocketvision-bundle";
export const FORMAT_VERSION = 1;
export const HEADER_KEY = "pocketvision";
export const BODY_PREFIX = "backbone.body.";
export const HEAD_AND_NOVELTY = Object.freeze(["head.weight", "head.bias", "novelty.bank"]);
export const MAX_HEADER_DEPTH = 32;
export const MAX_SIDE = 1024;
export const HASH_SIDE = 16;
export const NEAR_DUPLICATE_BITS = 12;
export const SESSION_NAME = new RegExp("^(?<session>\\d{8}T\\d{6}[^.]*?)-(?<index>\\d+)$");
export const MAX_NAME_LENGTH = 64;
export const MAX_NAME_BYTES = 255;
export const CALIBRATION_BINS = 10;
export const SMOOTHING_DEFAULTS = Object.freeze({"threshold": 0.7, "release": 0.5, "frames": 4, "cooldown": 0.3});
export const CSV_RISKY_STARTS = Object.freeze(["=", "+", "-", "@", "\t", "\r", "'"]);
