// Records as a person reads them: a patient with a Synthea history (238
// resources, testdata/synthea) plus an allergy, a medicine, a laboratory
// result with its reference range and an old condition written by her
// clinician. Her portal (decrypting in the page) and her clinician's view
// show a summary first, then a timeline grouped by visit and sorted by the
// date each record is about, filterable by kind, each record in words with
// its FHIR JSON one click away; on a phone the access log and sharing are
// one tap away.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadKey, overflowX, root, screenShot, setup, SIZES } from './harness.mjs';

const BUNDLE = join(root, 'testdata/synthea/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json');
const synthea = JSON.parse(readFileSync(BUNDLE, 'utf8')).entry.map((e) => e.resource);
const count = (t) => synthea.filter((r) => r.resourceType === t).length;
// The practitioners, organisations and locations its conditional references
// name: `medchain record import` sends one of each along (Synthea keeps them
// in files of their own), each a record of the patient without a date.
const DIRECTORY = ['Practitioner', 'Organization', 'Location'];
const directory = new Set(readFileSync(BUNDLE, 'utf8').match(/"(Practitioner|Organization|Location)\?identifier=[^"]+"/g)).size;

const S = setup({
  prepare: (net) => {
    net.mc('record', 'import', '--key', 'ada.json', '--patient-key', 'patient.json', '--bundle', BUNDLE);
    const subject = { reference: `Patient/${net.pub('patient')}` };
    const add = (name, r) => {
      writeFileSync(join(net.dir, name), JSON.stringify(r));
      net.mc('record', 'add', '--key', 'ada.json', '--patient-key', 'patient.json', '--file', name);
    };
    add('allergy.json', { resourceType: 'AllergyIntolerance', patient: subject, criticality: 'high', recordedDate: '2024-05-02',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '764146007', display: 'Penicillin' }] },
      reaction: [{ manifestation: [{ coding: [{ system: 'http://snomed.info/sct', code: '271807003', display: 'Skin rash' }] }], severity: 'moderate' }] });
    add('inhaler.json', { resourceType: 'MedicationStatement', status: 'active', subject, effectiveDateTime: '2025-01-10',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '745679', display: 'Salbutamol 100 microgram inhaler' }] },
      dosage: [{ text: 'two puffs when needed' }] });
    add('hba1c.json', { resourceType: 'Observation', status: 'final', subject, effectiveDateTime: '2025-11-03T09:30:00Z',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'Haemoglobin A1c' }] },
      valueQuantity: { value: 6.1, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
      referenceRange: [{ low: { value: 4, unit: '%' }, high: { value: 5.6, unit: '%' } }],
      interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H', display: 'High' }] }] });
    add('eczema.json', { resourceType: 'Condition', subject, onsetDateTime: '1996-04-01', recordedDate: '1996-04-02',
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '43116000', display: 'Eczema' }] } });
  },
});

const today = new Date().toISOString().slice(0, 10);

async function openPortal(viewport) {
  const page = await S.newPage(viewport);
  await page.goto('/patient');
  await loadKey(page, S.net.keyFile('patient'));
  await page.locator('#record-list li.decrypted').first().waitFor({ timeout: 120000 });
  await page.locator('#decrypt-note').waitFor({ timeout: 120000 });
  return page;
}

