/// The console's script and style sheet, served from the binary at /static/: no CDN (the
/// machines are offline) and no build step. The Content-Security-Policy allows scripts from
/// the console's own origin only, so this file is the only script a page can run.
enum StaticAssets {
    static let javascript = #"""
    // Warden review console: keyboard shortcuts. Plain JavaScript, no dependencies.
    (function () {
      'use strict';
      function typing(target) {
        var tag = target && target.tagName;
        return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (target && target.isContentEditable);
      }
      var rows = Array.prototype.slice.call(document.querySelectorAll('tr.item'));
      var current = rows.length ? 0 : -1;
      function select(index) {
        if (!rows.length) return;
        if (current >= 0) rows[current].classList.remove('selected');
        current = Math.max(0, Math.min(rows.length - 1, index));
        rows[current].classList.add('selected');
        rows[current].scrollIntoView({ block: 'nearest' });
      }
      if (rows.length) select(0);
      rows.forEach(function (row, index) {
        row.addEventListener('click', function (event) {
          if (event.target.tagName === 'INPUT' || event.target.tagName === 'A') return;
          select(index);
        });
      });
      function submit(id) {
        var form = document.getElementById(id);
        if (form) { form.requestSubmit ? form.requestSubmit() : form.submit(); return true; }
        return false;
      }
      function go(link) { if (link) window.location.href = link.getAttribute('href'); }
      document.addEventListener('keydown', function (event) {
        if (event.ctrlKey || event.metaKey || event.altKey) return;
        if (event.key === 'Escape') { document.getElementById('help').hidden = true; if (typing(event.target)) event.target.blur(); return; }
        if (typing(event.target)) return;
        var page = document.body.getAttribute('data-page');
        switch (event.key) {
          case '?':
            var help = document.getElementById('help');
            help.hidden = !help.hidden;
            break;
          case 'j':
            if (page === 'queue') select(current + 1); else go(document.getElementById('next-item'));
            break;
          case 'k':
            if (page === 'queue') select(current - 1); else window.history.back();
            break;
          case 'o': case 'Enter':
            if (page === 'queue' && current >= 0) go(rows[current].querySelector('a.open'));
            else return;
            break;
          case 's':
            if (page === 'queue' && current >= 0) { var box = rows[current].querySelector('input[type=checkbox]'); box.checked = !box.checked; }
            break;
          case 'r':
            if (!submit('form-release')) return;
            break;
          case 'x':
            if (!submit('form-remove')) return;
            break;
          default:
            return;
        }
        event.preventDefault();
      });
    })();
    """#

    static let css = #"""
    :root { --fg: #1d232a; --muted: #5b6570; --line: #d7dde3; --accent: #1f5fa8; --bad: #a4262c; --mark: #ffe08a; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f6f7f9; }
    header.top { display: flex; gap: 1.5rem; align-items: center; padding: .6rem 1.2rem; background: #14324f; color: #fff; }
    header.top a { color: #fff; text-decoration: none; }
    header.top nav a { margin-right: 1rem; opacity: .85; }
    header.top nav a[aria-current] { opacity: 1; border-bottom: 2px solid #fff; }
    .brand { font-weight: 700; }
    .logout { margin-left: auto; }
    .count { background: #e24c4b; border-radius: 1em; padding: 0 .5em; font-size: .85em; }
    main { padding: 1rem 1.2rem; max-width: 1400px; }
    h1 small { color: var(--muted); font-weight: normal; font-size: .6em; }
    table { border-collapse: collapse; width: 100%; background: #fff; }
    th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
    tr.item.selected { outline: 2px solid var(--accent); background: #eef4fb; }
    tr.appeal td:first-child { border-left: 4px solid #8a4fd3; }
    td.preview { max-width: 34rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; unicode-bidi: isolate; }
    bdi { unicode-bidi: isolate; }
    .badge { display: inline-block; padding: 0 .45em; border-radius: .3em; background: #e4e8ee; font-size: .85em; }
    .badge.appeal { background: #eadcfb; } .badge.escalation { background: #fbd7d7; }
    .flash { padding: .5rem .8rem; border-radius: .3rem; background: #e7f4e4; border: 1px solid #9fd096; }
    .flash.error { background: #fbe7e7; border-color: #e29c9c; }
    .claim-notice { padding: .5rem .8rem; background: #fff4d6; border: 1px solid #e6c264; }
    .item-layout { display: grid; grid-template-columns: minmax(0, 2fr) minmax(18rem, 1fr); gap: 1.2rem; }
    .post-text { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid var(--line); padding: .8rem;
                 max-height: 24rem; overflow: auto; unicode-bidi: plaintext; }
    .post-text mark { background: var(--mark); padding: 0 .1em; }
    .control { font-size: .75em; background: #fbd7d7; color: var(--bad); border-radius: .2em; padding: 0 .2em; unicode-bidi: isolate; }
    .appeal .post-text { border-color: #8a4fd3; }
    pre.message { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px dashed var(--line); padding: .6rem; }
    .actions { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
    form.act, .author-card, fieldset.bulk { background: #fff; border: 1px solid var(--line); padding: .8rem; border-radius: .3rem; }
    form.act label, form.pardon label { display: block; margin: .4rem 0; }
    label.inline { display: inline; }
    form.inline { display: inline; }
    textarea, input, select { font: inherit; max-width: 100%; }
    textarea { width: 100%; }
    button { font: inherit; padding: .3rem .8rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: .3rem; cursor: pointer; }
    button.danger { background: var(--bad); border-color: var(--bad); }
    header.top button { background: transparent; border-color: #fff; }
    .filters { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; margin-bottom: .8rem; }
    tr.flagged { background: #fdeaea; }
    .ruleset-differs { color: #8a1c1c; } .badge.ruleset-differs { background: #fbd7d7; color: inherit; }
    .demoted { color: var(--bad); }
    .help { position: fixed; right: 1rem; bottom: 1rem; background: #fff; border: 2px solid var(--accent); padding: .8rem 1.2rem; border-radius: .4rem; }
    .help dt { font-family: monospace; font-weight: 700; float: left; width: 6rem; }
    kbd { border: 1px solid var(--line); border-radius: .2em; padding: 0 .3em; font-size: .8em; background: #f4f4f4; color: var(--fg); }
    .login { max-width: 22rem; margin: 4rem auto; background: #fff; padding: 1.5rem; border: 1px solid var(--line); }
    .login label { display: block; margin: .6rem 0; } .login input { width: 100%; }
    .empty { color: var(--muted); text-align: center; padding: 1.5rem; }
    code { overflow-wrap: anywhere; }
    """#
}
