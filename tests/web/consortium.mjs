// A real local consortium for the browser tests: one validator node with a
// hospital, a manufacturer, a distributor, a pharmacy and a regulator in its
// genesis, members enrolled and a drug journey made through the medchain
// CLI (the same public interfaces a deployment uses). The node process is
// started here and stopped by stop() by its process id.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GTIN = '09506000134352';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function startConsortium(bin) {
  const dir = mkdtempSync(join(tmpdir(), 'medchain-web-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const run = (...args) => execFileSync(bin, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const mc = (...args) => run(...args, '--node', url);
  run('init', '--home', 'node', '--chain-id', 'medchain-web', '--org', "St Mary's Hospital", '--kind', 'hospital',
    '--gln', '5412345000013', '--api', `127.0.0.1:${port}`);
  const orgs = [[2, 'Acme Pharma', 'manufacturer', '0950600000002', 'mfr_admin'],
    [3, 'MedDistrib', 'distributor', '4012345000009', 'dist_admin'],
    [4, 'Corner Pharmacy', 'pharmacy', '5412345000020', 'ph_admin'],
    [5, 'Medicines Agency', 'regulator', '5412345000037', 'reg_admin']];
  for (const [id, name, kind, gln, admin] of orgs) {
    run('genesis', 'add-org', '--home', 'node', '--id', String(id), '--name', name, '--kind', kind, '--gln', gln,
      '--admin-key-out', `${admin}.json`);
  }
  const node = spawn(bin, ['node', '--home', 'node', '--api', `127.0.0.1:${port}`], {
    cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env },
  });
  let log = '';
  node.stderr.on('data', (d) => { log += d; if (log.length > 200000) log = log.slice(-100000); });
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`${url}/v1/status`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (i > 100 || node.exitCode !== null) throw new Error(`the node did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const members = [['ada', 'node/admin_key', 'clinician', 'Dr Ada Lovelace'],
    ['bob', 'node/admin_key', 'clinician', 'Dr Bob Marley'],
    ['aud', 'node/admin_key', 'auditor', 'Ann Auditor'],
    ['mfr', 'mfr_admin', 'manufacturer', 'Line One'],
    ['dist', 'dist_admin', 'distributor', 'Depot'],
    ['ph', 'ph_admin', 'pharmacist', 'Pharmacist Pat'],
    ['reg', 'reg_admin', 'regulator', 'Inspector Reg'],
    ['res', 'node/admin_key', 'researcher', 'Dr Rosalind Franklin']];
  for (const [f, admin, role, name] of members) {
    run('keygen', '--out', `${f}.json`);
    mc('member', 'enroll', '--key', `${admin}.json`, '--member-key', `${f}.json`, '--role', role, '--name', name);
  }
  run('keygen', '--out', 'patient.json');
  mc('patient', 'register', '--key', 'ada.json', '--patient-key', 'patient.json');
  // A condition written through the CLI (the patient page decrypts it), and
  // a study of conditions (k = 1: one patient is a group big enough here).
  writeFileSync(join(dir, 'asthma.json'), JSON.stringify({
    resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system: 'http://snomed.info/sct', code: '195967001', display: 'Asthma' }], text: 'Asthma' },
    subject: { reference: `Patient/${JSON.parse(readFileSync(join(dir, 'patient.json'), 'utf8')).public_key}` },
    recordedDate: '2026-03-03',
  }));
  mc('record', 'add', '--key', 'ada.json', '--patient-key', 'patient.json', '--file', 'asthma.json');
  writeFileSync(join(dir, 'protocol.txt'), 'protocol of ASTHMA-1, version 1\n');
  mc('study', 'register', '--key', 'res.json', '--id', 'ASTHMA-1', '--title', 'Asthma control in adults',
    '--sponsor', "St Mary's Research", '--registry-id', 'NCT01234567', '--protocol-file', 'protocol.txt',
    '--categories', 'problems', '--k', '1', '--primary', 'exacerbations at 52 weeks',
    '--secondary', 'inhaler use at 52 weeks', '--researchers', JSON.parse(readFileSync(join(dir, 'res.json'), 'utf8')).public_key);
  // A drug journey: Acme -> MedDistrib -> Corner Pharmacy; PK1..PK3 at the pharmacy.
  mc('drug', 'commission', '--key', 'mfr.json', '--gtin', GTIN, '--lot', 'LOT2026A', '--expiry', '2030-06-30',
    '--count', '6', '--prefix', 'PK');
  mc('drug', 'ship', '--key', 'mfr.json', '--to', '3', '--gtin', GTIN, '--serials', 'PK1,PK2,PK3,PK4');
  mc('drug', 'receive', '--key', 'dist.json', '--gtin', GTIN, '--serials', 'PK1,PK2,PK3,PK4');
  mc('drug', 'ship', '--key', 'dist.json', '--to', '4', '--gtin', GTIN, '--serials', 'PK1,PK2,PK3');
  mc('drug', 'receive', '--key', 'ph.json', '--gtin', GTIN, '--serials', 'PK1,PK2,PK3');
  run('drug', 'label', '--gtin', GTIN, '--lot', 'LOT2026A', '--serial', 'PK2', '--expiry', '2030-06-30',
    '--base', url, '--png', 'genuine.png', '--svg', 'genuine.svg');
  run('drug', 'label', '--gtin', GTIN, '--lot', 'LOT2026A', '--serial', 'FAKE42', '--expiry', '2030-06-30',
    '--base', url, '--png', 'fake.png', '--svg', 'fake.svg');
  const keyFile = (n) => join(dir, `${n}.json`);
  const pub = (n) => JSON.parse(readFileSync(keyFile(n), 'utf8')).public_key;
  return {
    dir, url, port, mc, keyFile, pub,
    log: () => log,
    async stop() {
      if (node.exitCode === null) {
        node.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { node.kill('SIGKILL'); r(); }, 5000); node.once('exit', () => { clearTimeout(t); r(); }); });
      }
      if (!process.env.MEDCHAIN_WEB_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
