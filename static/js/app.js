// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
    var print = event.target.closest("[data-print]");
    if (print) {
      event.preventDefault();
      window.print();
    }
  });

  // Countdown to the deadline. The server's clock is the only clock: the page carries the
  // server time it was rendered at, and we only add the time elapsed since then.
  function startCountdowns() {
    var nodes = document.querySelectorAll(".countdown[data-deadline]");
    if (!nodes.length) { return; }
    var loadedAt = Date.now();
    function tick() {
      nodes.forEach(function (node) {
        var serverNow = Date.parse(node.getAttribute("data-now")) + (Date.now() - loadedAt);
        var left = Date.parse(node.getAttribute("data-deadline")) - serverNow;
        var value = node.querySelector(".countdown-value");
        if (!value) { return; }
        if (left <= 0) {
          value.textContent = node.getAttribute("data-closed");
          return;
        }
        var minutes = Math.floor(left / 60000);
        value.textContent = node.getAttribute("data-format")
          .replace("{d}", Math.floor(minutes / 1440))
          .replace("{h}", Math.floor((minutes % 1440) / 60))
          .replace("{m}", minutes % 60);
        node.classList.toggle("soon", left <= 86400000);
      });
    }
    tick();
    window.setInterval(tick, 15000);
  }

  // Drag and drop onto the file field, and an upload progress bar.
  function enhanceUploads() {
    document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      var input = zone.querySelector("input[type=file]");
      if (!input) { return; }
      ["dragenter", "dragover"].forEach(function (name) {
        zone.addEventListener(name, function (event) {
          event.preventDefault();
          zone.classList.add("dragover");
        });
      });
      ["dragleave", "drop"].forEach(function (name) {
        zone.addEventListener(name, function () { zone.classList.remove("dragover"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files.length) {
          input.files = event.dataTransfer.files;
        }
      });
    });
    document.querySelectorAll("form[data-upload]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.XMLHttpRequest || !window.FormData) { return; }
        event.preventDefault();
        var bar = form.querySelector(".upload-progress");
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; }  // no double submit while uploading
        if (bar) { bar.hidden = false; bar.value = 0; }
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action || window.location.href);
        xhr.upload.addEventListener("progress", function (e) {
          if (bar && e.lengthComputable) { bar.value = Math.round(e.loaded * 100 / e.total); }
        });
        xhr.addEventListener("load", function () {
          // Show what the server answered: the receipt after its redirect (the XHR already
          // followed it and consumed the one-time message, so we must not load it again),
          // or the form with the server's message.
          if (xhr.responseURL && xhr.responseURL !== window.location.href) {
            window.history.replaceState(null, "", xhr.responseURL);
          }
          document.open();
          document.write(xhr.responseText);
          document.close();
        });
        xhr.addEventListener("error", function () {
          if (button) { button.disabled = false; }
          if (bar) { bar.hidden = true; }
          form.submit();  // fall back to a plain upload
        });
        xhr.send(new FormData(form));
      });
    });
  }

  // A judge's score sheet saves itself as a draft a moment after each change (the
  // buttons still work without JavaScript). One save at a time: a change made while one
  // is on its way is saved right after it, so an older save never lands last. The
  // running total is shown beside the rubric.
  // A table wider than its container gets the class "scrolls": the edge shadow and a hint
  // under it say that it scrolls sideways (the first column stays in place).
  function markScrollingTables() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      var table = wrap.querySelector("table");
      var wide = table && table.scrollWidth > wrap.clientWidth + 1;
      wrap.classList.toggle("scrolls", !!wide);
      var hint = wrap.nextElementSibling;
      if (wide && !(hint && hint.classList.contains("table-hint"))) {
        hint = document.createElement("p");
        hint.className = "table-hint no-print";
        hint.textContent = document.documentElement.lang === "en"
          ? "Scroll sideways to see every column; the first stays in place."
          : "表格较宽，可左右滚动查看各列（第一列固定）。";
        wrap.parentNode.insertBefore(hint, wrap.nextSibling);
      }
    });
  }

  // A text to pick (a judge's comment for the 推荐理由): the button adds it to the field.
  function enhancePicks() {
    document.querySelectorAll("button[data-append-to]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.getElementById(button.getAttribute("data-append-to"));
        if (!field) { return; }
        var text = button.getAttribute("data-text") || "";
        if (field.value.indexOf(text) === -1) { field.value = field.value + text; }
        field.focus();
      });
    });
  }

  // A score above its criterion's maximum (or below 0, or not a number) is flagged as it is
  // typed, beside the field; the server checks again on saving and submitting.
  function checkPoints(input) {
    var field = input.closest(".field");
    if (!field) { return; }
    var note = field.querySelector(".typed-error");
    var raw = input.value.trim().replace(/[\uff10-\uff19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
    }).replace("\uff0e", ".");
    var max = parseFloat(input.getAttribute("data-max"));
    var value = parseFloat(raw);
    var problem = "";
    if (raw !== "" && (isNaN(value) || !/^\d+(\.\d+)?$/.test(raw))) {
      problem = field.getAttribute("data-not-number") || "分数须为数字";
    } else if (raw !== "" && value > max) {
      problem = (field.getAttribute("data-over-max") || "超出满分") + " " + input.getAttribute("data-max");
    }
    if (problem && !note) {
      note = document.createElement("p");
      note.className = "error-text typed-error";
      note.setAttribute("role", "alert");
      field.appendChild(note);
    }
    if (note) { note.textContent = problem; note.hidden = !problem; }
    field.classList.toggle("has-error", !!problem);
    input.setAttribute("aria-invalid", problem ? "true" : "false");
  }

  function enhanceSheets() {
    document.querySelectorAll("input[data-max]").forEach(function (input) {
      input.addEventListener("input", function () { checkPoints(input); });
      checkPoints(input);
    });
    document.querySelectorAll("form[data-autosave]").forEach(function (form) {
      var status = form.querySelector("#autosave-status");
      var total = form.querySelector("#total");
      var timer = null, saving = false, again = false;
      function showTotal() {
        if (!total) { return; }
        var sum = 0, all = true;
        form.querySelectorAll("input[data-max]").forEach(function (input) {
          var value = parseFloat(input.value.replace(/[\uff10-\uff19]/g, function (c) {
            return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
          }).replace("\uff0e", "."));
          if (isNaN(value)) { all = false; } else { sum += value; }
        });
        total.textContent = all ? (total.getAttribute("data-label") || "合计：") + sum : "";
      }
      function answer(r) {
        var type = r.headers.get("Content-Type") || "";
        if (r.redirected) {
          return { ok: false, message: "登录已过期，草稿未保存。请先记下本页填写的分数，重新登录后再填。" };
        }
        if (type.indexOf("application/json") < 0) {
          return { ok: false, message: "页面已过期，草稿未保存。请先记下本页填写的分数，刷新页面后再填。" };
        }
        return r.json();
      }
      function save() {
        if (saving) { again = true; return; }
        saving = true;
        var data = new FormData(form);
        data.append("autosave", "1");
        status.textContent = "正在保存草稿…";
        // form.getAttribute: `form.action` would be the button named "action".
        fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin",
                                             headers: { "Accept": "application/json" } })
          .then(answer)
          .then(function (result) {
            status.textContent = result.ok ? "草稿已自动保存（" + new Date().toLocaleTimeString() + "）"
              : result.message + (result.code ? "（错误代码 " + result.code + "）" : "");
          })
          .catch(function () { status.textContent = "草稿未能保存，请检查网络后点击“保存草稿”。"; })
          .then(function () {
            saving = false;
            if (again) { again = false; save(); }
          });
      }
      form.addEventListener("input", function () {
        showTotal();
        clearTimeout(timer);
        timer = setTimeout(save, 1500);
      });
      form.addEventListener("submit", function () { clearTimeout(timer); });
      showTotal();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    startCountdowns();
    enhanceUploads();
    enhanceSheets();
    enhancePicks();
    markScrollingTables();
    window.addEventListener("resize", markScrollingTables);
  });
}());
