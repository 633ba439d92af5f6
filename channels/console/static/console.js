// Optional auto-refresh of the inbox and of an open conversation: only while nothing is typed or focused,
// and only if the checkbox (shown only with JavaScript) stays checked; the choice is remembered.
(function () {
  "use strict";
  var main = document.getElementById("inhalt");
  var seconds = main ? parseInt(main.getAttribute("data-refresh-seconds") || "0", 10) : 0;
  var box = document.getElementById("auto-refresh");
  if (!seconds || !box) { return; }
  var key = "console-auto-refresh";
  try { box.checked = window.localStorage.getItem(key) !== "off"; } catch (e) { /* private mode */ }
  box.closest(".refresh-toggle").hidden = false;
  box.addEventListener("change", function () {
    try { window.localStorage.setItem(key, box.checked ? "on" : "off"); } catch (e) { /* ignore */ }
  });
  window.setInterval(function () {
    if (!box.checked || document.hidden) { return; }
    var active = document.activeElement;
    if (active && active !== document.body && active !== main) { return; }
    var typed = Array.prototype.some.call(document.querySelectorAll("textarea, input[type=text]"), function (el) {
      return el.value.trim() !== "";
    });
    if (!typed) { window.location.reload(); }
  }, seconds * 1000);
})();
