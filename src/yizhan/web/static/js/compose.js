// Yizhan compose page: the Squire editor and its toolbar, plain-text mode, signatures, pasted and dropped
// images and files, automatic drafts, and sending (Ctrl+Enter). The page's starting state is the JSON block
// #compose-state; every string shown comes from it, translated by the server.
// HTML that enters the editor (the starting body, pastes, drops) is cleaned by DOMPurify; the server sanitises
// again before building the message: it is the authority.
"use strict";

(function () {
  var ns = window.YizhanCompose;
  var form = document.getElementById("compose");
  var stateNode = document.getElementById("compose-state");
  if (!form || !stateNode || !ns || typeof window.Squire !== "function" || !window.DOMPurify) {
    return;
  }
  var state = JSON.parse(stateNode.textContent);
  var m = state.messages;
  var AUTOSAVE_MS = 10000;
  var IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/;

  // --- DOMPurify: what may enter the editor ---
  var PURIFY = {
    FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed", "svg",
                  "math", "link", "meta", "base"],
    FORBID_ATTR: ["id", "name", "srcset", "action", "formaction"],
    ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto|cid):|\/compose\/uploads\/|data:image\/(?:png|jpeg|gif|webp);)/i,
    WHOLE_DOCUMENT: false, RETURN_DOM_FRAGMENT: true,
  };

  function sanitizeToDOMFragment(html) {
    var fragment = window.DOMPurify.sanitize(html, PURIFY);
    return fragment ? document.importNode(fragment, true) : document.createDocumentFragment();
  }

  var root = document.getElementById("compose-editor");
  var textarea = document.getElementById("compose-text");
  var editor = new window.Squire(root, { blockTag: "DIV", sanitizeToDOMFragment: sanitizeToDOMFragment });
  var mode = state.mode === "text" ? "text" : "html";
  var draftUid = state.draft_uid || null;
  var dirty = false;
  var saving = null;
  var timer = null;
  var sending = false;
  var status = document.getElementById("compose-status");
  var generalError = document.getElementById("compose-error");

  function changed() {
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(function () { saveDraft(false); }, AUTOSAVE_MS);
  }

  // --- Fields ---
  var recipients = {};
  ["to", "cc", "bcc"].forEach(function (name) {
    recipients[name] = new ns.RecipientField(document.getElementById("compose-" + name), m, changed);
  });
  ["cc", "bcc"].forEach(function (name) {
    document.getElementById("compose-show-" + name).addEventListener("click", function () {
      document.getElementById("field-" + name).hidden = false;
      document.getElementById("compose-" + name).focus();
    });
  });
  var attachments = new ns.AttachmentList(document.getElementById("compose-files"),
                                          document.getElementById("compose-attachments-error"), state, changed);
  ["compose-subject", "compose-priority", "compose-receipt", "compose-from"].forEach(function (id) {
    document.getElementById(id).addEventListener("change", changed);
  });
  document.getElementById("compose-subject").addEventListener("input", changed);
  textarea.addEventListener("input", changed);
  editor.addEventListener("input", changed);

  // --- Signatures ---
  var signatureSelect = document.getElementById("compose-signature");
  var signatures = {};
  (state.signatures || []).forEach(function (s) { signatures[String(s.id)] = s; });
  var signatureText = "";

  function signatureBlock(s) {
    return '<div class="yz-signature">-- <br>' + s.html + "</div>";
  }

  function applySignatureHtml(s) {
    var existing = root.querySelector(".yz-signature");
    editor.modifyDocument(function () {
      if (!s) {
        if (existing) {
          existing.remove();
        }
        return;
      }
      var fragment = sanitizeToDOMFragment(signatureBlock(s));
      if (existing) {
        existing.replaceWith(fragment);
        return;
      }
      // Replies and forwards: the signature goes above the quoted message; otherwise at the end.
      var anchor = state.source && state.source !== "draft" ? root.firstChild : null;
      if (anchor && anchor.nextSibling) {
        root.insertBefore(fragment, anchor.nextSibling);
      } else {
        root.appendChild(fragment);
      }
    });
  }

  function applySignatureText(s) {
    var value = textarea.value;
    var old = signatureText ? "\n-- \n" + signatureText : "";
    var next = s ? "\n-- \n" + (s.text || htmlToText(s.html)) : "";
    if (old && value.indexOf(old) >= 0) {
      value = value.replace(old, next);
    } else if (next) {
      value = state.source && state.source !== "draft" ? next + value : value + next;
    }
    textarea.value = value;
    signatureText = s ? (s.text || htmlToText(s.html)) : "";
  }

  function applySignature() {
    var s = signatures[signatureSelect.value] || null;
    if (mode === "html") {
      applySignatureHtml(s);
    } else {
      applySignatureText(s);
    }
  }
  signatureSelect.addEventListener("change", function () { applySignature(); changed(); });

  // --- Plain text and HTML ---
  function htmlToText(html) {
    var holder = document.createElement("div");
    holder.appendChild(sanitizeToDOMFragment(html));
    return holder.innerText || holder.textContent || "";
  }

  function textToHtml(text) {
    return text.split("\n").map(function (line) {
      var div = document.createElement("div");
      if (line) {
        div.textContent = line;
      } else {
        div.appendChild(document.createElement("br"));
      }
      return div.outerHTML;
    }).join("");
  }

  var modeButton = document.getElementById("compose-mode");
  var toolbar = document.getElementById("compose-toolbar");

  function showMode() {
    root.hidden = mode !== "html";
    textarea.hidden = mode !== "text";
    toolbar.hidden = mode !== "html";
    modeButton.setAttribute("aria-pressed", mode === "text" ? "true" : "false");
  }

  modeButton.addEventListener("click", function () {
    if (mode === "html") {
      if (!window.confirm(m.to_text_confirm)) {
        return;
      }
      textarea.value = root.innerText;
      mode = "text";
    } else {
      editor.setHTML(textToHtml(textarea.value));
      mode = "html";
    }
    showMode();
    changed();
  });

  // --- Images in the text ---
  function insertImageFile(file) {
    if (!IMAGE_TYPES.test(file.type)) {
      attachments.show(m.image_only);
      return;
    }
    if (file.size > state.limits.max_file_bytes) {
      attachments.show(m.too_large.replace("{name}", file.name || "image")
        .replace("{size}", ns.formatSize(state.limits.max_file_bytes)));
      return;
    }
    status.textContent = m.uploading.replace("{name}", file.name || "image");
    ns.upload(file, true, null, m).then(function (done) {
      status.textContent = "";
      editor.insertImage(done.url, { alt: done.filename });
      changed();
    }).catch(function (error) {
      status.textContent = "";
      attachments.show(m.upload_failed.replace("{name}", file.name || "image").replace("{reason}", error.message));
    });
  }

  function dataUrlToFile(url) {
    var parts = url.split(",");
    var type = (parts[0].match(/^data:([^;]+)/) || [])[1] || "image/png";
    var bytes = atob(parts[1] || "");
    var array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i += 1) {
      array[i] = bytes.charCodeAt(i);
    }
    return new File([array], "image." + type.split("/")[1], { type: type });
  }

  // Pasted HTML with data: images: each image is uploaded and its src replaced by the upload's URL.
  editor.addEventListener("willPaste", function (event) {
    var fragment = event.detail && event.detail.fragment;
    if (!fragment) {
      return;
    }
    Array.prototype.forEach.call(fragment.querySelectorAll("img"), function (img) {
      var src = img.getAttribute("src") || "";
      if (src.indexOf("data:") !== 0) {
        return;
      }
      var file = dataUrlToFile(src);
      img.removeAttribute("src");
      var marker = "yz-pending-" + Math.random().toString(36).slice(2);
      img.setAttribute("alt", marker);
      ns.upload(file, true, null, m).then(function (done) {
        var placed = root.querySelector('img[alt="' + marker + '"]');
        if (placed) {
          placed.setAttribute("src", done.url);
          placed.setAttribute("alt", done.filename);
          changed();
        }
      }).catch(function (error) {
        attachments.show(m.upload_failed.replace("{name}", file.name).replace("{reason}", error.message));
      });
    });
  });

  editor.addEventListener("pasteImage", function (event) {
    var items = event.detail.clipboardData.items;
    for (var i = 0; i < items.length; i += 1) {
      if (/^image\//.test(items[i].type)) {
        var file = items[i].getAsFile();
        if (file) {
          insertImageFile(file);
        }
      }
    }
  });

  // Files pasted outside the editor, or dropped anywhere on the form: images dropped on the editor go into the
  // text, everything else is attached.
  form.addEventListener("paste", function (event) {
    if (root.contains(event.target)) {
      return;
    }
    var files = event.clipboardData && event.clipboardData.files;
    if (files && files.length) {
      event.preventDefault();
      attachments.add(files);
    }
  });
  form.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
      form.classList.add("dropping");
    }
  });
  form.addEventListener("dragleave", function () { form.classList.remove("dropping"); });
  form.addEventListener("drop", function (event) {
    form.classList.remove("dropping");
    var files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    var others = [];
    Array.prototype.forEach.call(files, function (file) {
      if (mode === "html" && root.contains(event.target) && IMAGE_TYPES.test(file.type)) {
        insertImageFile(file);
      } else {
        others.push(file);
      }
    });
    if (others.length) {
      attachments.add(others);
    }
  }, true);

  var fileInput = document.getElementById("compose-file");
  document.getElementById("compose-attach").addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    attachments.add(fileInput.files);
    fileInput.value = "";
  });
  var imageInput = document.getElementById("compose-image-file");
  imageInput.addEventListener("change", function () {
    if (imageInput.files[0]) {
      insertImageFile(imageInput.files[0]);
    }
    imageInput.value = "";
  });

  // --- Toolbar ---
  var findBar = new ns.FindBar(editor, m);

  function inList() {
    return /(?:^|>)(?:UL|OL)(?:>|$|\.)/.test(editor.getPath());
  }

  function indent(step) {
    if (inList()) {
      return step > 0 ? editor.increaseListLevel() : editor.decreaseListLevel();
    }
    editor.forEachBlock(function (block) {
      var now = parseFloat(block.style.marginLeft) || 0;
      var next = Math.max(0, now + step * 2);
      block.style.marginLeft = next ? next + "em" : "";
    }, true);
    editor.focus();
  }

  var commands = {
    bold: function () { return editor.hasFormat("B") ? editor.removeBold() : editor.bold(); },
    italic: function () { return editor.hasFormat("I") ? editor.removeItalic() : editor.italic(); },
    underline: function () { return editor.hasFormat("U") ? editor.removeUnderline() : editor.underline(); },
    strikethrough: function () {
      return editor.hasFormat("S") ? editor.removeStrikethrough() : editor.strikethrough();
    },
    "align-left": function () { editor.setTextAlignment("left"); },
    "align-center": function () { editor.setTextAlignment("center"); },
    "align-right": function () { editor.setTextAlignment("right"); },
    "align-justify": function () { editor.setTextAlignment("justify"); },
    ul: function () { return editor.hasFormat("UL") ? editor.removeList() : editor.makeUnorderedList(); },
    ol: function () { return editor.hasFormat("OL") ? editor.removeList() : editor.makeOrderedList(); },
    indent: function () { indent(1); },
    outdent: function () { indent(-1); },
    quote: function () { editor.increaseQuoteLevel(); },
    unquote: function () { editor.decreaseQuoteLevel(); },
    link: function () {
      var url = window.prompt(m.link_prompt, "https://");
      if (url === null) {
        return;
      }
      url = url.trim();
      if (!/^(https?:\/\/|mailto:)\S+$/i.test(url)) {
        window.alert(m.bad_link);
        return;
      }
      editor.makeLink(url);
    },
    image: function () { imageInput.click(); },
    clear: function () { editor.removeAllFormatting(); },
    undo: function () { editor.undo(); },
    redo: function () { editor.redo(); },
    find: function () { findBar.open(); },
  };

  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-command]");
    if (!button) {
      return;
    }
    var command = commands[button.getAttribute("data-command")];
    if (command) {
      command();
      changed();
    }
  });
  // Keep the editor's selection when a toolbar button is pressed.
  toolbar.addEventListener("mousedown", function (event) {
    if (event.target.closest("button[data-command]")) {
      event.preventDefault();
    }
  });
  document.getElementById("tb-font").addEventListener("change", function (event) {
    if (event.target.value) {
      editor.setFontFace(event.target.value);
      changed();
    }
    event.target.value = "";
  });
  document.getElementById("tb-size").addEventListener("change", function (event) {
    if (event.target.value) {
      editor.setFontSize(event.target.value);
      changed();
    }
    event.target.value = "";
  });
  document.getElementById("tb-color").addEventListener("input", function (event) {
    editor.setTextColor(event.target.value);
    changed();
  });
  document.getElementById("tb-highlight").addEventListener("input", function (event) {
    editor.setHighlightColor(event.target.value);
    changed();
  });
  editor.addEventListener("pathChange", function () {
    var states = { bold: "B", italic: "I", underline: "U", strikethrough: "S", ul: "UL", ol: "OL" };
    Object.keys(states).forEach(function (command) {
      var button = toolbar.querySelector('[data-command="' + command + '"]');
      if (button) {
        button.setAttribute("aria-pressed", editor.hasFormat(states[command]) ? "true" : "false");
      }
    });
  });
  editor.addEventListener("undoStateChange", function (event) {
    toolbar.querySelector('[data-command="undo"]').disabled = !event.detail.canUndo;
    toolbar.querySelector('[data-command="redo"]').disabled = !event.detail.canRedo;
  });
  editor.setKeyHandler("Ctrl-F", function (self, event) {
    event.preventDefault();
    findBar.open();
  });

  // --- The message as JSON ---
  function message() {
    var body = mode === "html" ? { html: editor.getHTML(), text: "" } : { html: "", text: textarea.value };
    return {
      from: document.getElementById("compose-from").value,
      to: recipients.to.values(), cc: recipients.cc.values(), bcc: recipients.bcc.values(),
      subject: document.getElementById("compose-subject").value,
      html: body.html, text: body.text, attachments: attachments.ids(),
      priority: Number(document.getElementById("compose-priority").value),
      receipt: document.getElementById("compose-receipt").checked,
      source: state.source || "", draft_uid: draftUid, back: state.back,
    };
  }

  function clearErrors() {
    generalError.hidden = true;
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (node) {
      node.hidden = true;
      node.textContent = "";
    });
  }

  function showErrors(body, prefix) {
    var error = (body && body.error) || {};
    var shown = false;
    (error.fields || []).forEach(function (item) {
      var name = String(item.field || "").split(".")[0];
      var node = document.getElementById("compose-" + name + "-error");
      if (node) {
        node.textContent = item.problem;
        node.hidden = false;
        document.getElementById("field-" + name) && (document.getElementById("field-" + name).hidden = false);
        shown = true;
      }
    });
    if (!shown) {
      generalError.textContent = prefix.replace("{reason}", error.message || "HTTP");
      generalError.hidden = false;
    }
  }

  function post(path, keepalive) {
    return fetch(path, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": ns.csrf() },
      body: JSON.stringify(message()),
    });
  }

  function saveDraft(leaving) {
    window.clearTimeout(timer);
    if (!dirty || sending) {
      return Promise.resolve();
    }
    if (saving) {
      return saving.then(function () { return saveDraft(leaving); });
    }
    dirty = false;
    status.textContent = m.saving;
    saving = post("/compose/draft", leaving).then(function (reply) {
      return reply.json().then(function (body) {
        if (reply.status === 201) {
          draftUid = body.draft_uid;
          status.textContent = m.saved_at.replace("{time}", body.saved_at_text);
        } else {
          dirty = true;
          status.textContent = m.save_failed.replace("{reason}", (body.error && body.error.message) || "");
        }
      });
    }).catch(function () {
      dirty = true;
      status.textContent = m.save_failed.replace("{reason}", m.network);
    }).then(function () { saving = null; });
    return saving;
  }

  document.getElementById("compose-save").addEventListener("click", function () {
    dirty = true;
    saveDraft(false);
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      saveDraft(true);
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty && !sending) {
      saveDraft(true);
      event.preventDefault();
      event.returnValue = m.leave_unsaved;
    }
  });

  function send() {
    if (sending) {
      return;
    }
    clearErrors();
    var ok = true;
    Object.keys(recipients).forEach(function (name) { ok = recipients[name].check(false) && ok; });
    if (!ok) {
      return;
    }
    if (!recipients.to.values().length && !recipients.cc.values().length && !recipients.bcc.values().length) {
      recipients.to.show(m.no_recipient);
      return;
    }
    if (attachments.pending) {
      attachments.show(m.uploading.replace("{name}", ""));
      return;
    }
    if (!document.getElementById("compose-subject").value.trim() && !window.confirm(m.no_subject_confirm)) {
      return;
    }
    sending = true;
    window.clearTimeout(timer);
    status.textContent = m.sending;
    var button = document.getElementById("compose-send");
    button.disabled = true;
    (saving || Promise.resolve()).then(function () { return post("/compose/send", false); }).then(function (reply) {
      return reply.json().then(function (body) {
        if (reply.status === 201) {
          dirty = false;
          window.location.assign(body.redirect);
          return;
        }
        sending = false;
        button.disabled = false;
        status.textContent = "";
        showErrors(body, m.send_failed);
      });
    }).catch(function () {
      sending = false;
      button.disabled = false;
      status.textContent = "";
      showErrors({ error: { message: m.network } }, m.send_failed);
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send();
  });
  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      send();
    }
  });

  // --- Start ---
  if (mode === "html") {
    editor.setHTML(state.html || "<div><br></div>");
  } else {
    textarea.value = state.text || "";
  }
  if (!state.has_signature && signatureSelect.value) {
    applySignature();
  }
  showMode();
  dirty = false;
  if (recipients.to.values().length) {
    (mode === "html" ? editor : textarea).focus();
    if (mode === "html") {
      editor.moveCursorToStart();
    }
  } else {
    document.getElementById("compose-to").focus();
  }
})();
