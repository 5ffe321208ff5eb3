// What the Use view keeps, in the browser (IndexedDB), apart from the project: the
// log (one entry per class seen and held, or per "Log it"), the frames it was unsure
// of (the Review list), and small snapshots. It survives a reload, a closed app and
// going offline; nothing is removed but by the person (an entry's Undo, Discard, or
// Clear log, which has an Undo too).
//
// Opening stays fast with a long log: the view reads the newest entries and counts
// (an index count), never the whole log; the export reads it in slices.
//
// Clear log is two steps, as deleting in store.js is, so that its Undo needs no new
// space on a full phone: it only notes the newest entry it hides; Undo forgets the
// note, and the entries go for good when the undo time has passed (or at the next
// start).

import { done, request } from "./store.js";

const VERSION = 1;
const CLEARED = "cleared"; // the meta record: {key, through: the newest id hidden, at}

export class StorageFull extends Error {}

export class UseStore {
  static async open(scope = new URL(".", location.href).pathname) {
    const db = await request(Object.assign(indexedDB.open(`pocketvision-use:${scope}`, VERSION), {
      onupgradeneeded: ({ target }) => createStores(target.result),
    }));
    return new UseStore(db);
  }

  constructor(db) {
    this.db = db;
    db.onversionchange = () => db.close();
  }

  // ---- the log ----------------------------------------------------------------
  // entry: {time, session, label, confidence, novelty, latitude, longitude, note};
  // snapshot: {bytes, type} or null. Returns the entry's id.
  async log(entry, snapshot = null) {
    return this.write(["log", "snapshots"], async (t) => {
      const id = await request(t.objectStore("log").add(entry));
      if (snapshot) t.objectStore("snapshots").put({ id, ...snapshot });
      return id;
    });
  }

  async remove(id) {
    await this.write(["log", "snapshots"], (t) => {
      t.objectStore("log").delete(id);
      t.objectStore("snapshots").delete(id);
    });
  }

  async setNote(id, note) {
    await this.write(["log"], async (t) => {
      const entry = await request(t.objectStore("log").get(id));
      if (entry) t.objectStore("log").put({ ...entry, note });
    });
  }

  // The newest `count` entries shown (not cleared), newest first.
  async newest(count) {
    return this.read(["log", "meta"], async (t) => {
      const lowest = await shownFrom(t);
      const entries = [];
      await walk(t.objectStore("log").openCursor(IDBKeyRange.lowerBound(lowest), "prev"), (cursor) => {
        entries.push(cursor.value);
        return entries.length < count;
      });
      return entries;
    });
  }

  // How many entries are shown, and per label how many of `session`'s.
  async counts(session, labels) {
    return this.read(["log", "meta"], async (t) => {
      const lowest = await shownFrom(t), log = t.objectStore("log");
      const total = await request(log.count(IDBKeyRange.lowerBound(lowest)));
      const bySession = log.index("session-label-id");
      const perLabel = await Promise.all(labels.map((label) => request(bySession.count(
        IDBKeyRange.bound([session, label, lowest], [session, label, Infinity])))));
      return { total, perLabel: labels.map((label, i) => [label, perLabel[i]]) };
    });
  }

  // The shown entries, oldest first, `size` at a time: for (const slice of ...).
  async *slices(size = 1000) {
    let after = (await this.read(["meta"], shownFrom)) - 1;
    for (;;) {
      const slice = await this.read(["log"], (t) =>
        request(t.objectStore("log").getAll(IDBKeyRange.lowerBound(after, true), size)));
      if (!slice.length) return;
      yield slice;
      after = slice[slice.length - 1].id;
    }
  }

  async snapshot(id) {
    return this.read(["snapshots"], (t) => request(t.objectStore("snapshots").get(id)));
  }

  // Clear log: hides every entry there is now; returns the mark for undo/purge.
  async clear() {
    return this.write(["log", "meta"], async (t) => {
      const newest = await request(t.objectStore("log").openKeyCursor(null, "prev"));
      const previous = await request(t.objectStore("meta").get(CLEARED));
      const mark = { key: CLEARED, through: newest ? newest.key : (previous?.through ?? 0), at: Date.now(),
        pending: true, previous: previous ?? null };
      t.objectStore("meta").put(mark);
      return mark;
    });
  }

  async undoClear(mark) {
    await this.write(["meta"], (t) => {
      if (mark.previous) t.objectStore("meta").put(mark.previous); else t.objectStore("meta").delete(CLEARED);
    });
  }

  // The cleared entries go for good (their space is given back).
  async purgeCleared() {
    await this.write(["log", "snapshots", "meta"], async (t) => {
      const mark = await request(t.objectStore("meta").get(CLEARED));
      if (!mark) return;
      const hidden = IDBKeyRange.upperBound(mark.through);
      t.objectStore("log").delete(hidden);
      t.objectStore("snapshots").delete(hidden);
      t.objectStore("meta").put({ key: CLEARED, through: mark.through, at: mark.at, pending: false }); // ids keep rising
    });
  }

  // A clear nobody can undo any more (the app was closed in its undo time) is final.
  async purgeOldClear(undoMs) {
    const mark = await this.read(["meta"], (t) => request(t.objectStore("meta").get(CLEARED)));
    if (mark?.pending && Date.now() - mark.at > undoMs) await this.purgeCleared();
  }

  // ---- the review list ------------------------------------------------------------
  // item: {time, session, label, confidence, novelty, picture: {bytes, type, width, height}}
  async addReview(item) {
    return this.write(["review"], (t) => request(t.objectStore("review").add(item)));
  }

  // The newest `count` frames to review, newest first.
  async reviewItems(count) {
    return this.read(["review"], async (t) => {
      const items = [];
      await walk(t.objectStore("review").openCursor(null, "prev"), (cursor) => {
        items.push(cursor.value);
        return items.length < count;
      });
      return items;
    });
  }

  async reviewCount() {
    return this.read(["review"], (t) => request(t.objectStore("review").count()));
  }

  async removeReview(id) {
    await this.write(["review"], (t) => t.objectStore("review").delete(id));
  }

  // ---- transactions ------------------------------------------------------------
  async read(stores, work) {
    const t = this.db.transaction(stores, "readonly");
    const result = await work(t);
    await done(t);
    return result;
  }

  // One read-write transaction: all of `work` or none of it; a full storage is a
  // StorageFull (nothing of this change was kept, everything before it was).
  async write(stores, work) {
    const t = this.db.transaction(stores, "readwrite");
    try {
      const result = await work(t);
      await done(t);
      return result;
    } catch (error) {
      try { t.abort(); } catch { /* already finished */ }
      if (error?.name === "QuotaExceededError") throw new StorageFull("the phone's storage is full");
      throw error;
    }
  }
}

function createStores(db) {
  const log = db.createObjectStore("log", { keyPath: "id", autoIncrement: true });
  log.createIndex("session-label-id", ["session", "label", "id"]);
  db.createObjectStore("snapshots", { keyPath: "id" });
  db.createObjectStore("review", { keyPath: "id", autoIncrement: true });
  db.createObjectStore("meta", { keyPath: "key" });
}

// The lowest id shown: the one after the newest cleared entry.
async function shownFrom(t) {
  const mark = await request(t.objectStore("meta").get(CLEARED));
  return (mark?.through ?? 0) + 1;
}

// Visits a cursor's records while `visit` returns true.
function walk(opening, visit) {
  return new Promise((resolve, reject) => {
    opening.onsuccess = () => {
      const cursor = opening.result;
      if (cursor && visit(cursor)) cursor.continue(); else resolve();
    };
    opening.onerror = () => reject(opening.error);
  });
}
