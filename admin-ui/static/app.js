// Progressive enhancement for the alliance node UI. Every page works without it.
(function () {
  'use strict';

  var root = document.documentElement;
  root.classList.remove('no-js');
  root.classList.add('js');

  // Collapsible navigation on small screens.
  var toggle = document.querySelector('.nav-toggle');
  var nav = document.getElementById('site-nav');
  if (toggle && nav) {
    toggle.addEventListener('click', function () {
      var open = toggle.getAttribute('aria-expanded') === 'true';
      toggle.setAttribute('aria-expanded', String(!open));
      nav.classList.toggle('open', !open);
    });
  }

  // Ask before a destructive action (forms marked data-confirm).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // Long operations (checking or importing a spreadsheet, saving a record): show that
  // the work is under way and keep the form from being sent twice.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute('data-progress');
    if (!message || event.defaultPrevented) {
      return;
    }
    form.setAttribute('aria-busy', 'true');
    Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
      window.setTimeout(function () { b.disabled = true; }, 0);
    });
    var status = form.querySelector('.progress');
    if (!status) {
      status = document.createElement('p');
      status.className = 'progress';
      status.setAttribute('role', 'status');
      form.appendChild(status);
    }
    status.hidden = false;
    status.textContent = message;
  });

  // Menu badges: how much work waits behind each item, asked once per page; without this
  // script the work page (/) shows the same counts.
  var nav = document.getElementById('site-nav');
  var badgesUrl = nav && nav.getAttribute('data-badges');
  if (badgesUrl && window.fetch) {
    fetch(badgesUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (counts) {
        Object.keys(counts).forEach(function (key) {
          var n = counts[key];
          var link = nav.querySelector('a[data-badge="' + key + '"]');
          if (!link || !n) { return; }
          var badge = document.createElement('span');
          badge.className = 'nav-badge';
          badge.textContent = n > 99 ? '99+' : String(n);
          badge.setAttribute('aria-label', n + ' ' + nav.getAttribute('data-badge-label'));
          link.appendChild(badge);
        });
      })
      .catch(function () {});
  }

  // The calendar picks a span: a free hour sets the booking form's start (an hour long); a
  // later free hour of the same day, with only free hours between, sets its end. Without
  // this script a free hour's link reloads the page with the start filled in.
  var spanStart = null;
  var lengthText = function (status, minutes) {
    var h = Math.floor(minutes / 60);
    var m = minutes % 60;
    var parts = [];
    if (h) { parts.push(h + ' ' + status.getAttribute('data-hours')); }
    if (m || !h) { parts.push(m + ' ' + status.getAttribute('data-minutes')); }
    return parts.join(' ');
  };
  var setLength = function (status, minutes) {
    var select = document.getElementById('minutes');
    if (!select) { return; }
    var value = String(minutes);
    var found = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    if (!found) {
      var option = document.createElement('option');
      option.value = value;
      option.textContent = lengthText(status, minutes);
      select.appendChild(option);
    }
    select.value = value;
  };
  var hourOf = function (value) { return value.slice(0, 13); };
  var freeHoursBetween = function (table, from, to) {
    var links = table.querySelectorAll('a[data-start]');
    return Array.prototype.filter.call(links, function (a) {
      var hour = hourOf(a.getAttribute('data-start'));
      return hour >= from && hour <= to;
    });
  };
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-start]');
    var input = document.getElementById('start');
    var status = document.getElementById('picked-span');
    if (!link || !input || !status) {
      return;
    }
    event.preventDefault();
    var table = link.closest('table');
    Array.prototype.forEach.call(document.querySelectorAll('.slot.picked'), function (c) {
      c.classList.remove('picked');
    });
    var start = link.getAttribute('data-start');
    var end = link.getAttribute('data-end');
    var max = parseInt(status.getAttribute('data-max-minutes'), 10) || 0;
    var tooLong = false;
    var show = function (from, to) {
      status.hidden = false;
      status.textContent = status.getAttribute('data-prefix') + from.replace('T', ' ') + ' – ' + to.slice(11);
    };
    if (spanStart && spanStart.table === table && start.slice(0, 10) === spanStart.start.slice(0, 10) && start > spanStart.start) {
      var from = hourOf(spanStart.start);
      var to = hourOf(start);
      var cells = freeHoursBetween(table, from, to);
      var hours = (Date.parse(to + ':00') - Date.parse(from + ':00')) / 3600000 + 1;
      var minutes = Math.round((Date.parse(end) - Date.parse(spanStart.start)) / 60000);
      if (cells.length === hours && (!max || minutes <= max)) {
        cells.forEach(function (a) { a.parentNode.classList.add('picked'); });
        input.value = spanStart.start;
        setLength(status, minutes);
        show(spanStart.start, end);
        spanStart = null;
        var form = document.getElementById('booking-form') || input;
        form.scrollIntoView({ block: 'start' });
        input.focus({ preventScroll: true });
        return;
      }
      tooLong = max > 0 && minutes > max;
    }
    spanStart = { start: start, table: table };
    link.parentNode.classList.add('picked');
    input.value = start;
    setLength(status, Math.round((Date.parse(end) - Date.parse(start)) / 60000));
    show(start, end);
    if (tooLong) {
      status.textContent = status.getAttribute('data-too-long') + ' ' + status.textContent;
    }
  });

  // The publication form: another instrument input, up to the list's data-max; without
  // this script the form shows a few inputs and as many as were typed.
  var addInstrument = document.getElementById('add-instrument');
  var instrumentRows = document.getElementById('instrument-rows');
  if (addInstrument && instrumentRows) {
    var max = parseInt(instrumentRows.getAttribute('data-max'), 10) || 10;
    var refresh = function () {
      addInstrument.hidden = instrumentRows.children.length >= max;
    };
    addInstrument.addEventListener('click', function () {
      var last = instrumentRows.lastElementChild;
      if (!last || instrumentRows.children.length >= max) {
        return;
      }
      var row = last.cloneNode(true);
      var n = instrumentRows.children.length + 1;
      var input = row.querySelector('input');
      var label = row.querySelector('label');
      input.id = 'instrument-' + n;
      input.value = '';
      input.removeAttribute('aria-invalid');
      label.setAttribute('for', input.id);
      label.textContent = label.textContent.replace(/\d+\s*$/, String(n));
      instrumentRows.appendChild(row);
      refresh();
      input.focus();
    });
    refresh();
  }

  // Installable app (PWA).
  if ('serviceWorker' in navigator) {
    window.addEventListener('load', function () {
      navigator.serviceWorker.register('/sw.js').catch(function () {});
    });
  }
})();
