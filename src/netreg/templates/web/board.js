// The board refreshes itself when the ledger changes (this page, another tab or the CLI), and
// files dropped anywhere on the page are uploaded as one delivery. Reading works without it.
(function () {
  var me = document.getElementById("board-js");
  var seen = me && me.getAttribute("data-version");
  function poll() {
    fetch("/version", {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (v) {
      if (v && seen && v !== seen && !document.querySelector("input[type=file]").files.length) {
        location.reload();
      }
    }).catch(function () {});
  }
  setInterval(poll, 3000);
  var drop = document.getElementById("drop");
  var input = document.getElementById("files");
  var form = document.getElementById("upload-form");
  if (!drop || !input || !form) return;
  ["dragenter", "dragover"].forEach(function (e) {
    document.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
  });
  document.addEventListener("dragleave", function () { drop.classList.remove("over"); });
  document.addEventListener("drop", function (ev) {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      form.submit();
    }
  });
})();
