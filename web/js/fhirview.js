// FHIR R4 resources as a person reads them: the clinical date of each
// resource (its own date, never the day it was imported), the kind it is
// filed under, the visit (Encounter) it belongs to, its contents in words
// (coding display texts, values with units, reference ranges), a summary
// (allergies, conditions, current medicines, latest results,
// immunisations) and a timeline grouped by visit, newest first, with
// filters by kind. Shared by the patient portal and the clinician's view;
// the FHIR JSON of every record stays one click away (details/summary).
// Pure rendering: nothing here talks to the node.
import { h } from './util.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

// The kinds the timeline can be filtered by, in the order shown.
export const KINDS = [
  ['problems', 'Conditions and allergies', ['Condition', 'AllergyIntolerance']],
  ['medicines', 'Medicines', ['MedicationStatement', 'MedicationRequest', 'MedicationAdministration', 'MedicationDispense']],
  ['results', 'Results and reports', ['Observation', 'DiagnosticReport']],
  ['immunisations', 'Vaccinations', ['Immunization']],
  ['visits', 'Visits', ['Encounter', 'Procedure']],
  ['documents', 'Documents', ['DocumentReference']],
  ['billing', 'Insurance and billing', ['Claim', 'ExplanationOfBenefit', 'Coverage']],
];
const KIND_OF = Object.fromEntries(KINDS.flatMap(([k, , types]) => types.map((t) => [t, k])));
export function kindOf(r) { return KIND_OF[r.resourceType] || 'other'; }

const TYPE_NAME = {
  AllergyIntolerance: 'Allergy', Condition: 'Condition', Observation: 'Result', DiagnosticReport: 'Report',
  MedicationStatement: 'Medicine', MedicationRequest: 'Prescription', Immunization: 'Vaccination',
  Encounter: 'Visit', Procedure: 'Procedure', DocumentReference: 'Document', Claim: 'Insurance claim',
  ExplanationOfBenefit: 'Insurance statement', Patient: 'Personal details', Provenance: 'Record history',
};
export function typeName(t) { return TYPE_NAME[t] || t; }

// The date a resource is about, by its type (FHIR R4 elements), as the
// string the record carries; '' when it has none.
export function clinicalDate(r) {
  const p = (x) => (x && x.start) || '';
  switch (r.resourceType) {
    case 'Observation': return r.effectiveDateTime || p(r.effectivePeriod) || r.effectiveInstant || r.issued || '';
    case 'DiagnosticReport': return r.effectiveDateTime || p(r.effectivePeriod) || r.issued || '';
    case 'Condition': return r.onsetDateTime || p(r.onsetPeriod) || r.recordedDate || '';
    case 'AllergyIntolerance': return r.onsetDateTime || p(r.onsetPeriod) || r.recordedDate || '';
    case 'Immunization': return r.occurrenceDateTime || r.recorded || '';
    case 'Encounter': return p(r.period);
    case 'Procedure': return r.performedDateTime || p(r.performedPeriod) || '';
    case 'MedicationStatement': return r.effectiveDateTime || p(r.effectivePeriod) || r.dateAsserted || '';
    case 'MedicationRequest': return r.authoredOn || '';
    case 'DocumentReference': return (r.context && p(r.context.period)) || r.date || '';
    case 'Claim': case 'ExplanationOfBenefit': return p(r.billablePeriod) || r.created || '';
    case 'Provenance': return r.recorded || p(r.occurredPeriod) || r.occurredDateTime || '';
    default: return '';
  }
}

// Milliseconds for sorting (a bare date counts as its UTC midnight); NaN
// when there is no date.
export function dateMs(s) {
  if (!s) return NaN;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(s);
  if (m) return Date.UTC(Number(m[1]), m[2] ? Number(m[2]) - 1 : 0, m[3] ? Number(m[3]) : 1);
  return Date.parse(s);
}

