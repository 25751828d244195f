/* HyperCommerce behavior tracker. Embed once per page with a public tracker key:
 *   <script src="https://your-hypercommerce/t.js" data-key="hc_…" data-page-type="product" async></script>
 * Sends page views (with time on page), product views and cart events to
 * /t/v1/events. The key can only post events. No build step, no dependencies,
 * no cookies: the session id lives in localStorage and rotates after 30
 * minutes without activity.
 *
 * Markup hooks (no code needed):
 *   data-hc-product-view="<product_id>" on an element: a product view when the page loads
 *   data-hc-event="add_to_cart|remove_from_cart" data-hc-item="<item_id>"
 *     data-hc-product="<product_id>" data-hc-price="12.50" data-hc-quantity="1": sent on click
 * Script API: window.hc.track(type, fields), hc.identify(customerId), hc.flush().
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var key = script.getAttribute("data-key") || "";
  var base = new URL(script.src, location.href).origin;
  var endpoint = base + "/t/v1/events?key=" + encodeURIComponent(key);
  var GAP_MS = 30 * 60 * 1000;
  var MAX_BATCH = 50;
  var queue = [];
  var loadedAt = Date.now();
  var pageSent = false;

  function store(name, value) {
    try {
      if (value === undefined) return localStorage.getItem(name);
      localStorage.setItem(name, value);
    } catch (e) { /* storage blocked: the session lasts one page */ }
    return null;
  }

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 4; i++) s += Math.floor(Math.random() * 0x100000000).toString(16);
    return s;
  }

  var memorySession = null;
  function sessionId() {
    var now = Date.now();
    var sid = store("hc_sid") || memorySession;
    var last = parseInt(store("hc_last") || "0", 10);
    if (!sid || (last && now - last > GAP_MS)) sid = "w-" + randomId();
    memorySession = sid;
    store("hc_sid", sid);
    store("hc_last", String(now));
    return sid;
  }

  var customer = store("hc_customer");

  function event(type, fields) {
    var e = { event_id: randomId(), type: type, timestamp_ms: Date.now(), session_id: sessionId() };
    if (customer) e.customer_id = customer;
    for (var k in fields) if (Object.prototype.hasOwnProperty.call(fields, k) && fields[k] != null) e[k] = fields[k];
    return e;
  }

  function send(batch, leaving) {
    var body = JSON.stringify(batch);
    // text/plain keeps it a simple request (no CORS preflight); sendBeacon survives page unload.
    if (leaving && navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }));
      return;
    }
    fetch(endpoint, { method: "POST", body: body, keepalive: true, headers: { "Content-Type": "text/plain" } })
      .catch(function () { /* dropped: tracking never breaks the shop */ });
  }

  function flush(leaving) {
    while (queue.length) send(queue.splice(0, MAX_BATCH), leaving);
  }

  function track(type, fields, at) {
    var e = event(type, fields || {});
    if (at) e.timestamp_ms = at;
    queue.push(e);
    if (queue.length >= MAX_BATCH) flush(false);
  }

  var pageType = script.getAttribute("data-page-type") || "other";
  function pageView() {
    if (pageSent) return;
    pageSent = true;
    track("page_view", {
      page_type: pageType,
      duration_ms: Date.now() - loadedAt,
      properties: { url: location.pathname + location.search, title: document.title.slice(0, 200), referrer: document.referrer || undefined }
    }, loadedAt);
  }

  function price(el) {
    var p = el.getAttribute("data-hc-price");
    return p ? Math.round(parseFloat(p) * 100) / 100 : undefined;
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target && ev.target.closest ? ev.target.closest("[data-hc-event]") : null;
    if (!el) return;
    var type = el.getAttribute("data-hc-event");
    if (type !== "add_to_cart" && type !== "remove_from_cart" && type !== "product_view" && type !== "checkout") return;
    track(type, {
      item_id: el.getAttribute("data-hc-item") || undefined,
      product_id: el.getAttribute("data-hc-product") || undefined,
      price: price(el),
      quantity: type === "add_to_cart" || type === "remove_from_cart"
        ? parseInt(el.getAttribute("data-hc-quantity") || "1", 10) : undefined
    });
    flush(false);
  });

  function productViews() {
    var els = document.querySelectorAll("[data-hc-product-view]");
    for (var i = 0; i < els.length; i++) {
      track("product_view", {
        product_id: els[i].getAttribute("data-hc-product-view"),
        item_id: els[i].getAttribute("data-hc-item") || undefined,
        price: price(els[i]),
        page_type: "product"
      });
    }
  }

  // The page view goes out when the page is left (with the time spent on it).
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { pageView(); flush(true); }
  });
  window.addEventListener("pagehide", function () { pageView(); flush(true); });
  setInterval(function () { flush(false); }, 3000);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", productViews);
  else productViews();

  window.hc = {
    track: function (type, fields) { track(type, fields); },
    identify: function (id) { customer = String(id); store("hc_customer", customer); },
    flush: function () { pageView(); flush(false); },
    sessionId: sessionId
  };
})();
