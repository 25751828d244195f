// HyperCommerce dashboard: live activity over Server-Sent Events. Text is
// set with textContent only, never parsed as HTML.
"use strict";
(function () {
  var list = document.getElementById("live-events");
  if (!list || !window.EventSource) return;
  var status = document.getElementById("live-status");
  var source = new EventSource(list.getAttribute("data-source"));
  source.onopen = function () { status.textContent = "Live: new events appear below as they happen."; };
  source.onerror = function () { status.textContent = "Reconnecting to live updates…"; };
  source.addEventListener("activity", function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (_) { return; }
    var li = document.createElement("li");
    var link = document.createElement("a");
    link.href = "/dashboard/conversations/" + encodeURIComponent(d.id);
    link.textContent = d.id;
    var when = new Date(d.at_ms).toISOString().slice(11, 19);
    li.appendChild(document.createTextNode(when + " UTC · " + d.event + " · " + d.channel + " · "));
    li.appendChild(link);
    if (d.text) li.appendChild(document.createTextNode(" — " + (d.author || "") + ": " + d.text));
    li.className = "event";
    add(li);
  });
  // A stored batch of shopper events: one line each, then how many more.
  source.addEventListener("shopper", function (e) {
    var d;
    try { d = JSON.parse(e.data); } catch (_) { return; }
    (d.events || []).forEach(function (ev) {
      var li = document.createElement("li");
      var when = new Date(ev.at_ms).toISOString().slice(11, 19);
      var what = [when + " UTC", "shopper", ev.type, "session " + ev.session_id];
      if (ev.customer_id) what.push("customer " + ev.customer_id);
      if (ev.item_id) what.push("item " + ev.item_id);
      else if (ev.product_id) what.push("product " + ev.product_id);
      if (ev.page_type) what.push(ev.page_type + " page");
      if (ev.query) what.push("searched \u201c" + ev.query + "\u201d");
      li.textContent = what.join(" · ");
      li.className = "event shopper";
      add(li);
    });
    var more = (d.total || 0) - (d.events || []).length;
    if (more > 0) {
      var li = document.createElement("li");
      li.textContent = "… and " + more + " more " + d.source + " events in that batch";
      li.className = "event shopper";
      add(li);
    }
  });
  function add(li) {
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  }
})();