// "3 March 2026" for a FHIR date or dateTime. A bare date is shown as
// written (no time zone shift); a dateTime in the reader's time zone.
export function dayWords(s) {
  if (!s) return 'no date';
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(s);
  if (m) return [m[3] ? Number(m[3]) : null, m[2] ? MONTHS[Number(m[2]) - 1] : null, m[1]].filter(Boolean).join(' ');
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}`;
}

function dayTimeWords(s) {
  if (!s || /^\d{4}(-\d{2})?(-\d{2})?$/.test(s)) return dayWords(s);
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return `${dayWords(s)}, ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// A CodeableConcept in words: its text, else the first coding's display,
// else the code itself.
export function cc(c) {
  if (!c) return '';
  if (Array.isArray(c)) return c.map(cc).filter(Boolean).join(', ');
  if (c.text) return c.text;
  const k = (c.coding || []).find((x) => x.display) || (c.coding || [])[0];
  return k ? (k.display || k.code || '') : '';
}

const SYSTEMS = { 'http://snomed.info/sct': 'SNOMED CT', 'http://loinc.org': 'LOINC', 'http://hl7.org/fhir/sid/cvx': 'CVX',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RxNorm', 'http://hl7.org/fhir/sid/icd-10': 'ICD-10' };
function codes(c) {
  return (c && c.coding ? c.coding : []).filter((x) => x.code && SYSTEMS[x.system])
    .map((x) => `${SYSTEMS[x.system]} ${x.code}`).join(', ');
}

function num(v) {
  if (typeof v !== 'number') return String(v);
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
}

export function quantity(q) {
  if (!q || q.value === undefined) return '';
  const unit = q.unit || q.code || '';
  return `${q.comparator || ''}${num(q.value)}${unit ? ` ${unit}` : ''}`;
}

// The value of an Observation (or one of its components) in words.
export function valueWords(o) {
  if (o.valueQuantity) return quantity(o.valueQuantity);
  if (o.valueCodeableConcept) return cc(o.valueCodeableConcept);
  if (o.valueString !== undefined) return o.valueString;
  if (o.valueBoolean !== undefined) return o.valueBoolean ? 'yes' : 'no';
  if (o.valueInteger !== undefined) return String(o.valueInteger);
  if (o.valueRange) return `${quantity(o.valueRange.low)}–${quantity(o.valueRange.high)}`;
  if (o.valueDateTime) return dayTimeWords(o.valueDateTime);
  return '';
}

export function rangeWords(ranges) {
  return (ranges || []).map((r) => {
    if (r.text) return r.text;
    const lo = r.low && r.low.value !== undefined ? r.low : null;
    const hi = r.high && r.high.value !== undefined ? r.high : null;
    const unit = (hi && (hi.unit || hi.code)) || (lo && (lo.unit || lo.code)) || '';
    const u = unit ? ` ${unit}` : '';
    if (lo && hi) return `${num(lo.value)}–${num(hi.value)}${u}`;
    if (lo) return `at least ${num(lo.value)}${u}`;
    if (hi) return `up to ${num(hi.value)}${u}`;
    return '';
  }).filter(Boolean).join('; ');
}

const STATUS_WORDS = { active: 'active', recurrence: 'come back', relapse: 'come back', inactive: 'no longer active',
  remission: 'in remission', resolved: 'resolved', completed: 'completed', final: 'final', preliminary: 'preliminary',
  amended: 'amended', 'entered-in-error': 'entered in error', finished: 'finished', 'in-progress': 'in progress',
  stopped: 'stopped', 'on-hold': 'on hold', intended: 'planned', 'not-taken': 'not taken', cancelled: 'cancelled',
  confirmed: 'confirmed', unconfirmed: 'not confirmed', provisional: 'provisional', differential: 'one possibility',
  refuted: 'ruled out', current: 'current', superseded: 'replaced by a newer version', high: 'high', low: 'low',
  'unable-to-assess': 'not assessed' };
function statusWords(s) { return STATUS_WORDS[s] || s || ''; }
function clinical(c) { return statusWords(c && c.coding && c.coding[0] && c.coding[0].code); }

const ENCOUNTER_CLASS = { AMB: 'outpatient', EMER: 'emergency', IMP: 'inpatient', ACUTE: 'inpatient (acute)',
  HH: 'home visit', VR: 'remote (video or phone)', OBSENC: 'observation stay', SS: 'day case', FLD: 'field' };

function decodeAttachment(a) {
  if (!a || !a.data || !/^text\//.test(a.contentType || 'text/plain')) return '';
  try {
    const bin = atob(a.data);
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))).trim();
  } catch { return ''; }
}

function money(m) { return m && m.value !== undefined ? `${num(m.value)} ${m.currency || ''}`.trim() : ''; }

