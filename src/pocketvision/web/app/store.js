// The phone studio's project, kept in the browser (IndexedDB): classes, pictures
// (the JPEG bytes, as they download), features (one vector per picture content and
// backbone), and the current model (the .pvb bytes). Every change is one
// transaction, so a reload, a closed app or a full disk leaves the project as it
// was before the change, never half-changed; other tabs on the same project hear of
// each change and re-read it. The database is named after the site's path, so two
// web apps on one origin (a user's GitHub Pages) keep separate projects.
//
// Deleting is two steps, so that Undo needs no new space on a full phone (IndexedDB
// frees the space of deleted records late, so writing them back would fail): a
// deletion only puts a small mark in "trash" (the pictures stay where they are,
// hidden), Undo removes the mark, and the records go for good only when the undo
// window has passed (purge), or at the next start for marks nobody can undo any more.
// On a storage so full that even the mark cannot be written, the mark is kept in
// this tab's memory instead: the deletion happens only when the window has passed,
// so a reload before then brings the things back rather than losing them.

import { classNameProblem, normalized } from "../recipe/class-names.js";
import { byCodePoint } from "../recipe/split.js";
import { StoreError } from "./contracts.js";

const VERSION = 2; // 2: the trash

export class Store {
  static async open(scope = new URL(".", location.href).pathname) {
    const name = `pocketvision:${scope}`;
    const db = await request(Object.assign(indexedDB.open(name, VERSION), {
      onupgradeneeded: ({ target, oldVersion }) => createStores(target.result, oldVersion),
    }));
    return new Store(db, name);
  }

  constructor(db, name) {
    this.db = db;
    this.channel = new BroadcastChannel(name);
    this.onChange = null; // (what) => {}: another tab changed the project
    this.channel.onmessage = ({ data }) => this.onChange?.(data);
    this.unwritten = new Map(); // key -> trash marks the full storage kept in memory only
    db.onversionchange = () => db.close();
  }

  // ---- classes and pictures ------------------------------------------------
  // [{id, name, pictures: [{id, name, sha256, ...}]}], classes by name, pictures by file name.
  async project() {
    const [classes, pictures, trash] = await this.read(["classes", "pictures", "trash"],
      (t) => Promise.all([all(t.objectStore("classes")), allKeyless(t.objectStore("pictures")),
        all(t.objectStore("trash"))]));
    const marks = [...trash, ...this.unwritten.values()];
    const hidden = (kind) => new Set(marks.filter((mark) => mark.kind === kind).map((mark) => mark.id));
    const hiddenPictures = hidden("picture"), hiddenClasses = hidden("class");
    const kept = pictures.filter((p) => !hiddenPictures.has(p.id));
    return classes.filter((c) => !hiddenClasses.has(c.id)).sort((a, b) => byCodePoint(a.name, b.name)).map((c) => ({
      ...c, pictures: kept.filter((p) => p.classId === c.id).sort((a, b) => byCodePoint(a.name, b.name)),
    }));
  }

  async addClass(name) {
    const clean = checkedName(name);
    return this.write(["classes"], (t) => request(t.objectStore("classes").add({ name: clean, created: Date.now() })),
      { exists: `there is already a class “${clean}”` });
  }

  async renameClass(id, name) {
    const clean = checkedName(name);
    await this.write(["classes"], async (t) => {
      const store = t.objectStore("classes"), record = await request(store.get(id));
      if (!record) throw new StoreError("that class was deleted in another tab");
      await request(store.put({ ...record, name: clean }));
    }, { exists: `there is already a class “${clean}”` });
  }

  // Deletes the class (its pictures go with it); returns the trash mark to undo or purge.
  async deleteClass(id) {
    const mark = trashMark("class", id);
    return this.toTrash(mark, async (t) => {
      mark.record = await request(t.objectStore("classes").get(id));
      if (!mark.record) throw new StoreError("that class was deleted in another tab");
      t.objectStore("classes").delete(id);
    });
  }

