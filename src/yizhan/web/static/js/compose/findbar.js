// Yizhan compose: a small find bar for the editor. Matches are found in the editor's text (case-insensitive,
// across the text nodes of one block), selected with the editor's own selection and scrolled into view.
"use strict";

(function () {
  var ns = (window.YizhanCompose = window.YizhanCompose || {});

  function FindBar(editor, messages) {
    this.editor = editor;
    this.messages = messages;
    this.bar = document.getElementById("compose-find");
    this.input = document.getElementById("compose-find-text");
    this.count = document.getElementById("compose-find-count");
    this.matches = [];
    this.index = -1;
    var self = this;
    this.input.addEventListener("input", function () { self.search(); });
    this.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        self.step(event.shiftKey ? -1 : 1);
      } else if (event.key === "Escape") {
        event.preventDefault();
        self.close();
      }
    });
    document.getElementById("compose-find-next").addEventListener("click", function () { self.step(1); });
    document.getElementById("compose-find-prev").addEventListener("click", function () { self.step(-1); });
    document.getElementById("compose-find-close").addEventListener("click", function () { self.close(); });
  }

  FindBar.prototype.open = function () {
    this.bar.hidden = false;
    var selected = this.editor.getSelectedText ? this.editor.getSelectedText() : "";
    if (selected && selected.length < 100) {
      this.input.value = selected;
    }
    this.input.focus();
    this.input.select();
    this.search();
  };

  FindBar.prototype.close = function () {
    this.bar.hidden = true;
    this.matches = [];
    this.editor.focus();
  };

  // Every match as a Range, in document order.
  FindBar.prototype.search = function () {
    var needle = this.input.value.toLowerCase();
    this.matches = [];
    this.index = -1;
    if (needle) {
      var root = this.editor.getRoot();
      var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      var nodes = [];
      var text = "";
      var node;
      while ((node = walker.nextNode())) {
        nodes.push({ node: node, start: text.length });
        text += node.data;
      }
      var lower = text.toLowerCase();
      var at = lower.indexOf(needle);
      while (at >= 0 && this.matches.length < 1000) {
        var range = this.rangeAt(nodes, at, at + needle.length);
        if (range) {
          this.matches.push(range);
        }
        at = lower.indexOf(needle, at + Math.max(1, needle.length));
      }
    }
    this.step(1);
  };

  FindBar.prototype.rangeAt = function (nodes, start, end) {
    var range = document.createRange();
    var startSet = false;
    for (var i = 0; i < nodes.length; i += 1) {
      var item = nodes[i];
      var last = item.start + item.node.data.length;
      if (!startSet && start < last) {
        range.setStart(item.node, start - item.start);
        startSet = true;
      }
      if (startSet && end <= last) {
        range.setEnd(item.node, end - item.start);
        return range;
      }
    }
    return null;
  };

  FindBar.prototype.step = function (direction) {
    if (!this.matches.length) {
      this.count.textContent = this.input.value ? this.messages.not_found : "";
      return;
    }
    this.index = (this.index + direction + this.matches.length) % this.matches.length;
    var range = this.matches[this.index];
    this.editor.setSelection(range);
    var box = range.getBoundingClientRect();
    if (box && (box.top < 0 || box.bottom > window.innerHeight)) {
      var element = range.startContainer.parentElement;
      if (element) {
        element.scrollIntoView({ block: "center" });
      }
    }
    this.count.textContent = this.messages.found_count.replace("{index}", String(this.index + 1))
      .replace("{count}", String(this.matches.length));
    this.input.focus();
  };

  ns.FindBar = FindBar;
})();