// The one-line title of a resource.
export function title(r) {
  const name = typeName(r.resourceType);
  switch (r.resourceType) {
    case 'AllergyIntolerance': return `${name}: ${cc(r.code) || 'unspecified'}${r.criticality ? ` (${statusWords(r.criticality)} risk)` : ''}`;
    case 'Condition': return `${name}: ${cc(r.code) || 'unspecified'}`;
    case 'Observation': {
      const v = valueWords(r);
      const comps = !v && r.component ? r.component.map((c) => `${cc(c.code)} ${valueWords(c)}`).join(', ') : '';
      return `${cc(r.code) || 'Result'}${v ? `: ${v}` : comps ? `: ${comps}` : ''}`;
    }
    case 'DiagnosticReport': return `${name}: ${cc(r.code) || 'unspecified'}`;
    case 'MedicationStatement': case 'MedicationRequest':
      return `${name}: ${cc(r.medicationCodeableConcept) || (r.medicationReference && r.medicationReference.display) || 'unspecified'}`;
    case 'Immunization': return `${name}: ${cc(r.vaccineCode) || 'unspecified'}`;
    case 'Encounter': return `${name}${r.type ? `: ${cc(r.type[0])}` : ''}`;
    case 'Procedure': return `${name}: ${cc(r.code) || 'unspecified'}`;
    case 'DocumentReference': return `${name}: ${cc(r.type) || (r.description || 'unspecified')}`;
    case 'Claim': case 'ExplanationOfBenefit': {
      const t = cc(r.type);
      return `${name}${t ? ` (${t})` : ''}${r.total ? `: ${money(Array.isArray(r.total) ? r.total[0].amount : r.total)}` : ''}`;
    }
    case 'Patient': return `${name}${r.name && r.name[0] ? `: ${[...(r.name[0].given || []), r.name[0].family].filter(Boolean).join(' ')}` : ''}`;
    default: return name;
  }
}

