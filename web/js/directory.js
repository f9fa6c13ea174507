// The members' directory in the page (GET /v1/directory, app/directory.h):
// a person is picked by name ("Dr Ada Lovelace, clinician at St Mary's
// Hospital"), never by typing a key. Only active members are listed, never
// patients.
import { get } from './api.js';
import { $, h, show } from './util.js';

export async function searchDirectory(text, { role, org } = {}) {
  const q = new URLSearchParams();
  if (text) q.set('q', text.trim().slice(0, 80));
  if (role) q.set('role', role);
  if (org) q.set('org', String(org));
  return get(`/v1/directory?${q}`);
}

export function memberLabel(m) {
  return `${m.name || 'A member without a name'}, ${m.role} at ${m.org_name || `organisation ${m.org}`}`;
}

// Wires a search box (input) to a result list (list, a <ul>) and a chosen
// line (chosen); onPick(member) runs when a result is chosen.
export function directoryPicker({ input, list, chosen, role, onPick }) {
  let seq = 0;
  const run = async () => {
    const mine = ++seq;
    const text = input.value;
    if (text.trim().length < 2) {
      show(list);
      return;
    }
    try {
      const r = await searchDirectory(text, { role });
      if (mine !== seq) return;
      show(list, r.members.length ? r.members.map((m) => h('li', h('button.link.pick', {
        type: 'button', 'data-key': m.key, onclick: () => {
          show(chosen, h('span', 'Chosen: '), h('strong.picked', memberLabel(m)));
          show(list);
          onPick(m);
        },
      }, memberLabel(m)))) : h('li.muted', `Nobody found for "${text.trim()}".`),
      r.more ? h('li.muted', 'More people match: type more of the name.') : null);
    } catch (e) {
      if (mine === seq) show(list, h('li.muted', e.message));
    }
  };
  let t = null;
  input.addEventListener('input', () => {
    clearTimeout(t);
    t = setTimeout(run, 200);
  });
  return { run };
}

