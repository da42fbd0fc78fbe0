// 守望's service worker: keeps the application shell (styles, the offline script, the offline
// page) so that a phone without a signal still opens the visit form. Pages hold personal data and
// are never cached here; what a visit needs offline is kept by offline.js, and cleared at logout.
const SHELL = 'shouwang-shell-v2';
const FILES = ['/offline', '/static/app.css', '/static/offline.js', '/manifest.webmanifest', '/static/icon.svg'];

self.addEventListener('install', (e) => {
  // Past the browser's HTTP cache: the shell as this server has it now.
  e.waitUntil(
    caches.open(SHELL)
      .then((c) => c.addAll(FILES.map((f) => new Request(f, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === 'navigate') {
    // Online: the page itself. Offline: the offline visit page, from the shell.
    e.respondWith(fetch(req).catch(() => caches.match('/offline')));
    return;
  }
  if (FILES.includes(url.pathname)) {
    // Online: the file as the server has it now, kept for the next time without a signal.
    e.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            caches.open(SHELL).then((c) => c.put(url.pathname, copy));
          }
          return res;
        })
        .catch(() => caches.match(url.pathname)),
    );
  }
});
