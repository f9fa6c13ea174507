// Validates FHIR R4 JSON resources with an independent validator: the
// official FHIR R4 JSON schema (schema.mjs).
//
//   node tests/fhir/validate.mjs [--allow-empty] FILE|DIR ...
//
// Every .json file given (or found in a given folder) holds one resource;
// a Bundle is validated with all its entries. Prints one line per invalid
// resource and a closing "validate: N resources, N invalid" line; exits 1
// when any is invalid or (without --allow-empty) nothing was found, 2 on a
// usage error.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { r4Validator } from './schema.mjs';

let args = process.argv.slice(2);
const allowEmpty = args[0] === '--allow-empty';
if (allowEmpty) args = args.slice(1);
if (args.length === 0) {
  console.error('usage: node tests/fhir/validate.mjs FILE|DIR ...');
  process.exit(2);
}
const files = [];
for (const a of args) {
  if (statSync(a).isDirectory()) {
    for (const f of readdirSync(a).sort()) if (f.endsWith('.json')) files.push(join(a, f));
  } else {
    files.push(a);
  }
}
if (files.length === 0 && allowEmpty) {
  console.log('validate: 0 resources, 0 invalid');
  process.exit(0);
}
const validator = r4Validator();
const explain = (errors) =>
  errors.filter((e) => typeof e === 'string' || e.keyword !== 'oneOf').slice(0, 3)
    .map((e) => (typeof e === 'string' ? e : `${e.dataPath || e.instancePath || ''} ${e.message}`));
let invalid = 0;
for (const f of files) {
  let res;
  try {
    res = JSON.parse(readFileSync(f, 'utf8'));
  } catch (e) {
    console.log(`${f}: not JSON: ${e.message}`);
    invalid++;
    continue;
  }
  const errors = validator.validate(res);
  if (errors.length) {
    invalid++;
    let what = explain(errors);
    // A Bundle's error names its entry; the entry's own errors say why.
    if (res.resourceType === 'Bundle' && Array.isArray(res.entry)) {
      for (const [i, e] of res.entry.entries()) {
        if (!e.resource) continue;
        const inner = validator.validate(e.resource);
        if (inner.length) {
          what = [`entry[${i}] ${e.resource.resourceType}: ${explain(inner).join('; ')}`];
          break;
        }
      }
    }
    console.log(`${f}: ${res.resourceType}: ${what.join('; ')}`);
  }
}
console.log(`validate: ${files.length} resources, ${invalid} invalid`);
process.exit(invalid || (files.length === 0 && !allowEmpty) ? 1 : 0);
