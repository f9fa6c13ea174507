// A new member joins her organisation by her admin's invitation
// (#invite=CODE in the address, or typed): her key is made here, she saves
// it on this device with a passphrase, her acceptance is signed here
// (invite.js acceptMemberInvitation), both pages show the same match code,
// and once her admin has enrolled her this page says so and leads to the
// page of her role, where she unlocks the saved key with her passphrase.
import { layout } from '../layout.js';
import { account, orgName } from '../api.js';
import { keyPanel } from '../keypanel.js';
import { ROLE_PAGE, ROLE_TEXT, acceptMemberInvitation, matchCode, normalizeCode, showInvitation } from '../invite.js';
import { $, h, note, show } from '../util.js';

layout();
let inviteCode = normalizeCode(new URLSearchParams(location.hash.slice(1)).get('invite'));

async function welcome(a) {
  const org = a.org ? await orgName(a.org) : '';
  const page = ROLE_PAGE[a.role] || '/';
  show('#join', h('div.note.ok#join-done', h('p', h('strong', `Welcome, ${a.name || 'new member'}`),
    ` — ${ROLE_TEXT[a.role] || a.role}${org ? ` at ${org}` : ''}.`),
  h('p', 'Your key is enrolled. On your page, choose the key saved on this device and type its passphrase.'),
  h('p', h('a.button#join-open', { href: page }, 'Open your page'))));
}

async function enter(k) {
  if (!k) {
    show('#join');
    return;
  }
  if (k.account) {
    if (k.account.role === 'patient') show('#join', note('warn', 'This key is a patient account: open the patient page instead.'));
    else await welcome(k.account);
    return;
  }
  const codeIn = h('input#join-code', { type: 'text', autocomplete: 'off', spellcheck: 'false', value: inviteCode || '' });
  const msg = h('div#join-msg', { 'aria-live': 'polite' });
  const form = h('form#join-form.card', h('h2', 'Your invitation'),
    h('label', { for: 'join-code' }, 'Invitation code (like ABCD-EFGH-JKMN)'), codeIn,
    h('button#join-look', { type: 'submit' }, 'Use this invitation'), msg);
  show('#join', form);
  const lookUp = async () => {
    const code = normalizeCode(codeIn.value);
    if (!code) throw new Error('An invitation code has 12 letters and digits, like ABCD-EFGH-JKMN.');
    inviteCode = code;
    const inv = await showInvitation(code);
    if (inv.for !== 'member') throw new Error('This invitation is for a patient: open it on the patient page.');
    const org = inv.org_name || 'your organisation';
    const yes = h('button#join-accept', { type: 'button' }, `Join ${org} as ${inv.name}`);
    show(msg, h('div.note.info', h('p#join-who', `${inv.inviter_name || 'The administrator'} of ${org} invites you to join as ${ROLE_TEXT[inv.role] || inv.role}, named "${inv.name}".`),
      h('p', 'Joining signs your acceptance with your key, here. Save your key on this device first (above) so you can sign in later without a file.'), yes));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await acceptMemberInvitation(k.key, code, inv.inviter);
        const m = await matchCode(k.key.pkHex);
        show(msg, h('div.note.ok', h('p', `Accepted. Tell ${inv.inviter_name || 'your administrator'} this number so they can check it is you:`),
          h('p.big.mono#join-match', `${m.slice(0, 3)} ${m.slice(3)}`),
          h('p.muted#join-wait', 'Waiting for them to enrol you… this page goes on by itself.')));
        for (let i = 0; i < 600; i++) {
          await new Promise((r) => setTimeout(r, 1500));
          const a = await account(k.key.pkHex).catch(() => null);
          if (a) {
            await welcome(a);
            return;
          }
        }
      } catch (e) {
        show(msg, note('bad', e.message));
      } finally {
        yes.disabled = false;
      }
    });
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    lookUp().catch((e) => show(msg, note('bad', e.message)));
  });
  if (inviteCode) await lookUp().catch((e) => show(msg, note('bad', e.message)));
  else show(msg, h('p.muted', 'Type the code your administrator shows you, or open the link they gave you.'));
}

keyPanel('#keys', { title: 'Your key', allowCreate: true, onKey: enter });