  // Deletes one picture, as deleteClass does.
  async deletePicture(id) {
    const mark = trashMark("picture", id);
    return this.toTrash(mark, () => {});
  }

  async toTrash(mark, work) {
    try {
      await this.write(["classes", "trash"], async (t) => {
        await work(t);
        t.objectStore("trash").put(mark);
      });
    } catch (error) {
      if (!(error instanceof StoreError && error.full)) throw error;
      this.unwritten.set(mark.key, { ...mark, unwritten: true });
      this.channel.postMessage(["trash"]);
    }
    return this.unwritten.get(mark.key) ?? mark;
  }

  // Undoes a deletion. A class whose name was taken since comes back under a free
  // name ("dogs (2)"). Returns the name the class came back under (null for a picture).
  async restore(mark) {
    if (mark.unwritten) { // nothing was changed in storage: showing it again is enough
      this.unwritten.delete(mark.key);
      return mark.kind === "class" ? mark.record.name : null;
    }
    return this.write(["classes", "trash"], async (t) => {
      if (!await request(t.objectStore("trash").get(mark.key))) {
        throw new StoreError("it can no longer be restored (its undo time has passed)");
      }
      t.objectStore("trash").delete(mark.key);
      if (mark.kind === "picture") return null;
      const name = await freeName(t.objectStore("classes").index("name"), mark.record.name);
      await request(t.objectStore("classes").put({ ...mark.record, name }));
      return name;
    });
  }

  // Deletes for good what a mark hid, unless it was restored (its undo time has passed).
  async purge(mark) {
    if (mark.unwritten && !this.unwritten.delete(mark.key)) return; // restored
    await this.write(["pictures", "trash", "classes"], async (t) => {
      if (!mark.unwritten && !await request(t.objectStore("trash").get(mark.key))) return; // restored
      const pictures = t.objectStore("pictures");
      if (mark.kind === "class") {
        t.objectStore("classes").delete(mark.id);
        for (const key of await request(pictures.index("class").getAllKeys(mark.id))) pictures.delete(key);
      } else {
        pictures.delete(mark.id);
      }
      t.objectStore("trash").delete(mark.key);
    });
  }

  // Marks still in the trash (a reload inside the undo time, a restore that failed).
  async trash() {
    return this.read(["trash"], (t) => all(t.objectStore("trash")));
  }

  // pictures: [{name, blob, sha256, dhash, width, height}] into class `id`, skipping
  // any the class already has under the same name. Returns how many were added.
  // The image is kept as its bytes and type, not as a Blob: WebKit refuses to keep a
  // Blob in IndexedDB in a private (ephemeral) session, and every engine keeps bytes.
  async addPictures(id, pictures) {
    const records = await Promise.all(pictures.map(asRecord)); // before the transaction: it would close while waiting
    return this.write(["classes", "pictures"], async (t) => {
      if (!await request(t.objectStore("classes").get(id))) throw new StoreError("that class was deleted");
      const store = t.objectStore("pictures");
      const names = new Set((await request(store.index("class").getAll(id))).map((p) => p.name));
      const fresh = records.filter((p) => !names.has(p.name));
      for (const p of fresh) store.add({ ...p, classId: id, added: Date.now() });
      return fresh.length;
    });
  }

  // The images of pictures (Blobs), by id.
  async blobs(ids) {
    return this.read(["pictures"], (t) =>
      Promise.all(ids.map((id) => request(t.objectStore("pictures").get(id)).then(asBlob))));
  }

  // ---- features, by backbone and content ----------------------------------
  async features(keys) {
    return this.read(["features"], (t) =>
      Promise.all(keys.map((k) => request(t.objectStore("features").get(k)).then((r) => r?.vector ?? null))));
  }

  async putFeatures(entries) {
    await this.write(["features"], (t) => {
      for (const { key, vector } of entries) t.objectStore("features").put({ key, vector });
    }, {}, false);
  }

