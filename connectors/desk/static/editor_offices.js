/* The local offices page: the content checks in plain words while typing and a
 * preview of one answer that names the office (POST /editor/offices/check),
 * before saving. Text is only ever inserted as text. */
(() => {
  'use strict';
  const { api, rich, showFindings } = window.HelpDesk;
  const FIELDS = ['name', 'address', 'hours', 'phone', 'url'];

  function watch(form) {
    const key = form.dataset.key;
    const findings = document.getElementById('office-findings-' + key);
    const bubble = document.getElementById('office-preview-' + key);
    let timer = null;
    let asked = 0;

    const show = (list) => showFindings(list, findings);

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
