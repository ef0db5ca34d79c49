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

  // A free hour of the calendar fills in the booking form's start; without this script its
  // link reloads the page with the start filled in.
  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-start]');
    var input = document.getElementById('start');
    if (!link || !input) {
      return;
    }
    event.preventDefault();
    input.value = link.getAttribute('data-start');
    var form = document.getElementById('booking-form') || input;
    form.scrollIntoView({ block: 'start' });
    input.focus({ preventScroll: true });
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
