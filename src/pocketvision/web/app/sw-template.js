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
