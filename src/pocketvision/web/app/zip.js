// A zip file of the project's pictures ("Download pictures"): one folder per class,
// each picture under the name it has in the project, so `pocketvision train` on the
// unpacked folder sees the same capture bursts. Stored, not compressed: the
// pictures are JPEGs already. Names are UTF-8 (flag bit 11), as class names may be
// in any script, and carried again in Info-ZIP's Unicode Path extra field (0x7075),
// which Debian's unzip reads where it ignores the flag (emoji, outside the BMP).

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// entries: [{name: "class/file.jpg", bytes: Uint8Array}] -> a Blob of the zip.
export function zipBlob(entries) {
  const encoder = new TextEncoder(), parts = [], directory = [];
  let offset = 0;
  for (const entry of entries) {
    const name = encoder.encode(entry.name), crc = crc32(entry.bytes), extra = unicodePath(name);
    const local = header(30 + name.length + extra.length, 0x04034b50, [
      [4, 20], [6, 0x0800], [8, 0], [10, 0], [12, 0x21], [14, crc, 4],
      [18, entry.bytes.length, 4], [22, entry.bytes.length, 4], [26, name.length], [28, extra.length]]);
    local.set(name, 30);
    local.set(extra, 30 + name.length);
    parts.push(local, entry.bytes);
    const central = header(46 + name.length + extra.length, 0x02014b50, [
      [4, 20], [6, 20], [8, 0x0800], [10, 0], [12, 0], [14, 0x21], [16, crc, 4],
      [20, entry.bytes.length, 4], [24, entry.bytes.length, 4], [28, name.length], [30, extra.length],
      [32, 0], [34, 0], [36, 0], [38, 0, 4], [42, offset, 4]]);
    central.set(name, 46);
    central.set(extra, 46 + name.length);
    directory.push(central);
    offset += local.length + entry.bytes.length;
  }
  const size = directory.reduce((n, d) => n + d.length, 0);
  const end = header(22, 0x06054b50, [[4, 0], [6, 0], [8, entries.length], [10, entries.length],
    [12, size, 4], [16, offset, 4], [20, 0]]);
  return new Blob([...parts, ...directory, end], { type: "application/zip" });
}

// Info-ZIP's Unicode Path extra field: version 1, the CRC-32 of the name field it
// stands for, and the name in UTF-8.
function unicodePath(name) {
  const field = header(9 + name.length, 0, [[0, 0x7075], [2, 5 + name.length]]);
  field[4] = 1;
  new DataView(field.buffer).setUint32(5, crc32(name), true);
  field.set(name, 9);
  return field;
}

// A little-endian record: its signature, then [offset, value, bytes (2 or 4)] fields.
function header(length, signature, fields) {
  const bytes = new Uint8Array(length), view = new DataView(bytes.buffer);
  view.setUint32(0, signature, true);
  for (const [at, value, width = 2] of fields) {
    if (width === 4) view.setUint32(at, value >>> 0, true);
    else view.setUint16(at, value, true);
  }
  return bytes;
}
