/* HyperCommerce chat widget. Embed with:
 *   <script src="https://your-hypercommerce/widget.js" data-tenant="your-tenant"></script>
 * No build step, no dependencies. Keyboard accessible (Enter sends, Escape
 * closes, focus moves into and back out of the panel), replies are announced
 * through an ARIA live region, and the panel fills the screen on narrow widths.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var tenant = (script && script.getAttribute("data-tenant")) || "demo";
  var base = script ? new URL(script.src, location.href).origin : "";
  var api = base + "/widget/v1/" + encodeURIComponent(tenant) + "/conversations";
  var storeKey = "hc-chat-" + tenant;
  var conversation = sessionStorage.getItem(storeKey);

  var css = "" +
    ".hc-btn{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;" +
    "background:#1f3a5f;color:#fff;font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}" +
    ".hc-btn:focus-visible,.hc-panel button:focus-visible,.hc-panel input:focus-visible{outline:3px solid #ffbf47;outline-offset:2px}" +
    ".hc-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:360px;max-height:70vh;display:none;flex-direction:column;" +
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);font:14px system-ui,sans-serif;color:#1d1d1f}" +
    ".hc-panel.open{display:flex}.hc-head{display:flex;justify-content:space-between;align-items:center;padding:10px 14px;" +
    "background:#1f3a5f;color:#fff;border-radius:12px 12px 0 0}.hc-head h2{font-size:15px;margin:0}" +
    ".hc-head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}" +
    ".hc-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;min-height:200px}" +
    ".hc-msg{max-width:85%;padding:8px 11px;border-radius:10px;white-space:pre-wrap;line-height:1.35}" +
    ".hc-you{align-self:flex-end;background:#1f3a5f;color:#fff}.hc-assistant{align-self:flex-start;background:#eef1f5}" +
    ".hc-team{align-self:flex-start;background:#fff4d6}.hc-form{display:flex;gap:6px;padding:10px;border-top:1px solid #e5e5e5}" +
    ".hc-form input{flex:1;padding:9px;border:1px solid #bbb;border-radius:8px;font:inherit}" +
    ".hc-form button{padding:9px 14px;border:0;border-radius:8px;background:#1f3a5f;color:#fff;font:inherit;cursor:pointer}" +
    ".hc-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "@media (max-width:480px){.hc-panel{right:0;bottom:0;width:100%;max-height:100%;height:100%;border-radius:0}" +
    ".hc-head{border-radius:0}.hc-btn{right:12px;bottom:12px}}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.className = "hc-btn";
  button.type = "button";
  button.setAttribute("aria-haspopup", "dialog");
  button.setAttribute("aria-expanded", "false");
  button.textContent = "Chat with us";

  var panel = document.createElement("div");
  panel.className = "hc-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", "Chat with the shop assistant");
  panel.innerHTML =
    '<div class="hc-head"><h2>Shop assistant</h2><button type="button" class="hc-close" aria-label="Close chat">\u00d7</button></div>' +
    '<div class="hc-log" role="log" aria-live="polite" aria-relevant="additions"></div>' +
    '<form class="hc-form"><label class="hc-sr" for="hc-input">Your message</label>' +
    '<input id="hc-input" autocomplete="off" maxlength="2000" placeholder="Type your message\u2026">' +
    '<button type="submit">Send</button></form>';
  document.body.appendChild(button);
  document.body.appendChild(panel);
  var log = panel.querySelector(".hc-log");
  var form = panel.querySelector("form");
  var input = panel.querySelector("input");

  function add(from, text) {
    var div = document.createElement("div");
    div.className = "hc-msg hc-" + from;
    div.textContent = text; // never innerHTML: replies are text
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }

  function request(method, url, body) {
    return fetch(url, {
      method: method,
      headers: { "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || "request failed");
        return j;
      });
    });
  }

  function ensureConversation() {
    if (conversation) return Promise.resolve(conversation);
    return request("POST", api).then(function (c) {
      conversation = c.id;
      sessionStorage.setItem(storeKey, conversation);
      add("assistant", c.greeting);
      return conversation;
    });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text) return;
    ensureConversation()
      .then(function (id) {
        add("you", text);
        return request("POST", api + "/" + id + "/messages", { text: text });
      })
      .then(function (r) { add("assistant", r.reply); })
      .catch(function (e) {
        if (/not found|closed/i.test(e.message)) { sessionStorage.removeItem(storeKey); conversation = null; }
        add("assistant", "Sorry, something went wrong: " + e.message);
      });
  }

  function open(prefill) {
    panel.classList.add("open");
    button.setAttribute("aria-expanded", "true");
    var ready = conversation && !log.childElementCount
      ? request("GET", api + "/" + conversation + "/messages").then(function (lines) {
          lines.forEach(function (l) { add(l.from, l.text); });
        }).catch(function () { conversation = null; sessionStorage.removeItem(storeKey); })
      : Promise.resolve();
    ready.then(function () {
      if (prefill) send(prefill);
      else if (!conversation) ensureConversation();
    });
    input.focus();
  }

  function close() {
    panel.classList.remove("open");
    button.setAttribute("aria-expanded", "false");
    button.focus();
  }

  button.addEventListener("click", function () {
    panel.classList.contains("open") ? close() : open();
  });
  panel.querySelector(".hc-close").addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  window.HyperCommerceChat = { open: open, close: close, send: send };
})();
