// Where the project lives, chosen by the page's config.json: in this browser
// (IndexedDB, trained by the recipe in a worker: a phone, offline) or in a project
// folder on the computer serving the page (`pocketvision studio`: pictures in
// PROJECT/samples/, trained by `pocketvision train`'s recipe there). The views see
// only the store and trainer contracts of contracts.js.

import { ProjectStore } from "./project-store.js";
import { serverTrainer } from "./server-trainer.js";
import { Store } from "./store.js";
import { browserTrainer } from "./trainer.js";

// {store, trainer(options) -> a trainer, where: "browser" | "project"}
export async function openHome(app, config) {
  if (config.home === "project") {
    const store = new ProjectStore();
    return { store, where: "project", trainer: (options = {}) => serverTrainer({ store, site: app.site, ...options }) };
  }
  const store = await Store.open();
  return { store, where: "browser", trainer: () => browserTrainer({ store, backbone: app.backbone, site: app.site }) };
}
