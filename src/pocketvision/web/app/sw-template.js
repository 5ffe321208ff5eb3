// Service worker of a pocketvision web app (`pocketvision web`, `export --format web`).
// The writer fills in the two placeholders below: the site's files and a hash of their
// contents, so a new site replaces the old cache as a whole. Its caches are named
// after its scope and it touches only those; it answers only for the site's own
// files: another app on the same origin (a user's other GitHub Pages project, a
// second pocketvision app in another folder) keeps its offline files and its headers.
const SCOPE = self.registration.scope;
const PREFIX = `pocketvision ${SCOPE} `;
const CACHE = PREFIX + "__VERSION__";
const FILES = __FILES__;
const OWN = new Set(FILES.map((name) => new URL(name, SCOPE).href));
// A model shared to the installed app (the manifest's share_target) is kept here for
// the page, which opens it as Open model does (app/files.js: the same name).
const SHARE_TARGET = new URL(__SHARE_TARGET__, SCOPE).href;
const SHARED = `pocketvision-shared ${SCOPE}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Cache first (the site works offline), network for anything not cached; the answers
// get the cross-origin-isolation headers, so onnxruntime-web can use threads even
// from a static server that does not send them.
self.addEventListener("fetch", (event) => {
  if (event.request.method === "POST" && event.request.url === SHARE_TARGET) {
    event.respondWith(keepShared(event.request));
    return;
  }
  const url = new URL(event.request.url);
  url.search = "";
  if (event.request.method !== "GET" || !OWN.has(url.href)) return; // not ours: as if we were not here
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const cached = await cache.match(event.request, { ignoreSearch: true });
    return isolated(cached || await fetch(event.request));
  })());
});

function isolated(response) {
  if (!response || response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  headers.set("Cross-Origin-Resource-Policy", "same-origin");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

// The share sheet's POST: keep the file, then open the app, which picks it up.
async function keepShared(request) {
  const file = (await request.formData()).get("model");
  if (file instanceof File) {
    const cache = await caches.open(SHARED);
    await cache.put(new URL("model", SCOPE).href, new Response(file, { headers: { "X-File-Name": encodeURIComponent(file.name) } }));
  }
  return Response.redirect(new URL("?shared-model", SCOPE).href, 303);
}
