// The camera and the pictures the phone studio keeps. Every picture is stored as
// a JPEG whose shorter side is the backbone's resize (224 px for Lite0): what the
// model sees, at a size `pocketvision train` and the page decode identically
// (no resampling on either side), so their features agree. A burst is one hold
// of Record: its pictures are named <session>-<n>.jpg, the session a timestamp
// plus 4 random hex digits (live/project.py's names), so the split keeps it whole.

import { decode, differenceHash, sha256Hex, uprightBitmap } from "../recipe/imaging.js";

export async function openCamera(video, facing) {
  if (video.srcObject) for (const track of video.srcObject.getTracks()) track.stop();
  const stream = await navigator.mediaDevices.getUserMedia(
    { video: { width: 640, height: 480, facingMode: facing }, audio: false });
  video.srcObject = stream;
  await video.play();
}

export function newSession() {
  const now = new Date(), pad = (n, w = 2) => String(n).padStart(w, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}T` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const random = Array.from(crypto.getRandomValues(new Uint8Array(2)), (b) => b.toString(16).padStart(2, "0"));
  return `${stamp}-${random.join("")}`;
}

export function frameName(session, index) {
  return `${session}-${String(index).padStart(4, "0")}.jpg`;
}

// A source (the video, an ImageBitmap) as a stored picture: {blob, width, height}.
let encoder = null;
export async function pictureOf(source, side, canvas = (encoder ??= new OffscreenCanvas(1, 1))) {
  const width = source.videoWidth || source.width, height = source.videoHeight || source.height;
  const scale = side / Math.min(width, height); // up or down: every picture is stored alike
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d");
  context.fillStyle = "white"; // transparent photos look as on a white table (images.py)
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.imageSmoothingQuality = "high";
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const blob = await canvas.convertToBlob({ type: "image/jpeg", quality: 0.92 });
  return { blob, width: canvas.width, height: canvas.height };
}

// What the store keeps of a picture: its bytes and content hash, and its name: a
// burst's frame name, or upload-<hash>.jpg for a picture on its own, which the split
// groups with its near-duplicates by difference hash (kept with it).
export async function described(picture, frame = null) {
  const bytes = new Uint8Array(await picture.blob.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  if (frame) return { ...picture, name: frame, sha256, dhash: null };
  return { ...picture, name: `upload-${sha256.slice(0, 12)}.jpg`, sha256,
    dhash: differenceHash(await decode(picture.blob)) };
}

// A photo from the gallery (a File): decoded upright, re-encoded at the stored size.
export async function photoPicture(file, side) {
  let bitmap;
  try {
    bitmap = await uprightBitmap(file);
  } catch {
    throw new Error(`${file.name} is not an image this browser can read`);
  }
  try {
    return await described(await pictureOf(bitmap, side));
  } finally {
    bitmap.close();
  }
}