for (const [size, viewport] of SIZES) {
  test(`records in words (${size}): summary first, then a timeline by visit, newest first, filterable`, { timeout: 300000 }, async () => {
    const page = await openPortal(viewport);
    const total = 238 + directory + 5; // the bundle, its directory, four records added here and the consortium's asthma
    assert.equal(await page.locator('#record-list li.decrypted').count(), total);

    // The summary comes before the timeline and says what matters.
    const order = await page.evaluate(() => [document.querySelector('#summary-cards'), document.querySelector('#timeline')]
      .map((e) => e.getBoundingClientRect().top + scrollY));
    assert.ok(order[0] < order[1], 'the summary is above the timeline');
    const sum = (id) => page.locator(`#sum-${id}`).innerText();
    assert.match(await sum('allergies'), /Penicillin — high risk; Skin rash/);
    assert.match(await sum('conditions'), /Asthma/);
    assert.doesNotMatch(await sum('conditions'), /Eczema/, 'a resolved condition is not current');
    assert.match(await sum('medicines'), /Salbutamol 100 microgram inhaler — two puffs when needed/);
    assert.match(await sum('results'), /Haemoglobin A1c: 6\.1 % — normal range 4–5\.6 %; High/);
    assert.match(await sum('results'), /Weight: [\d.]+ kg/, 'Synthea results with their units');
    const flu = synthea.filter((r) => r.resourceType === 'Immunization' && /Influenza/.test(r.vaccineCode.text)).length;
    assert.match(await sum('immunisations'), new RegExp(`Influenza[^\\n]*${flu} doses, the latest on`));

    // Timeline: groups newest first by the records' own clinical dates.
    const groups = await page.locator('#timeline section.visit').evaluateAll((ss) => ss.map((s) => ({
      date: s.dataset.date, enc: s.dataset.encounter,
      items: [...s.querySelectorAll('li.record')].map((li) => ({ date: li.dataset.date, enc: li.dataset.encounter, type: li.dataset.type })) })));
    const ms = groups.map((g) => (g.date ? Date.parse(g.date) : -Infinity));
    for (let i = 1; i < ms.length; i++) assert.ok(ms[i - 1] >= ms[i], `group ${i} (${groups[i].date}) after ${groups[i - 1].date}`);
    assert.deepEqual([groups[0].date, groups[0].items[0].type], ['2026-03-03', 'Condition'], 'the newest record (the 2026 asthma) comes first');
    assert.deepEqual([groups[1].date, groups[1].items[0].type], ['2025-11-03T09:30:00Z', 'Observation'], 'then the 2025 HbA1c');
    // Undated records come last: the Patient and the directory, one group each.
    const undated = groups.slice(groups.length - 1 - directory);
    assert.ok(undated.every((g) => !g.date && g.items.length === 1), 'undated records come last');
    assert.deepEqual(undated.map((g) => g.items[0].type).sort(),
      ['Patient', ...DIRECTORY.flatMap((t) => Array(new Set(readFileSync(BUNDLE, 'utf8')
        .match(new RegExp(`"${t}\\?identifier=[^"]+"`, 'g'))).size).fill(t))].sort());
    const dated = groups.flatMap((g) => g.items).filter((x) => x.type !== 'Patient' && !DIRECTORY.includes(x.type));
    assert.ok(dated.every((x) => x.date && !x.date.startsWith(today)), 'no record is dated by the day it was imported');
    // Every record of a visit group belongs to that visit, and visits hold
    // their observations, reports, claims and vaccinations.
    const visits = groups.filter((g) => g.enc);
    assert.equal(visits.length, count('Encounter'));
    for (const g of visits) for (const it of g.items) assert.equal(it.enc, g.enc);
    assert.ok(visits.some((g) => ['Encounter', 'Immunization', 'Claim', 'ExplanationOfBenefit', 'DiagnosticReport']
      .every((t) => g.items.some((x) => x.type === t))), 'a visit groups its records');
    // A Claim is dated by its billable period, not its import.
    const claim = synthea.find((r) => r.resourceType === 'Claim');
    assert.ok(dated.some((x) => x.type === 'Claim' && x.date === claim.billablePeriod.start));

    // Each record in words, its FHIR one click away.
    const lab = page.locator('#record-list li.decrypted', { hasText: 'Haemoglobin A1c' });
    const words = await lab.locator('dl.facts').innerText();
    assert.match(words, /Result\s+6\.1 %/);
    assert.match(words, /Normal range\s+4–5\.6 %/);
    assert.match(words, /Interpretation\s+High/);
    assert.match(words, /Codes\s+LOINC 4548-4/);
    assert.equal(await lab.locator('pre.record-json').isVisible(), false);
    await lab.locator('summary').click();
    assert.match(await lab.locator('pre.record-json').innerText(), /"code": "4548-4"/);

    // Filter by kind: only vaccinations, all of them.
    await page.locator('#filter-immunisations').check();
    const shown = page.locator('#record-list li.record:not(.hidden)');
    assert.equal(await shown.count(), count('Immunization'));
    assert.deepEqual([...new Set(await shown.evaluateAll((ls) => ls.map((l) => l.dataset.type)))], ['Immunization']);
    assert.match(await page.locator('#filter-status').innerText(), new RegExp(`Showing ${count('Immunization')} of ${total}`));
    await screenShot(page, `records-timeline-vaccinations-${size}`);
    await page.locator('#filter-all').check();
    assert.equal(await shown.count(), total);

    assert.equal(await overflowX(page), 0, 'nothing wider than the screen');
    if (size === 'phone') {
      // Scrolled deep into the timeline, the access log and sharing are one tap away.
      await page.locator('#timeline section.visit').nth(20).scrollIntoViewIfNeeded();
      const nav = page.locator('#portal-nav');
      assert.ok((await nav.boundingBox()).y >= 0 && (await nav.boundingBox()).y < 5, 'the in-page navigation stays at the top');
      await nav.getByRole('link', { name: 'Who looked' }).click();
      await page.waitForFunction(() => { const r = document.querySelector('#log-h').getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight / 2; });
      await screenShot(page, 'records-phone-who-looked');
      await nav.getByRole('link', { name: 'Sharing' }).click();
      await page.waitForFunction(() => { const r = document.querySelector('#share-h').getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight / 2; });
      const navH = (await nav.boundingBox()).height;
      assert.ok((await page.locator('#share-h').boundingBox()).y >= navH - 1, 'the heading is not hidden under the navigation');
    }
    await page.locator('#summary-h').scrollIntoViewIfNeeded();
    await screenShot(page, `records-summary-${size}`);
    await page.locator('#rec-h').evaluate((e) => e.scrollIntoView());
    await screenShot(page, `records-timeline-${size}`);
    assert.deepEqual(page.errors, []);
  });
}

test('the clinician sees the same summary and timeline of what he may read', { timeout: 300000 }, async () => {
  const page = await S.newPage(SIZES[0][1]);
  await page.goto('/clinician');
  await loadKey(page, S.net.keyFile('ada'));
  await page.fill('#patient', S.net.pub('patient'));
  await page.selectOption('#rtype', '*');
  await page.click('#read');
  await page.locator('#summary-cards').waitFor({ timeout: 120000 });
  assert.match(await page.locator('#sum-allergies').innerText(), /Penicillin/);
  assert.match(await page.locator('#sum-results').innerText(), /Haemoglobin A1c: 6\.1 %/);
  assert.match(await page.locator('#sum-medicines').innerText(), /Salbutamol/);
  assert.match(await page.locator('#read-list li.record').first().innerText(), /Condition: Asthma · 3 March 2026/);
  const first = page.locator('#read-list li.record').nth(1);
  assert.match(await first.innerText(), /Haemoglobin A1c: 6\.1 % · 3 November 2025/);
  await first.locator('button[data-open]').click();
  await first.locator('.opened').waitFor();
  await screenShot(page, 'records-clinician');
  assert.deepEqual(page.errors, []);
});
