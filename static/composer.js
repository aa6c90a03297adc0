// Composer: the live character counter (counting exactly as Threads does, mirroring
// scheduler.threads.text.counting_rule(), rendered into data-counting-rule) and showing only the
// fields that apply to the chosen post type and repeat pattern.
(function () {
  "use strict";

  function weight(cp, rule) {
    if (cp < 0x80) return 1;
    if (cp > 0xffff) return rule.astral_weight;
    var ranges = rule.emoji_bmp_ranges;
    for (var i = 0; i < ranges.length; i++) {
      if (cp >= ranges[i][0] && cp <= ranges[i][1]) return cp < 0x800 ? 2 : 3;
    }
    return 1;
  }

  function count(text, rule) {
    var total = 0;
    for (var ch of text) total += weight(ch.codePointAt(0), rule);
    return total;
  }

  var rules = new WeakMap();
  function updateCounter(area) {
    var rule = rules.get(area);
    if (!rule) {
      rule = JSON.parse(area.getAttribute("data-counting-rule"));
      rules.set(area, rule);
    }
    var output = document.getElementById(area.getAttribute("data-counter"));
    if (!output) return;
    var used = count(area.value, rule);
    output.textContent = used + " / " + rule.limit;
    output.classList.toggle("over", used > rule.limit);
  }

  function chosen(form, name) {
    var field = form.querySelector('[name="' + name + '"]');
    return field ? field.value : "";
  }

  function syncSections(form) {
    var type = chosen(form, "type");
    var pattern = chosen(form, "schedule.pattern");
    form.querySelectorAll("[data-for-types]").forEach(function (el) {
      el.classList.toggle("is-hidden", el.getAttribute("data-for-types").split(" ").indexOf(type) < 0);
    });
    form.querySelectorAll("[data-for-patterns]").forEach(function (el) {
      el.classList.toggle("is-hidden", el.getAttribute("data-for-patterns").split(" ").indexOf(pattern) < 0);
    });
  }

  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLTextAreaElement && event.target.hasAttribute("data-counter")) {
      updateCounter(event.target);
    }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-composer]");
    if (form) syncSections(form);
  });

  htmx.onLoad(function (root) {
    if (!(root instanceof Element)) return;
    root.querySelectorAll("textarea[data-counter]").forEach(updateCounter);
    var forms = root.matches("form[data-composer]") ? [root] : root.querySelectorAll("form[data-composer]");
    forms.forEach(syncSections);
  });
})();
