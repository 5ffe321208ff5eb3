// Service worker of a pocketvision web app (`pocketvision web`, `export --format web`).
// The writer fills in the two placeholders below: the site's files and a hash of their
// contents, so a new site replaces the old cache as a whole. Its caches are named
// after its scope, and it touches only those, and only answers for URLs inside its
// scope: another app on the same origin (a user's other GitHub Pages project, a
// second pocketvision app in another folder) keeps its own offline files.
const SCOPE = self.registration.scope;
const PREFIX = `pocketvision ${SCOPE} `;
const CACHE = PREFIX + "__VERSION__";
const FILES = __FILES__;

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
  if (event.request.method !== "GET" || !event.request.url.startsWith(SCOPE)) return;
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
