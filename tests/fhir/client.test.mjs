// A standard FHIR client, unchanged, against a medchain node: fhir-kit-client
// (npm) imports a transaction Bundle, follows an Observation's
// subject.reference into a search, pages through the results with the
// Bundle's next links and reads a version. The only medchain-specific code
// is the RFC 9421 signature its requestSigner hook adds (ed25519, keyid =
// the account key in hex, covering @method, @target-uri and
// content-digest, with created and a nonce). Every resource received is
// checked with the independent R4 validator (validate.mjs's schema).
//
// Run by tests/fhir/test_fhir_client.c with MEDCHAIN_FHIR_BASE (the
// server's /fhir base), MEDCHAIN_FHIR_CLINICIAN and MEDCHAIN_FHIR_PATIENT
// (32-byte ed25519 seeds in hex) and MEDCHAIN_FHIR_PATIENT_KEY.
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { test } from 'node:test';
import { Client } from 'fhir-kit-client';
import { r4Validator } from './schema.mjs';

const base = process.env.MEDCHAIN_FHIR_BASE;
const patientKey = process.env.MEDCHAIN_FHIR_PATIENT_KEY;
assert.ok(base && patientKey && process.env.MEDCHAIN_FHIR_CLINICIAN && process.env.MEDCHAIN_FHIR_PATIENT,
  'run through tests/fhir/test_fhir_client.c');

// --- the signature: RFC 9421 over the request fhir-kit-client built ---

function keyFromSeed(seedHex) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, keyid: spki.subarray(spki.length - 32).toString('hex') };
}

function signer(key) {
  return async (url, init) => {
    const body = init.body === undefined || init.body === null ? Buffer.alloc(0) : Buffer.from(init.body);
    const digest = `sha-256=:${createHash('sha256').update(body).digest('base64')}:`;
    const created = Math.floor(Date.now() / 1000);
    const params = `("@method" "@target-uri" "content-digest");created=${created};keyid="${key.keyid}";alg="ed25519";nonce="${randomBytes(16).toString('hex')}"`;
    const target = new URL(url).href; // what fetch sends
    const baseText = [`"@method": ${init.method}`, `"@target-uri": ${target}`, `"content-digest": ${digest}`,
      `"@signature-params": ${params}`].join('\n');
    const sig = sign(null, Buffer.from(baseText), key.privateKey).toString('base64');
    init.headers.set('content-digest', digest);
    init.headers.set('signature-input', `sig1=${params}`);
    init.headers.set('signature', `sig1=:${sig}:`);
  };
}

const clinician = new Client({ baseUrl: base, requestSigner: signer(keyFromSeed(process.env.MEDCHAIN_FHIR_CLINICIAN)) });
const patient = new Client({ baseUrl: base, requestSigner: signer(keyFromSeed(process.env.MEDCHAIN_FHIR_PATIENT)) });

// --- what every answer must be ---

const validator = r4Validator();
let validated = 0;
function valid(resource) {
  const errors = validator.validate(resource);
  assert.deepEqual(errors, [], `${resource.resourceType} is not valid R4: ${JSON.stringify(errors.slice(0, 3))}`);
  validated++;
  return resource;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A record is readable once its anchor commits (the node commits on its own).
async function eventually(fn) {
  for (let i = 0; i < 100; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i === 99 || (e.response && e.response.status !== 404)) throw e;
      await sleep(200);
    }
  }
  return undefined;
}

test('a third-party FHIR client imports, follows subject.reference, pages and reads a version', async () => {
  const cs = valid(await patient.capabilityStatement());
  assert.equal(cs.fhirVersion, '4.0.1');

  // A transaction Bundle of seven heart rates, as any FHIR client sends one.
  const entry = [];
  for (let i = 0; i < 7; i++) {
    entry.push({
      fullUrl: `urn:uuid:${crypto.randomUUID()}`,
      resource: {
        resourceType: 'Observation', status: 'final',
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
        subject: { reference: `Patient/${patientKey}` },
        effectiveDateTime: `2024-0${i + 1}-15T08:00:00Z`,
        valueQuantity: { value: 60 + i, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
      },
      request: { method: 'POST', url: 'Observation' },
    });
  }
  const response = valid(await clinician.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry } }));
  assert.equal(response.type, 'transaction-response');
  assert.equal(response.entry.length, 7);
  const [type, id] = response.entry[0].response.location.split('/');
  assert.equal(type, 'Observation');

  // Read one back, then follow its subject.reference into a search.
  const obs = valid(await eventually(() => patient.read({ resourceType: 'Observation', id })));
  assert.equal(obs.valueQuantity.value, 60);
  const subject = obs.subject.reference;
  let page = valid(await patient.search({ resourceType: 'Observation',
    searchParams: { subject, code: 'http://loinc.org|8867-4', _count: 3, _sort: 'date' } }));
  assert.equal(page.total, 7);
  const seen = [];
  let pages = 0;
  while (page) {
    pages++;
    assert.ok(page.entry.length <= 3);
    for (const e of page.entry) {
      valid(e.resource);
      assert.ok(e.fullUrl.startsWith(`${base}/Observation/`), e.fullUrl);
      seen.push(e.resource.effectiveDateTime);
    }
    const next = await patient.nextPage({ bundle: page });
    page = next ? valid(next) : undefined;
    assert.ok(pages < 10);
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen, [...seen].sort(), 'sorted by date across pages');
  assert.equal(new Set(seen).size, 7, 'every page walked, nothing lost or repeated');

  // A version: update with If-Match, then read both versions.
  const amended = { ...obs, status: 'amended' };
  delete amended.meta;
  const updated = valid(await clinician.update({ resourceType: 'Observation', id, body: amended,
    options: { headers: { 'If-Match': 'W/"1"' } } }));
  assert.equal(updated.meta.versionId, '2');
  const v1 = valid(await eventually(() => patient.vread({ resourceType: 'Observation', id, version: '1' })));
  assert.equal(v1.status, 'final');
  const v2 = valid(await eventually(() => patient.vread({ resourceType: 'Observation', id, version: '2' })));
  assert.equal(v2.status, 'amended');
  const history = valid(await patient.history({ resourceType: 'Observation', id }));
  assert.equal(history.type, 'history');
  assert.equal(history.entry.length, 2);

  // A stale If-Match is refused with an OperationOutcome.
  await assert.rejects(clinician.update({ resourceType: 'Observation', id, body: amended,
    options: { headers: { 'If-Match': 'W/"1"' } } }), (e) => {
    assert.equal(e.response.status, 412);
    valid(e.response.data);
    assert.equal(e.response.data.resourceType, 'OperationOutcome');
    return true;
  });
  console.log(`fhir client: ${validated} resources received, all valid R4`);
});