// The contents of a resource in words: [label, text] pairs, empty ones
// left out.
export function facts(r) {
  const f = [];
  // Long texts (clinical notes) are cut at 600 characters here; the whole
  // text is in the record's FHIR data.
  const add = (k, v) => {
    if (v === undefined || v === null || v === '') return;
    const t = String(v);
    f.push([k, t.length > 600 ? `${t.slice(0, 600).trimEnd()}…` : t]);
  };
  switch (r.resourceType) {
    case 'Observation':
      add('Result', valueWords(r));
      add('Normal range', rangeWords(r.referenceRange));
      add('Interpretation', cc(r.interpretation));
      for (const c of r.component || []) {
        add(cc(c.code) || 'Part', [valueWords(c), rangeWords(c.referenceRange) ? `(normal range ${rangeWords(c.referenceRange)})` : ''].filter(Boolean).join(' '));
      }
      add('Kind', cc(r.category));
      add('Status', statusWords(r.status));
      break;
    case 'Condition':
      add('Status', clinical(r.clinicalStatus));
      add('Verification', clinical(r.verificationStatus));
      add('Since', r.onsetDateTime ? dayWords(r.onsetDateTime) : r.onsetString);
      add('Ended', r.abatementDateTime ? dayWords(r.abatementDateTime) : r.abatementString);
      add('Severity', cc(r.severity));
      add('Kind', cc(r.category));
      add('Recorded', r.recordedDate ? dayWords(r.recordedDate) : '');
      break;
    case 'AllergyIntolerance':
      add('Substance', cc(r.code));
      add('Risk', statusWords(r.criticality));
      add('Reactions', (r.reaction || []).map((x) => [cc(x.manifestation), x.severity ? `(${x.severity})` : ''].filter(Boolean).join(' ')).join('; '));
      add('Status', clinical(r.clinicalStatus));
      add('Recorded', r.recordedDate ? dayWords(r.recordedDate) : '');
      break;
    case 'MedicationStatement': case 'MedicationRequest':
      add('Medicine', cc(r.medicationCodeableConcept) || (r.medicationReference && r.medicationReference.display));
      add('How to take it', (r.dosage || r.dosageInstruction || []).map((d) => d.text ||
        (d.doseAndRate && d.doseAndRate[0] && quantity(d.doseAndRate[0].doseQuantity))).filter(Boolean).join('; '));
      add('Why', cc(r.reasonCode));
      add('Status', statusWords(r.status));
      break;
    case 'Immunization':
      add('Vaccine', cc(r.vaccineCode));
      add('Given', dayWords(r.occurrenceDateTime));
      add('Where', r.location && r.location.display);
      add('Lot', r.lotNumber);
      add('Status', statusWords(r.status));
      break;
    case 'Encounter':
      add('Kind of visit', r.class && (ENCOUNTER_CLASS[r.class.code] || r.class.display || r.class.code));
      add('What', cc(r.type));
      add('When', r.period ? `${dayTimeWords(r.period.start)}${r.period.end ? ` to ${dayTimeWords(r.period.end).replace(`${dayWords(r.period.start)}, `, '')}` : ''}` : '');
      add('Why', cc(r.reasonCode));
      add('Seen by', (r.participant || []).map((p) => p.individual && p.individual.display).filter(Boolean).join(', '));
      add('Where', (r.serviceProvider && r.serviceProvider.display) || (r.location || []).map((l) => l.location && l.location.display).filter(Boolean).join(', '));
      add('Status', statusWords(r.status));
      break;
    case 'DiagnosticReport':
      add('Report', cc(r.code));
      add('Kind', cc(r.category));
      add('Results', r.result && r.result.length ? `${r.result.length} linked` : '');
      add('Conclusion', r.conclusion);
      add('Text', (r.presentedForm || []).map(decodeAttachment).filter(Boolean).join('\n'));
      add('Status', statusWords(r.status));
      break;
    case 'DocumentReference':
      add('Document', cc(r.type));
      add('Kind', cc(r.category));
      add('Written by', (r.author || []).map((a) => a.display).filter(Boolean).join(', '));
      add('Text', (r.content || []).map((c) => decodeAttachment(c.attachment)).filter(Boolean).join('\n'));
      add('Status', statusWords(r.status));
      break;
    case 'Claim': case 'ExplanationOfBenefit':
      add('For', (r.item || []).map((i) => cc(i.productOrService)).filter(Boolean).join(', '));
      add('Provider', r.provider && r.provider.display);
      add('Insurer', (r.insurer && r.insurer.display) || (r.insurance || []).map((i) => i.coverage && i.coverage.display).filter(Boolean).join(', '));
      add('Total', r.total ? (Array.isArray(r.total) ? r.total.map((t) => `${cc(t.category)} ${money(t.amount)}`).join(', ') : money(r.total)) : '');
      add('Paid', r.payment && money(r.payment.amount));
      add('Outcome', r.outcome);
      break;
    case 'Patient':
      add('Name', r.name && r.name[0] ? [...(r.name[0].given || []), r.name[0].family].filter(Boolean).join(' ') : '');
      add('Born', r.birthDate ? dayWords(r.birthDate) : '');
      add('Gender', r.gender);
      add('Lives in', r.address && r.address[0] ? [r.address[0].city, r.address[0].country].filter(Boolean).join(', ') : '');
      add('Language', r.communication && r.communication[0] && cc(r.communication[0].language));
      break;
    case 'Provenance':
      add('Recorded', dayTimeWords(r.recorded));
      add('Covers', r.target ? `${r.target.length} records` : '');
      break;
    default:
      add('Status', statusWords(r.status));
  }
  add('Codes', codes(r.code || r.vaccineCode || r.medicationCodeableConcept || (r.type && !Array.isArray(r.type) ? r.type : null)));
  add('Note', (r.note || []).map((n) => n.text).filter(Boolean).join(' '));
  return f;
}

// The id of the visit a resource belongs to ('' when none): its own for an
// Encounter; encounter / context.encounter / item.encounter otherwise.
export function encounterOf(r) {
  if (r.resourceType === 'Encounter') return r.id || '';
  const refs = [];
  if (r.encounter) refs.push(r.encounter);
  if (r.context && r.context.encounter) refs.push(...[].concat(r.context.encounter));
  for (const i of r.item || []) if (i.encounter) refs.push(...i.encounter);
  for (const x of refs) {
    const m = /(?:^|\/)Encounter\/([^/]+)$/.exec((x && x.reference) || '');
    if (m) return m[1];
  }
  return '';
}

// ---- the summary -------------------------------------------------------

