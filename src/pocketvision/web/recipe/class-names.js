// The one rule for class names (pocketvision/data/class_names.py), on the page: a
// class made on the phone is a folder `pocketvision train` accepts. Names compare in
// Unicode NFC.

import { MAX_NAME_BYTES, MAX_NAME_LENGTH } from "./shared.js";

export function normalized(name) {
  return name.normalize("NFC").trim();
}

// Why `name` cannot be a class name, or null when it can.
export function classNameProblem(name) {
  const n = normalized(name);
  const reason = !n ? "it is empty"
    : Array.from(n).length > MAX_NAME_LENGTH ? `it is longer than ${MAX_NAME_LENGTH} characters`
    : new TextEncoder().encode(n).length > MAX_NAME_BYTES ? `it is longer than ${MAX_NAME_BYTES} bytes in UTF-8 (a folder name's limit)`
    : /[/\\]/.test(n) ? "it has a slash (a class is one folder)"
    : n.startsWith(".") ? "it starts with a dot (hidden folders are not classes)"
    : /\p{C}/u.test(n) ? "it has a control character"
    : null;
  return reason && `class name “${n.slice(0, MAX_NAME_LENGTH + 4)}” is not allowed: ${reason}`;
}
