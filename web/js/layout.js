// The site header and footer every page shares: navigation with the
// current page marked for screen readers, and the chain the node serves.
import { h, short } from './util.js';
import { status } from './api.js';

const PAGES = [
  ['/', 'Home'], ['/patient', 'Patient'], ['/clinician', 'Clinician'], ['/auditor', 'Auditor'], ['/admin', 'Admin'],
  ['/verify', 'Verify a medicine'], ['/research', 'Research'], ['/explorer', 'Explorer'],
];

export function layout() {
  const here = location.pathname.replace(/\.html$/, '').replace(/\/index$/, '/') || '/';
  const nav = h('nav', { 'aria-label': 'Main' }, h('ul', PAGES.map(([href, label]) =>
    h('li', h('a', { href, 'aria-current': href === here ? 'page' : null }, label)))));
  const header = h('header.site', h('a.brand', { href: '/' }, 'medchain'), nav);
  document.body.prepend(h('a.skip', { href: '#main' }, 'Skip to content'), header);
  const foot = h('footer.site', 'medchain node');
  document.body.append(foot);
  status().then((s) => {
    foot.textContent = `Chain ${s.chain_id}, height ${s.height}, node ${short(s.node_key)}. ` +
      'Everything on this page is checked in your browser where it says so.';
  }).catch(() => { foot.textContent = 'The node does not answer.'; });
}