function newestFirst(a, b) {
  const x = dateMs(clinicalDate(a)); const y = dateMs(clinicalDate(b));
  return (Number.isNaN(y) ? -Infinity : y) - (Number.isNaN(x) ? -Infinity : x);
}

function latestPer(rs, key) {
  const seen = new Map();
  for (const r of rs.slice().sort(newestFirst)) {
    const k = key(r);
    if (k && !seen.has(k)) seen.set(k, r);
  }
  return [...seen.values()];
}

const ENDED = new Set(['inactive', 'resolved', 'remission', 'entered-in-error']);
const isActive = (c) => !c.clinicalStatus || !ENDED.has((c.clinicalStatus.coding || [{}])[0].code);

// The summary's sections: [id, heading, [lines]] where a line is
// { text, detail, date }.
export function summarise(resources) {
  const of = (...types) => resources.filter((r) => types.includes(r.resourceType));
  const allergies = of('AllergyIntolerance').filter(isActive).sort(newestFirst).map((r) => ({
    text: `${cc(r.code) || 'unspecified'}`, date: clinicalDate(r),
    detail: [r.criticality ? `${statusWords(r.criticality)} risk` : '', (r.reaction || []).map((x) => cc(x.manifestation)).filter(Boolean).join(', ')].filter(Boolean).join('; ') }));
  const conditions = of('Condition').filter(isActive).sort(newestFirst).map((r) => ({
    text: cc(r.code) || 'unspecified', date: clinicalDate(r), detail: `since ${dayWords(clinicalDate(r))}` }));
  const CURRENT = new Set(['active', 'intended', 'on-hold']);
  const medicines = of('MedicationStatement', 'MedicationRequest').filter((r) => CURRENT.has(r.status)).sort(newestFirst).map((r) => ({
    text: cc(r.medicationCodeableConcept) || (r.medicationReference && r.medicationReference.display) || 'unspecified',
    date: clinicalDate(r),
    detail: (r.dosage || r.dosageInstruction || []).map((d) => d.text).filter(Boolean).join('; ') }));
  const results = latestPer(of('Observation').filter((r) => valueWords(r) || r.component), (r) => cc(r.code)).slice(0, 12).map((r) => ({
    text: `${cc(r.code)}: ${valueWords(r) || r.component.map((c) => `${cc(c.code)} ${valueWords(c)}`).join(', ')}`,
    date: clinicalDate(r),
    detail: [rangeWords(r.referenceRange) ? `normal range ${rangeWords(r.referenceRange)}` : '', cc(r.interpretation)].filter(Boolean).join('; ') }));
  const jabs = of('Immunization').filter((r) => r.status !== 'not-done' && r.status !== 'entered-in-error');
  const vaccines = latestPer(jabs, (r) => cc(r.vaccineCode)).map((r) => {
    const n = jabs.filter((j) => cc(j.vaccineCode) === cc(r.vaccineCode)).length;
    return { text: cc(r.vaccineCode), date: clinicalDate(r), detail: n > 1 ? `${n} doses, the latest on ${dayWords(clinicalDate(r))}` : `on ${dayWords(clinicalDate(r))}` };
  });
  return [
    ['allergies', 'Allergies', allergies, 'No allergies recorded.'],
    ['conditions', 'Conditions', conditions, 'No current conditions recorded.'],
    ['medicines', 'Current medicines', medicines, 'No current medicines recorded.'],
    ['results', 'Latest results', results, 'No results recorded.'],
    ['immunisations', 'Vaccinations', vaccines, 'No vaccinations recorded.'],
  ];
}

export function summaryView(resources) {
  return h('div.summary-grid#summary-cards', summarise(resources).map(([id, heading, lines, none]) =>
    h('section.card.summary', { id: `sum-${id}`, 'aria-labelledby': `sum-${id}-h` },
      h('h3', { id: `sum-${id}-h` }, heading, lines.length ? h('span.count', ` (${lines.length})`) : null),
      lines.length ? h('ul.plain', lines.map((l) => h('li', h('strong', l.text),
        l.detail ? h('span.muted', ` — ${l.detail}`) : null,
        l.date && !/since|on |latest/.test(l.detail) ? h('span.muted', ` · ${dayWords(l.date)}`) : null)))
        : h('p.muted', none))));
}

// ---- the timeline ------------------------------------------------------

