// SMART Backend Services with third-party libraries only: jose (npm) signs
// the client assertion (RFC 7523, EdDSA) with the client's private JWK;
// fhir-kit-client (npm) reads with the bearer token the node issues. Then
// the read's access entry is looked up through the API: it names the
// token's jti, and the token's own entry holds the assertion jose signed.
//
// Run by tests/smart/test_smart_client.c with MEDCHAIN_SMART_BASE (the
// node's origin), MEDCHAIN_SMART_CLIENT_ID, MEDCHAIN_SMART_CLIENT_JWK (the
// private OKP JWK), MEDCHAIN_SMART_EC_CLIENT_ID and MEDCHAIN_SMART_EC_JWK (a
// second client's private P-384 JWK, signing ES384), MEDCHAIN_SMART_OBSERVATION (an Observation the client's
// owner may read) and MEDCHAIN_SMART_PATIENT_KEY.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT, importJWK } from 'jose';
import { Client } from 'fhir-kit-client';
import { r4Validator } from '../fhir/schema.mjs';

const origin = process.env.MEDCHAIN_SMART_BASE;
const clientId = process.env.MEDCHAIN_SMART_CLIENT_ID;
const jwk = JSON.parse(process.env.MEDCHAIN_SMART_CLIENT_JWK || 'null');
const observation = process.env.MEDCHAIN_SMART_OBSERVATION;
const patientKey = process.env.MEDCHAIN_SMART_PATIENT_KEY;
assert.ok(origin && clientId && jwk && observation && patientKey, 'run through tests/smart/test_smart_client.c');

const validator = r4Validator();
function valid(resource) {
  assert.deepEqual(validator.validate(resource), [], `${resource.resourceType} is not valid R4`);
  return resource;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function assertion(tokenUrl, jti, id = clientId, key = jwk, alg = 'EdDSA') {
  const signingKey = await importJWK(key, alg);
  return new SignJWT({})
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuer(id).setSubject(id).setAudience(tokenUrl)
    .setIssuedAt().setExpirationTime('4m').setJti(jti)
    .sign(signingKey);
}

async function tokenRequest(tokenUrl, jwt, scope) {
  const res = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: jwt, scope,
    }),
  });
  return { status: res.status, body: await res.json() };
}

async function committedTx(id) {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${origin}/v1/tx/${id}`);
    if (res.status === 200) {
      const body = await res.json();
      if (body.status === 'committed') return body;
    }
    await sleep(200);
  }
  throw new Error(`transaction ${id} did not commit`);
}

test('jose signs the assertion, fhir-kit-client reads with the token, the ledger names its jti', async () => {
  const config = await (await fetch(`${origin}/fhir/.well-known/smart-configuration`)).json();
  assert.ok(config.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('EdDSA'));
  const tokenUrl = config.token_endpoint;

  const jti = randomUUID();
  const jwt = await assertion(tokenUrl, jti);
  const granted = await tokenRequest(tokenUrl, jwt, 'system/Observation.rs system/Patient.rs');
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  assert.equal(granted.body.token_type, 'bearer');
  assert.ok(granted.body.expires_in > 0 && granted.body.expires_in <= 300);
  assert.equal(granted.body.scope, 'system/Observation.rs system/Patient.rs');

  const fhir = new Client({ baseUrl: `${origin}/fhir`, bearerToken: granted.body.access_token });
  const obs = valid(await fhir.read({ resourceType: 'Observation', id: observation }));
  assert.equal(obs.id, observation);
  const accessTx = Client.httpFor(obs).response.headers.get('x-medchain-access-tx');
  assert.match(accessTx, /^[0-9a-f]{64}$/);
  const bundle = valid(await fhir.search({ resourceType: 'Observation', searchParams: { patient: patientKey } }));
  assert.ok(bundle.total >= 1);

  // The read is on the chain, naming the token's jti and the assertion.
  const entry = await committedTx(accessTx);
  assert.equal(entry.tx.type, 'record_access');
  assert.equal(entry.tx.payload.outcome, 'allowed');
  assert.equal(entry.tx.payload.bearer.jti, jti);
  assert.equal(entry.tx.payload.bearer.client, clientId);
  assert.equal(entry.tx.payload.bearer.assertion_sha256, createHash('sha256').update(jwt).digest('hex'));
  const token = await committedTx(entry.tx.payload.bearer.token_tx);
  assert.equal(token.tx.type, 'smart_token');
  assert.equal(token.tx.payload.assertion, jwt, 'the assertion jose signed is kept on the ledger');

  // The same assertion again is a replay.
  const replay = await tokenRequest(tokenUrl, jwt, 'system/Observation.rs');
  assert.equal(replay.status, 401);
  assert.equal(replay.body.error, 'invalid_client');

  // A token that is not the node's is refused with an OperationOutcome.
  const stranger = new Client({ baseUrl: `${origin}/fhir`, bearerToken: 'not-a-token-of-this-node' });
  await assert.rejects(stranger.read({ resourceType: 'Observation', id: observation }), (e) => {
    assert.equal(e.response.status, 401);
    assert.equal(valid(e.response.data).resourceType, 'OperationOutcome');
    return true;
  });
  console.log(`smart client: token ${granted.body.scope}, read logged in ${accessTx}`);
});

test('an ES384 client: jose signs with its P-384 key, fhir-kit-client reads with the token', async () => {
  const ecId = process.env.MEDCHAIN_SMART_EC_CLIENT_ID;
  const ecJwk = JSON.parse(process.env.MEDCHAIN_SMART_EC_JWK || 'null');
  assert.ok(ecId && ecJwk, 'run through tests/smart/test_smart_client.c');
  const config = await (await fetch(`${origin}/.well-known/smart-configuration`)).json();
  assert.ok(config.token_endpoint_auth_signing_alg_values_supported.includes('ES384'));
  const jti = randomUUID();
  const jwt = await assertion(config.token_endpoint, jti, ecId, ecJwk, 'ES384');
  const granted = await tokenRequest(config.token_endpoint, jwt, 'system/Observation.rs');
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  const fhir = new Client({ baseUrl: `${origin}/fhir`, bearerToken: granted.body.access_token });
  const obs = valid(await fhir.read({ resourceType: 'Observation', id: observation }));
  const accessTx = Client.httpFor(obs).response.headers.get('x-medchain-access-tx');
  const entry = await committedTx(accessTx);
  assert.equal(entry.tx.payload.bearer.jti, jti);
  assert.equal(entry.tx.payload.bearer.client, ecId);
  // The same claims signed by the EdDSA client's key are not this client's.
  const forged = await assertion(config.token_endpoint, randomUUID(), ecId, jwk, 'EdDSA');
  const refused = await tokenRequest(config.token_endpoint, forged, 'system/Observation.rs');
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, 'invalid_client');
});
