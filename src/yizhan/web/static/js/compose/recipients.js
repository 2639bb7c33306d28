// Yizhan compose: recipient fields (To, Cc, Bcc). Addresses are separated by , ; ， or ； (outside quotes and
// angle brackets), checked as they are typed (a finished entry that is not an address gets a message naming it),
// and completed from /compose/recipients (contacts, the organisation's directory, past correspondents).
// The server checks again on send; this only helps the user see a mistake early.
"use strict";

(function () {
  var ns = (window.YizhanCompose = window.YizhanCompose || {});
  var ADDRESS = /^[^\s@<>(),;:"\\\[\]]+@[^\s@<>(),;:"\\\[\]]+$/;

  // Split on the separators outside "quoted strings" and <angle brackets>; empty entries are dropped.
  function split(value) {
    var pieces = [];
    var current = "";
    var quoted = false;
    var angle = false;
    for (var i = 0; i < value.length; i += 1) {
      var ch = value[i];
      if (ch === '"') {
        quoted = !quoted;
      } else if (ch === "<" && !quoted) {
        angle = true;
      } else if (ch === ">" && !quoted) {
        angle = false;
      } else if (",;，；".indexOf(ch) >= 0 && !quoted && !angle) {
        pieces.push(current);
        current = "";
        continue;
      }
      current += ch;
    }
    pieces.push(current);
    return pieces.map(function (p) { return p.trim(); }).filter(function (p) { return p; });
  }

  // The address of one entry ("Name <a@b>" or "a@b"), or null when it is not one.
  function addressOf(entry) {
    var open = entry.lastIndexOf("<");
    var close = entry.lastIndexOf(">");
    var candidate = open >= 0 ? (close > open ? entry.slice(open + 1, close) : "") : entry;
    candidate = candidate.trim();
    if (open >= 0 && close !== entry.length - 1) {
      return null;
    }
    return ADDRESS.test(candidate) ? candidate : null;
  }

  // The first entry of `value` that is not an address; `finishedOnly` skips the entry being typed (the last
  // one, when the text does not end with a separator).
  function firstBad(value, finishedOnly) {
    var entries = split(value);
    var trimmed = value.replace(/\s+$/, "");
    if (finishedOnly && entries.length && ",;，；".indexOf(trimmed.slice(-1)) < 0) {
      entries = entries.slice(0, -1);
    }
    for (var i = 0; i < entries.length; i += 1) {
      if (!addressOf(entries[i])) {
        return entries[i];
      }
    }
    return null;
  }

  function RecipientField(input, messages, onChange) {
    this.input = input;
    this.name = input.id.replace("compose-", "");
    this.error = document.getElementById("compose-" + this.name + "-error");
    this.list = document.getElementById("compose-suggest-" + this.name);
    this.messages = messages;
    this.onChange = onChange;
    this.suggestions = [];
    this.active = -1;
    this.timer = null;
    this.serial = 0;
    var self = this;
    input.addEventListener("input", function () {
      self.check(true);
      self.schedule();
      onChange();
    });
    input.addEventListener("blur", function () {
      // Let a click on a suggestion land first.
      window.setTimeout(function () { self.hide(); self.check(false); }, 150);
    });
    input.addEventListener("keydown", function (event) { self.key(event); });
    this.list.addEventListener("mousedown", function (event) {
      var item = event.target.closest("li[data-index]");
      if (item) {
        event.preventDefault();
        self.choose(Number(item.getAttribute("data-index")));
      }
    });
  }

  RecipientField.prototype.show = function (message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
    this.input.setAttribute("aria-invalid", message ? "true" : "false");
  };

  // Returns true when every entry (or every finished one) is an address.
  RecipientField.prototype.check = function (finishedOnly) {
    var bad = firstBad(this.input.value, finishedOnly);
    this.show(bad ? this.messages.bad_address.replace("{address}", bad) : "");
    return !bad;
  };

  RecipientField.prototype.values = function () {
    return this.input.value.trim() ? [this.input.value] : [];
  };

  RecipientField.prototype.current = function () {
    var value = this.input.value;
    var cut = Math.max(value.lastIndexOf(","), value.lastIndexOf(";"), value.lastIndexOf("，"),
                       value.lastIndexOf("；"));
    return { head: value.slice(0, cut + 1), text: value.slice(cut + 1).trim() };
  };

  RecipientField.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    var text = this.current().text;
    if (!text || text.indexOf("@") >= 0 && addressOf(text)) {
      this.hide();
      return;
    }
    this.timer = window.setTimeout(function () { self.fetch(text); }, 150);
  };

  RecipientField.prototype.fetch = function (text) {
    var self = this;
    var serial = (this.serial += 1);
    fetch("/compose/recipients?q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (reply) { return reply.ok ? reply.json() : { suggestions: [] }; })
      .then(function (data) {
        if (serial === self.serial && self.current().text === text) {
          self.render(data.suggestions || []);
        }
      })
      .catch(function () { self.hide(); });
  };

  RecipientField.prototype.render = function (suggestions) {
    this.suggestions = suggestions;
    this.active = suggestions.length ? 0 : -1;
    this.list.textContent = "";
    var self = this;
    suggestions.forEach(function (s, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.setAttribute("data-index", String(index));
      item.id = self.list.id + "-" + index;
      item.setAttribute("data-testid", "suggestion");
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = s.name || s.address;
      var address = document.createElement("span");
      address.className = "address";
      address.textContent = s.address;
      item.appendChild(name);
      item.appendChild(address);
      self.list.appendChild(item);
    });
    this.list.hidden = !suggestions.length;
    this.input.setAttribute("aria-expanded", suggestions.length ? "true" : "false");
    this.highlight();
  };

  RecipientField.prototype.highlight = function () {
    var items = this.list.querySelectorAll("li");
    for (var i = 0; i < items.length; i += 1) {
      items[i].setAttribute("aria-selected", i === this.active ? "true" : "false");
    }
    if (this.active >= 0 && items[this.active]) {
      this.input.setAttribute("aria-activedescendant", items[this.active].id);
    } else {
      this.input.removeAttribute("aria-activedescendant");
    }
  };

  RecipientField.prototype.hide = function () {
    this.list.hidden = true;
    this.suggestions = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  RecipientField.prototype.choose = function (index) {
    var s = this.suggestions[index];
    if (!s) {
      return;
    }
    var head = this.current().head;
    var name = s.name ? '"' + s.name.replace(/["\\]/g, "") + '" ' : "";
    this.input.value = (head ? head.replace(/\s*$/, " ") : "") + name + "<" + s.address + ">, ";
    this.hide();
    this.check(true);
    this.onChange();
    this.input.focus();
  };

  RecipientField.prototype.key = function (event) {
    if (this.list.hidden || !this.suggestions.length) {
      return;
    }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.suggestions.length) % this.suggestions.length;
      this.highlight();
    } else if ((event.key === "Enter" || event.key === "Tab") && this.active >= 0 && !event.ctrlKey) {
      event.preventDefault();
      this.choose(this.active);
    } else if (event.key === "Escape") {
      this.hide();
    }
  };

  ns.split = split;
  ns.addressOf = addressOf;
  ns.RecipientField = RecipientField;
})();