// Groups the items ({ resource, ... }) by visit, the groups and the items
// in each newest first by clinical date; items without a visit form a
// group of their own. Undated ones come last.
export function timelineGroups(items) {
  const enc = new Map();
  for (const it of items) {
    if (it.resource.resourceType === 'Encounter' && it.resource.id) enc.set(it.resource.id, it);
  }
  const groups = new Map();
  for (const it of items) {
    const e = encounterOf(it.resource);
    const key = e && enc.has(e) ? `enc:${e}` : `one:${it.resource.resourceType}/${it.resource.id}`;
    if (!groups.has(key)) groups.set(key, { key, encounter: e && enc.has(e) ? enc.get(e) : null, items: [] });
    groups.get(key).items.push(it);
  }
  const byDate = (a, b) => newestFirst(a.resource, b.resource);
  const list = [...groups.values()];
  for (const g of list) {
    g.items.sort((a, b) => (a.resource.resourceType === 'Encounter' ? -1 : b.resource.resourceType === 'Encounter' ? 1 : byDate(a, b)));
    g.date = clinicalDate((g.encounter || g.items[0]).resource);
  }
  list.sort((a, b) => {
    const x = dateMs(a.date); const y = dateMs(b.date);
    return (Number.isNaN(y) ? -Infinity : y) - (Number.isNaN(x) ? -Infinity : x);
  });
  return list;
}

// One record: its title and date, its contents in words, and its FHIR
// JSON behind a details/summary. extra(item) adds page-specific parts
// (a tick box, an Open button, the anchor check).
export function recordItem(it, { before, after } = {}) {
  const r = it.resource;
  const date = clinicalDate(r);
  return h('li.decrypted.record', { 'data-id': r.id, 'data-type': r.resourceType, 'data-kind': kindOf(r),
    'data-date': date, 'data-encounter': encounterOf(r) },
  before ? before(it) : null,
  h('div.record-head', h('strong', title(r)), ' ', h('span.muted', `· ${dayWords(date)}`)),
  h('dl.facts', facts(r).map(([k, v]) => [h('dt', k), h('dd', v)])),
  after ? after(it) : null);
}

export function jsonDetails(r, label, ...more) {
  return h('details', h('summary', label), h('pre.record-json', JSON.stringify(r, null, 2)), ...more);
}

// The timeline: filters by kind (with counts) above the groups. Returns
// the element; the filter works in the page without asking the node.
export function timelineView(items, opts = {}) {
  const groups = timelineGroups(items);
  const count = (k) => items.filter((it) => kindOf(it.resource) === k).length;
  const kinds = KINDS.filter(([k]) => count(k)).concat(items.some((it) => kindOf(it.resource) === 'other') ? [['other', 'Other', []]] : []);
  const list = h('div.timeline#timeline', groups.map((g) => {
    const head = g.encounter ? `${dayWords(g.date)} · ${title(g.encounter.resource)}` : `${dayWords(g.date)}`;
    return h('section.visit', { 'data-encounter': g.encounter ? g.encounter.resource.id : '', 'data-date': g.date, 'aria-label': head },
      h('h3.visit-head', head, g.items.length > 1 ? h('span.muted', ` · ${g.items.length} records`) : null),
      h('ul.log', g.items.map((it) => (it.error ? h('li.refused', it.error) : recordItem(it, opts)))));
  }));
  const status = h('p.muted#filter-status', { 'aria-live': 'polite' }, `Showing all ${items.length} records.`);
  const apply = (k) => {
    let shown = 0;
    for (const li of list.querySelectorAll('li.record')) {
      const on = k === 'all' || li.dataset.kind === k;
      li.classList.toggle('hidden', !on);
      if (on) shown++;
    }
    for (const s of list.querySelectorAll('section.visit')) s.classList.toggle('hidden', !s.querySelector('li:not(.hidden)'));
    status.textContent = k === 'all' ? `Showing all ${items.length} records.` : `Showing ${shown} of ${items.length} records.`;
  };
  const radios = [['all', 'Everything', items.length], ...kinds.map(([k, words]) => [k, words, count(k)])].map(([k, words, n]) =>
    h('label.chip', h('input', { type: 'radio', name: 'kind-filter', value: k, id: `filter-${k}`, checked: k === 'all', onchange: () => apply(k) }),
      ` ${words} (${n})`));
  return h('div', h('fieldset.filters', h('legend', 'Show'), radios), status, list);
}
