// Service worker of the alliance node UI: makes the app installable and keeps the
// stylesheet, script and icons at hand. Pages and API answers are never cached (they carry
// personal data and CSRF tokens); they always come from the network.
'use strict';

const CACHE = 'alliance-static-v1';
const ASSETS = ['/static/app.css', '/static/app.js', '/static/icon.svg', '/static/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin
      || !url.pathname.startsWith('/static/')) {
    return; // the browser fetches it as usual
  }
  // Network first so a new release shows at once; the cache answers when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())),
  );
});
