// Organisation admin: enrol members by invitation (src/api/routes_invite.c).
// The admin names the new member and her role; the member's key is made in
// her own browser (/join), which signs her acceptance; the admin compares
// the match code both pages show, and her page signs enroll_member. The
// organisation's members are listed from the directory, each (but admins)
// with a revocation (revoke_member, with a reason).
import { layout } from '../layout.js';
import { keyPanel } from '../keypanel.js';
import { orgs } from '../api.js';
import { searchDirectory } from '../directory.js';
import { ROLE_TEXT, createMemberInvitation, enrollInvited, myInvitations, revokeMember, rolesFor } from '../invite.js';
import { $, action, h, note, show } from '../util.js';

layout();
let me = null;
let org = null;

keyPanel('#keys', {
  title: 'Your key',
  onKey: async (k) => {
    me = k;
    const ok = k && k.account && k.account.role === 'admin' && k.account.status === 'active';
    $('#work').classList.toggle('hidden', !ok);
    if (k && !ok) show('#member-out', note('warn', 'This key is not an organisation admin.'));
    if (!ok) return;
    org = (await orgs()).find((o) => o.id === k.account.org) || { id: k.account.org, kind: '' };
    show('#member-role', rolesFor(org.kind).map((r) => h('option', { value: r }, ROLE_TEXT[r][0].toUpperCase() + ROLE_TEXT[r].slice(1))));
    await Promise.all([invitations(), members()]).catch((e) => show('#member-list', note('bad', e.message)));
  },
});

const until = (iso) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

async function invitations() {
  const list = (await myInvitations(me.key)).filter((inv) => inv.for === 'member');
  show('#member-list', list.length ? h('ul.log#member-invitations', list.map((inv) => {
    const who = `${inv.name} (${ROLE_TEXT[inv.role] || inv.role})`;
    if (inv.state === 'pending') {
      return h('li', { 'data-code': inv.code }, h('strong.mono', inv.code), ` for ${who} — waiting for her to accept (until ${until(inv.expires)}).`);
    }
    if (inv.registered) return h('li', { 'data-code': inv.code }, h('strong.mono', inv.code), ` ${who} is a member now.`);
    const btn = h('button', { type: 'button', 'data-enrol': inv.code }, 'The numbers match: enrol her');
    const msg = h('span.invite-msg', { 'aria-live': 'polite' });
    action(btn, msg, async () => {
      show(msg, h('span.muted', ' Checking her acceptance and signing the enrolment…'));
      const t = await enrollInvited(me.key, inv, inv.role, inv.name);
      show(msg, h('span.note.ok', ` Enrolled (block ${t.height}).`));
      await Promise.all([invitations(), members()]);
    });
    return h('li.accepted', { 'data-code': inv.code }, h('strong.mono', inv.code), ` ${who}: accepted. Her page shows `,
      h('strong.match', inv.match_code.replace(/^(\d{3})(\d{3})$/, '$1 $2')), '. ', btn, msg);
  })) : h('p.muted', 'No open invitations.'));
}

// One member's line; members other than admins can be revoked (with a
// reason, on the ledger): her key stops working at once.
function memberLine(m) {
  const li = h('li', { 'data-key': m.key }, h('strong', m.name || 'Without a name'), `, ${ROLE_TEXT[m.role] || m.role}`);
  if (m.role === 'admin' || m.key === me.key.pkHex) return li;
  const id = `revoke-${m.key.slice(0, 16)}`;
  const reason = h('input.revoke-reason', { id, type: 'text', autocomplete: 'off', maxlength: 255 });
  const go = h('button.danger', { type: 'button', 'data-revoke': m.key }, `Revoke ${m.name || 'this member'}`);
  const msg = h('span', { 'aria-live': 'polite' });
  action(go, msg, async () => {
    show(msg, h('span.muted', ' Signing the revocation…'));
    const t = await revokeMember(me.key, m.key, reason.value);
    show(msg, h('span.note.ok', ` Revoked (block ${t.height}).`));
    await members();
  });
  li.append(h('details.revoke', h('summary', 'Revoke'), h('label', { for: id }, 'Why (kept on the ledger, e.g. "left the hospital")'),
    reason, go, msg));
  return li;
}

async function members() {
  const r = await searchDirectory('', { org: org.id });
  show('#members', r.members.length ? h('ul.log#member-directory', r.members.map(memberLine)) : h('p.muted', 'No members yet.'),
    r.more ? h('p.muted', 'More members than shown here.') : null);
}

$('#member-form').addEventListener('submit', (ev) => ev.preventDefault());
action($('#member-go'), $('#member-out'), async () => {
  const name = $('#member-name').value.trim();
  if (!name) throw new Error('Type her name first: it is how patients and colleagues will find her.');
  const inv = await createMemberInvitation(me.key, $('#member-role').value, name);
  show('#member-out', h('div.note.info#member-made', h('p', `Show ${name} this code: `, h('strong.big.mono#member-code', inv.code)),
    h('img#member-qr', { src: `/v1/invitations/${encodeURIComponent(inv.code)}/qr.svg?origin=${encodeURIComponent(location.origin)}`,
      alt: `QR code of the invitation link for her phone's camera (code ${inv.code})`, width: 220, height: 220 }),
    h('p', 'Or let her open ', h('a#member-link', { href: inv.link }, `${location.origin}${inv.link}`), ' on her phone or computer.'),
    h('p.muted', `Valid until ${until(inv.expires)}, once.`)));
  $('#member-name').value = '';
  await invitations();
});
action($('#member-refresh'), $('#member-list'), invitations);