  // ---- the model -------------------------------------------------------------
  async model() {
    return this.read(["models"], (t) => request(t.objectStore("models").get("current")));
  }

  // play: how to play it, when it came with the web app (the size its game runs at);
  // fromSite: then also the SHA-256 of the site's model file, to know a newer one.
  async saveModel(bytes, summary, play = null, fromSite = null) {
    await this.write(["models"], (t) => request(t.objectStore("models").put(
      { slot: "current", bytes, summary, play, fromSite, saved: Date.now() })));
  }

  // ---- transactions ------------------------------------------------------------
  async read(stores, work) {
    const t = this.db.transaction(stores, "readonly");
    const result = await work(t);
    await done(t);
    return result;
  }

  // Runs `work` in one read-write transaction; a full disk or a name taken in another
  // tab aborts all of it, with a sentence saying so.
  async write(stores, work, { exists } = {}, announce = true) {
    const t = this.db.transaction(stores, "readwrite");
    try {
      const result = await work(t);
      await done(t);
      if (announce) this.channel.postMessage(stores);
      return result;
    } catch (error) {
      try { t.abort(); } catch { /* already finished */ }
      throw explained(error, exists);
    }
  }
}

function createStores(db, oldVersion) {
  if (oldVersion < 1) createFirstStores(db);
  if (oldVersion < 2) db.createObjectStore("trash", { keyPath: "key" });
}

function createFirstStores(db) {
  const classes = db.createObjectStore("classes", { keyPath: "id", autoIncrement: true });
  classes.createIndex("name", "name", { unique: true });
  const pictures = db.createObjectStore("pictures", { keyPath: "id", autoIncrement: true });
  pictures.createIndex("class", "classId");
  db.createObjectStore("features", { keyPath: "key" });
  db.createObjectStore("models", { keyPath: "slot" });
}

function checkedName(name) {
  const problem = classNameProblem(name);
  if (problem) throw new StoreError(problem);
  return normalized(name);
}

function explained(error, exists) {
  if (error instanceof StoreError) return error;
  const name = error?.name || error?.target?.error?.name;
  if (name === "QuotaExceededError") {
    return Object.assign(new StoreError("The phone's storage for this app is full: nothing " +
      "was saved this time, and nothing kept before was lost. Delete some pictures, or free " +
      "space on the phone."), { full: true });
  }
  if (name === "ConstraintError" && exists) return new StoreError(exists);
  return new StoreError(`Could not save (${name || error}): nothing was changed.`);
}

export function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function done(t) {
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onabort = t.onerror = () => reject(t.error || new DOMException("aborted", "AbortError"));
  });
}

const all = (store) => request(store.getAll());

// Unique per deletion: a class restored and deleted again gets a new mark.
function trashMark(kind, id) {
  const at = Date.now();
  return { key: `${kind}:${id}:${at}:${Math.random().toString(36).slice(2)}`, kind, id, at };
}

// `name`, or "name (2)", "name (3)", ... whichever no class has.
async function freeName(byName, name) {
  for (let n = 1; ; n += 1) {
    const candidate = n === 1 ? name : `${name} (${n})`;
    if (!await request(byName.get(candidate))) return candidate;
  }
}

// A picture as it is kept: its image as bytes and type (see addPictures).
async function asRecord({ blob, ...picture }) {
  return { ...picture, bytes: await blob.arrayBuffer(), type: blob.type };
}

// A kept picture's image as a Blob; pictures kept before bytes were (a Blob of
// their own, in engines that accepted it) are read as they are.
function asBlob(picture) {
  if (!picture) return undefined;
  return picture.blob ?? new Blob([picture.bytes], { type: picture.type });
}

// Pictures without their image (the class lists show names and counts;
// thumbnails load their Blob when drawn).
function allKeyless(store) {
  return new Promise((resolve, reject) => {
    const found = [], cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return resolve(found);
      const { blob, bytes, ...rest } = c.value;
      found.push(rest);
      c.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  });
}

