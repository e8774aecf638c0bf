/* The local offices page: the content checks in plain words while typing and a
 * preview of one answer that names the office (POST /editor/offices/check),
 * before saving. Text is only ever inserted as text. */
(() => {
  'use strict';
  const { el, clear, api, rich, t } = window.HelpDesk;
  const SEVERITY = { error: t('error'), warning: t('warning') };
  const FIELDS = ['name', 'address', 'hours', 'phone', 'url'];

  function watch(form) {
    const key = form.dataset.key;
    const findings = document.getElementById('office-findings-' + key);
    const bubble = document.getElementById('office-preview-' + key);
    let timer = null;
    let asked = 0;

    function show(list) {
      clear(findings);
      if (!list.length) findings.appendChild(el('li', { className: 'finding-ok', text: t('No problem found.') }));
      for (const f of list) {
        findings.appendChild(el('li', { className: 'finding-' + f.severity, text: (SEVERITY[f.severity] || f.severity) + ': ' + f.message }));
      }
    }

    async function check() {
      const payload = { key };
      for (const name of FIELDS) payload[name] = form.elements[name].value;
      const mine = ++asked;
      const result = await api('POST', '/editor/offices/check', payload);
      if (mine !== asked) return; // a newer check is on its way
      if (!result.ok) { show([{ severity: 'error', message: result.error }]); return; }
      show(result.data.findings);
      const preview = result.data.preview;
      bubble.hidden = !preview;
      if (preview) {
        bubble.querySelector('.office-preview-title').textContent = preview.title;
        rich(bubble.querySelector('.office-preview-text'), preview.text);
      }
    }

    form.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
  }

  document.querySelectorAll('form.office-form').forEach(watch);
})();
