// Replay controls: edit the clock models and the instant, POST /api/replay,
// and show the server's error plainly when a model or time is refused.
import {h, clear, nextId} from './dom.js';
import {replay} from './api.js';

const SUGGESTIONS = ['exact', 'trustd', 'whole-second', 'openssl-ct', 'minute', 'day', 'trunc:1m',
  'skew:-2s,trunc:1s', '-90s', '-1h', '+1h', 'no-rtc-2000'];
const MAX_CLOCKS = 32;

export class ReplayForm {
  /** id: capture id; report: its report (clocks and instant prefill); onResult(report). */
  constructor(id, report, onResult) {
    this.id = id;
    this.onResult = onResult;
    const input = report.input || {};
    // Names are what the user (or the proxy's --clock) typed: profiles or
    // step lists, both accepted back by the API, and they keep the labels.
    this.clocks = (input.clocks || []).map((c) => c.name || c.model);
    if (this.clocks.length === 0) this.clocks = ['exact'];
    this.el = this.build(input.at ? input.at.rfc3339 : '');
    this.drawClocks();
  }

  build(at) {
    const addId = nextId('clock-add'), atId = nextId('replay-at'), listId = nextId('clock-suggest');
    const helpId = nextId('clock-help'), atHelpId = nextId('at-help');
    this.list = h('ul', {class: 'clock-list', 'aria-label': 'Clock models to replay'});
    this.addInput = h('input', {id: addId, name: 'clock', type: 'text', list: listId, size: 24,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': helpId});
    this.atInput = h('input', {id: atId, name: 'at', type: 'text', size: 28, value: at,
      autocomplete: 'off', spellcheck: 'false', 'aria-describedby': atHelpId});
    this.error = h('div', {class: 'error-box', role: 'alert', hidden: true, id: 'replay-error'});
    this.status = h('p', {role: 'status', class: 'muted'});
    this.submit = h('button', {type: 'submit', class: 'primary'}, 'Replay');
    const form = h('form', {class: 'replay', novalidate: true, onsubmit: (e) => { e.preventDefault(); this.run(); }},
      h('fieldset', {},
        h('legend', {}, 'Clock models'),
        this.list,
        h('div', {class: 'field'},
          h('label', {for: addId}, 'Add a clock model'),
          this.addInput,
          h('button', {type: 'button', onclick: () => this.addFromInput()}, 'Add clock'),
          h('datalist', {id: listId}, SUGGESTIONS.map((v) => h('option', {value: v})))),
        h('p', {id: helpId, class: 'hint'}, 'A profile (exact, trustd, openssl-ct, minute, day, no-rtc-2000) or steps such as ',
          h('code', {}, 'skew:-2s,trunc:1s'), ', ', h('code', {}, 'trunc:1m'), ', ', h('code', {}, '-90s'),
          ', ', h('code', {}, 'fixed:2026-01-01T00:00:00Z'), '. Press Enter in the field to add it.')),
      h('div', {class: 'field'},
        h('label', {for: atId}, 'Judge at (RFC 3339, UTC)'),
        this.atInput,
        h('button', {type: 'button', onclick: () => { this.atInput.value = new Date().toISOString(); }}, 'Now')),
      h('p', {id: atHelpId, class: 'hint'}, 'For example 2026-11-23T21:03:03.219Z. Empty means the proxy\'s current time.'),
      h('p', {}, this.submit),
      this.error, this.status);
    this.addInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.addFromInput(); }
    });
    return form;
  }

  drawClocks() {
    clear(this.list);
    this.clocks.forEach((c, i) => {
      this.list.append(h('li', {},
        h('code', {}, c), ' ',
        h('button', {type: 'button', class: 'small', 'aria-label': `Remove clock model ${c}`,
          onclick: () => { this.clocks.splice(i, 1); this.drawClocks(); this.addInput.focus(); }}, 'Remove')));
    });
    if (this.clocks.length === 0) this.list.append(h('li', {class: 'muted'}, 'none (the replay uses exact)'));
  }

  addFromInput() {
    const v = this.addInput.value.trim();
    if (v === '') {
      this.showError('Type a clock model first, for example trunc:1m.', this.addInput);
      return false;
    }
    if (this.clocks.length >= MAX_CLOCKS) {
      this.showError(`At most ${MAX_CLOCKS} clock models.`, this.addInput);
      return false;
    }
    if (!this.clocks.includes(v)) this.clocks.push(v);
    this.addInput.value = '';
    this.clearError();
    this.drawClocks();
    this.status.textContent = `Added ${v}. ${this.clocks.length} clock models.`;
    return true;
  }

  clearError() {
    this.error.hidden = true;
    clear(this.error);
    this.addInput.removeAttribute('aria-invalid');
    this.atInput.removeAttribute('aria-invalid');
  }

  showError(message, field) {
    clear(this.error).append(h('strong', {}, 'Replay refused: '), message);
    this.error.hidden = false;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.setAttribute('aria-errormessage', 'replay-error');
    }
  }

  async run() {
    // A model still typed in the field counts: users press Replay right away.
    if (this.addInput.value.trim() !== '' && !this.addFromInput()) return;
    this.clearError();
    const at = this.atInput.value.trim();
    this.submit.disabled = true;
    this.status.textContent = 'Replaying…';
    try {
      const rep = await replay(this.id, this.clocks, at || null);
      this.status.textContent = `Replayed with ${this.clocks.length} clock models.`;
      this.onResult(rep);
    } catch (e) {
      this.status.textContent = '';
      // The API names the bad part; point at the field it concerns.
      const field = /^clock|clocks/.test(e.message) ? this.addInput : /"at"/.test(e.message) ? this.atInput : null;
      this.showError(e.message, field);
      if (field === this.addInput) {
        const m = e.message.match(/^clock "([^"]*)"/);
        if (m) {
          const i = this.clocks.indexOf(m[1]);
          if (i >= 0) { this.clocks.splice(i, 1); this.drawClocks(); }
          this.addInput.value = m[1];
        }
      }
      (field || this.error).focus?.();
    } finally {
      this.submit.disabled = false;
    }
  }
}
