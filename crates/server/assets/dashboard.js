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
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 50) list.removeChild(list.lastChild);
  });
})();
