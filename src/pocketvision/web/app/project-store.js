// The store of contracts.js over a project folder: every method is one request to
// `pocketvision studio` (live/store_routes.py), whose routes take the store's shape.
// The folder is the truth: pictures land in PROJECT/samples/<class>/ under their
// burst names, deletions in samples/.trash/ (Undo), the model in models/model.pvb.

import { readBundle } from "../recipe/bundle-file.js";
import { summaryOf } from "./model-summary.js";
import { StoreError } from "./contracts.js";
import { studioFetch } from "./studio-api.js";

export class ProjectStore {
  constructor(base = new URL("/api/store/", location.origin).href) { // the studio serves the app at its root
    this.base = base;
    this.channel = new BroadcastChannel(`pocketvision:project:${base}`);
    this.onChange = null; // (what) => {}: another tab changed the project
    this.channel.onmessage = ({ data }) => this.onChange?.(data);
  }

  project() { return this.call("GET", "project"); }

  async addClass(name) { return (await this.change("POST", "classes", { name }, ["classes"])).id; }

  async renameClass(id, name) { await this.change("POST", `classes/${path(id)}/rename`, { name }, ["classes"]); }

  async addPictures(id, pictures) {
    const form = new FormData();
    for (const p of pictures) form.append("files", p.blob, p.name);
    return (await this.change("POST", `classes/${path(id)}/pictures`, form, ["pictures"])).added;
  }

  blobs(ids) {
    return Promise.all(ids.map(async (id) => (await this.fetch("GET", `pictures/${pictureUrl(id)}`)).blob()));
  }

  deleteClass(id) { return this.change("DELETE", `classes/${path(id)}`, null, ["classes"]); }

  deletePicture(id) { return this.change("DELETE", `pictures/${pictureUrl(id)}`, null, ["pictures"]); }

  async restore(mark) { return (await this.change("POST", "restore", mark, ["classes", "trash"])).name; }

  async purge(mark) { await this.call("POST", "purge", mark); } // the folder keeps its .trash

  trash() { return this.call("GET", "trash"); }

  // The server computes and caches features itself (keyed as the CLI keys them).
  async features(keys) { return keys.map(() => null); }

  async putFeatures() {}

  async model() {
    const response = await this.fetch("GET", "model");
    if (response.status === 204) return null;
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { bytes, summary: summaryOf(readBundle(bytes).meta, "the project's model"),
      play: null, fromSite: null };
  }

  async saveModel(bytes) {
    await this.change("PUT", "model", new Blob([bytes], { type: "application/octet-stream" }), ["models"]);
  }

  // ---- requests ----------------------------------------------------------------------
  async change(method, route, body, what) {
    const result = await this.call(method, route, body);
    this.channel.postMessage(what);
    return result;
  }

  async call(method, route, body = null) {
    return (await this.fetch(method, route, body)).json();
  }

  // A refusal ({"error": sentence}) becomes a StoreError with the server's sentence.
  async fetch(method, route, body = null) {
    return studioFetch(method, new URL(route, this.base), body, StoreError);
  }
}

const path = (segment) => encodeURIComponent(segment);
const pictureUrl = (id) => id.split("/").map(path).join("/"); // <class>/<file>
