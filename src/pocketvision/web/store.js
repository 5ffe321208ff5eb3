// The phone studio's project, kept in the browser (IndexedDB): classes, pictures
// (the JPEG bytes, as they download), features (one vector per picture content and
// backbone), and the current model (the .pvb bytes). Every change is one
// transaction, so a reload, a closed app or a full disk leaves the project as it
// was before the change, never half-changed; other tabs on the same project hear of
// each change and re-read it. The database is named after the site's path, so two
// web apps on one origin (a user's GitHub Pages) keep separate projects.

import { classNameProblem, normalized } from "./class-names.js";
import { byCodePoint } from "./split.js";

const VERSION = 1;

export class StoreError extends Error {}

export class Store {
  static async open(scope = new URL(".", location.href).pathname) {
    const name = `pocketvision:${scope}`;
    const db = await request(Object.assign(indexedDB.open(name, VERSION), {
      onupgradeneeded: ({ target }) => createStores(target.result),
    }));
    return new Store(db, name);
  }

  constructor(db, name) {
    this.db = db;
    this.channel = new BroadcastChannel(name);
    this.onChange = null; // (what) => {}: another tab changed the project
    this.channel.onmessage = ({ data }) => this.onChange?.(data);
    db.onversionchange = () => db.close();
  }

  // ---- classes and pictures ------------------------------------------------
  // [{id, name, pictures: [{id, name, sha256, ...}]}], classes by name, pictures by file name.
  async project() {
    const [classes, pictures] = await this.read(["classes", "pictures"],
      (t) => Promise.all([all(t.objectStore("classes")), allKeyless(t.objectStore("pictures"))]));
    return classes.sort((a, b) => byCodePoint(a.name, b.name)).map((c) => ({
      ...c, pictures: pictures.filter((p) => p.classId === c.id).sort((a, b) => byCodePoint(a.name, b.name)),
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

  // Deletes the class and its pictures; returns them, so the page can offer Undo.
  async deleteClass(id) {
    return this.write(["classes", "pictures"], async (t) => {
      const record = await request(t.objectStore("classes").get(id));
      const pictures = await request(t.objectStore("pictures").index("class").getAll(id));
      t.objectStore("classes").delete(id);
      for (const p of pictures) t.objectStore("pictures").delete(p.id);
      return { record, pictures };
    });
  }

  async restoreClass({ record, pictures }) {
    await this.write(["classes", "pictures"], (t) => {
      t.objectStore("classes").put(record);
      for (const p of pictures) t.objectStore("pictures").put(p);
    }, { exists: `there is a class “${record.name}” again; rename it first` });
  }

  // pictures: [{name, blob, sha256, dhash, width, height}] into class `id`, skipping
  // any the class already has under the same name. Returns how many were added.
  async addPictures(id, pictures) {
    return this.write(["classes", "pictures"], async (t) => {
      if (!await request(t.objectStore("classes").get(id))) throw new StoreError("that class was deleted");
      const store = t.objectStore("pictures");
      const names = new Set((await request(store.index("class").getAll(id))).map((p) => p.name));
      const fresh = pictures.filter((p) => !names.has(p.name));
      for (const p of fresh) store.add({ ...p, classId: id, added: Date.now() });
      return fresh.length;
    });
  }

  async deletePicture(id) {
    return this.write(["pictures"], async (t) => {
      const record = await request(t.objectStore("pictures").get(id));
      t.objectStore("pictures").delete(id);
      return record;
    });
  }

  async restorePicture(record) {
    await this.write(["pictures"], (t) => { t.objectStore("pictures").put(record); });
  }

  // The image bytes of pictures (Blobs), by id.
  async blobs(ids) {
    return this.read(["pictures"], (t) =>
      Promise.all(ids.map((id) => request(t.objectStore("pictures").get(id)).then((p) => p?.blob))));
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

  // play: how to play it, when it came with the web app (the size its game runs at).
  async saveModel(bytes, summary, play = null) {
    await this.write(["models"], (t) => request(t.objectStore("models").put(
      { slot: "current", bytes, summary, play, saved: Date.now() })));
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

function createStores(db) {
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
    return new StoreError("The phone's storage for this app is full: nothing was saved this " +
      "time, and nothing kept before was lost. Delete some pictures, or free space on the phone.");
  }
  if (name === "ConstraintError" && exists) return new StoreError(exists);
  return new StoreError(`Could not save (${name || error}): nothing was changed.`);
}

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(t) {
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onabort = t.onerror = () => reject(t.error || new DOMException("aborted", "AbortError"));
  });
}

const all = (store) => request(store.getAll());

// Pictures without their image bytes (the class lists show names and counts;
// thumbnails load their Blob when drawn).
function allKeyless(store) {
  return new Promise((resolve, reject) => {
    const found = [], cursor = store.openCursor();
    cursor.onsuccess = () => {
      const c = cursor.result;
      if (!c) return resolve(found);
      const { blob, ...rest } = c.value;
      found.push(rest);
      c.continue();
    };
    cursor.onerror = () => reject(cursor.error);
  });
}

